"""The job queue: Huey on a local SQLite file (embedded) or on Redis (production).

Huey is the queue library; we only pick its storage from the settings' queue URL. The
archive builds one `JobQueue` from its settings the first time it needs it (never at
import), with the page and reconcile tasks registered on that queue's Huey. Both storages
honour task priorities (SQLite orders by priority; Redis uses Huey's priority storage),
which the page tasks use so that one huge upload cannot starve a small one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from huey import Huey, PriorityRedisHuey, SqliteHuey, crontab

from ..audit_origin import origin, worker_origin
from ..config import Settings
from .periodic import claim_period
from .pipeline import MAX_ATTEMPTS, PRIORITY_TOP, page_priority, reconcile, run_page

if TYPE_CHECKING:
    from ..archive import Archive


def build_huey(settings: Settings) -> Huey:
    url = settings.queue_url
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(settings.queue_name, filename=path, results=False, timeout=60)
    if url.startswith(("redis://", "rediss://", "unix://")):
        # The priority storage (a sorted set, Redis >= 5): page tasks carry priorities.
        return PriorityRedisHuey(settings.queue_name, url=url, results=False)
    if url == "immediate":
        return Huey(settings.queue_name, immediate=True, results=False)
    raise ValueError(f"DANGAN_QUEUE_URL must be sqlite:///path or redis://host:port/db, got {url!r}")


def drop_unprioritised_queue(h: Huey) -> bool:
    """Remove a Redis queue left as a plain list by an earlier version (before priorities).

    The priority storage keeps the queue as a sorted set under the same key, so an old list
    would make every dequeue fail with WRONGTYPE. Its page tasks are not lost: the worker's
    start-up reconcile queues every pending page again. Returns True when one was removed.
    """
    storage = h.storage
    if not isinstance(h, PriorityRedisHuey):
        return False
    if storage.conn.type(storage.queue_key) in (b"list", "list"):
        storage.conn.delete(storage.queue_key)
        return True
    return False


def task_timeout(settings: Settings) -> int:
    """Hard limit per page task, past Tesseract's own time limit (rendering, storing, indexing)."""
    return int(settings.ocr_timeout * 2 + 60)


#: The periodic tasks run before any page task: a busy queue must not starve the reconcile.
PERIODIC_PRIORITY = PRIORITY_TOP + 1
#: How many queued and scheduled tasks the reconcile reads to find pending pages whose task
#: is lost; a longer queue is not read (its pages are found once it is shorter).
QUEUE_PEEK = 1000
#: The purge's period: hourly (at :07 by its crontab), once across all workers.
PURGE_PERIOD = 3600.0


def _always(_: object) -> bool:
    return True


class JobQueue:
    """One archive's Huey with its tasks: a page's OCR, the periodic reconcile and purge.

    The tasks run in worker processes, each with its own `Archive` built by
    `make_archive` on its first task (a forked worker must open its own connections).
    """

    def __init__(self, settings: Settings, make_archive: Callable[[], Archive]) -> None:
        self.settings = settings
        self.huey = build_huey(settings)
        self._make_archive = make_archive
        self._archive: Archive | None = None
        self._pid = 0
        self.ocr_page = self.huey.task(
            retries=MAX_ATTEMPTS - 1, retry_delay=5, retry_backoff=2.0,
            timeout=task_timeout(settings), name="dangan.ocr_page")(self._ocr_page)
        # Every worker's scheduler queues these (each half period, service.jobs.worker);
        # the catalogue lets one run per period (service.jobs.periodic).
        self.reconcile = self.huey.periodic_task(
            _always, name="dangan.reconcile", priority=PERIODIC_PRIORITY)(self._reconcile)
        #: Deletions whose 30-day hold has ended become final (service.deletion), hourly.
        self.purge = self.huey.periodic_task(
            crontab(minute="7"), name="dangan.purge", priority=PERIODIC_PRIORITY)(self._purge)

    def _worker_archive(self) -> Archive:
        if self._archive is None or self._pid != os.getpid():
            os.environ.setdefault("OMP_THREAD_LIMIT", "1")
            self._archive, self._pid = self._make_archive(), os.getpid()
        return self._archive

    def _ocr_page(self, page_id: int) -> str:
        with origin(worker_origin()):  # what a task audits says it came from a worker
            return run_page(self._worker_archive(), page_id)

    def _reconcile(self) -> int:
        archive = self._worker_archive()
        if not claim_period(archive, "reconcile", self.settings.reconcile_interval):
            return 0  # another worker runs this period's
        with origin(worker_origin()):
            return reconcile(archive)

    def _purge(self) -> dict:
        from ..deletion import finalise_due  # it builds on the archive, which builds this queue
        archive = self._worker_archive()
        if not claim_period(archive, "purge", PURGE_PERIOD):
            return {"skipped": "another worker runs this hour's purge"}
        return finalise_due(archive)

    def queued_pages(self, limit: int = QUEUE_PEEK) -> set[int] | None:
        """The pages whose task waits in the queue or its retry schedule, or None when more
        than ``limit`` tasks wait there (too many to read each period)."""
        h = self.huey
        if h.immediate or h.pending_count() + h.scheduled_count() > limit:
            return None
        page_task = self.ocr_page.task_class
        return {t.args[0] for t in [*h.pending(limit), *h.scheduled(limit)]
                if isinstance(t, page_task) and t.args}

    def enqueue_pages(self, pages: Mapping[int, int]) -> None:
        """Queue a task for each page (page id -> its position ``n`` in its item)."""
        for pid, n in pages.items():
            self.ocr_page(pid, priority=page_priority(n))
