"""A worker's claim on a page: taken by compare-and-set, held by a lease that its heartbeat
renews, and every write of the page's outcome fenced by it.

Workers on many machines share one queue, and the queue may hand the same page out twice
(a duplicate task queued by the reconcile, a retry racing a re-queue). Reading the page
and then marking it 'running' would let two workers both take it (PostgreSQL's READ
COMMITTED, SQLite's reads outside a transaction); instead one conditional UPDATE moves the
page from the state that was read to 'running' with this worker's name and the next
attempt number, and only the worker whose UPDATE changed the row runs the page.

A worker that dies (SIGKILL, machine lost) cannot say so: its claim carries a lease,
renewed every quarter of ``DANGAN_PAGE_LEASE`` while the page runs; once the lease has
run out any worker's reconcile, on any machine, queues the page again. A worker that
comes back late (its lease lost meanwhile) finds its claim gone when it writes, and its
result is dropped: the writes name the claim (page, worker, attempt), and the objects it
stored have keys of that claim's own, removed when it finds the claim gone
(service.jobs.pipeline.derived_keys).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, CursorResult, Result, func, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..models import ArchiveItem, Page, StoredFile
from ..vocab import OPEN_PAGE_STATUSES, PageStatus

if TYPE_CHECKING:
    from ..archive import Archive

log = logging.getLogger(__name__)


def _new_token() -> None:
    global _token
    _token = secrets.token_hex(4)


_token = ""
_new_token()
os.register_at_fork(after_in_child=_new_token)


def worker_id() -> str:
    """This process as it signs its claims: host, process id and a random token of its own.

    Host and pid alone name a process only while it lives: a worker restarted in a container
    (same host name, the same small pid) or a forked child given a pid used before would
    take a claim its predecessor left for one of its own, alive, and leave the page to wait
    for the lease. The token is drawn again in each new process (a fork too)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_token}"


@dataclass(frozen=True)
class Claim:
    """What a worker holds while it runs a page, and what it needs to run it."""

    page_id: int
    worker: str
    attempt: int
    item_id: int
    n: int
    file_page: int
    turn: int
    key: str
    fmt: str | None
    #: Names this claim's derived objects: the attempt number and a random part (attempts
    #: start again from 0 when a page is reset, so the number alone may repeat).
    tag: str


def _rows(result: Result[Any]) -> int:
    """Rows an UPDATE changed (what a compare-and-set is judged by)."""
    return cast("CursorResult[Any]", result).rowcount


def _lease_end(archive: Archive, now: datetime) -> datetime:
    return now + timedelta(seconds=archive.settings.page_lease)


def legacy_cutoff(archive: Archive, now: datetime) -> datetime:
    """For a page claimed before leases existed: stale once this long after its start."""
    return now - timedelta(seconds=archive.settings.ocr_timeout + 60)


def is_stale(archive: Archive, lease_until: datetime | None, started: datetime | None,
             worker: str | None, now: datetime) -> bool:
    """A running page is stale when its lease ran out, or its worker was a process of this
    host that is gone (found at once, without waiting for the lease)."""
    if lease_until is not None:
        expired = clock.aware(lease_until) < now
    else:
        expired = started is None or clock.aware(started) < legacy_cutoff(archive, now)
    return expired or dead_local_worker(worker, socket.gethostname())


def dead_local_worker(note: str | None, host: str) -> bool:
    """True when ``note`` names a process of this host that no longer exists: its pid is
    gone, or is this process's while the note is not (a process before it had the pid)."""
    if not note or not note.startswith(f"{host}:"):
        return False
    try:
        pid = int(note[len(host) + 1:].split(":", 1)[0])
    except ValueError:
        return False
    if pid == os.getpid():
        return note != worker_id()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(archive: Archive, page_id: int) -> Claim | None:
    """Take the page for this worker, or None when it is settled, held by a live claim, or
    another worker took it first (the compare-and-set changed no row)."""
    now, me = clock.now(), worker_id()
    with archive.session() as s:
        seen = s.execute(select(Page.status, Page.attempts, Page.worker, Page.started_at,
                                Page.lease_until).where(Page.id == page_id)).one_or_none()
        if seen is None or seen.status not in OPEN_PAGE_STATUSES:
            return None
        if seen.status == PageStatus.RUNNING and not is_stale(
                archive, seen.lease_until, seen.started_at, seen.worker, now):
            return None
        taken = s.execute(
            update(Page).where(Page.id == page_id, Page.status == seen.status,
                               Page.attempts == seen.attempts,
                               Page.worker.is_not_distinct_from(seen.worker))
            .values(status=PageStatus.RUNNING, attempts=seen.attempts + 1, started_at=now,
                    worker=me, lease_until=_lease_end(archive, now))
            .execution_options(synchronize_session=False))
        if _rows(taken) != 1:
            return None
        row = s.execute(select(Page.item_id, Page.n, Page.file_page, Page.turn, StoredFile.key,
                               StoredFile.format)
                        .join(StoredFile, StoredFile.id == Page.file_id)
                        .where(Page.id == page_id)).one()
    log.info("page %s claimed by %s (attempt %s)", page_id, me, seen.attempts + 1)
    attempt = seen.attempts + 1
    return Claim(page_id, me, attempt, row.item_id, row.n, row.file_page, row.turn or 0,
                 row.key, row.format, f"a{attempt}-{secrets.token_hex(4)}")


def _held(c: Claim) -> list[ColumnElement[bool]]:
    return [Page.id == c.page_id, Page.status == PageStatus.RUNNING, Page.worker == c.worker,
            Page.attempts == c.attempt]


def renew(archive: Archive, c: Claim) -> bool:
    """Extend the lease; False when the claim is no longer this worker's."""
    with archive.session() as s:
        res = s.execute(update(Page).where(*_held(c))
                        .values(lease_until=_lease_end(archive, clock.now()))
                        .execution_options(synchronize_session=False))
        return _rows(res) == 1


def settle(archive: Archive, c: Claim, values: dict[str, Any]) -> bool | None:
    """Write the page's outcome if the claim still holds; returns None when it does not
    (the result is dropped), else whether the item has no open page left.

    Writers of one item's last pages take the item's row lock after writing their page, so
    exactly one of them sees no open page and finalises the item (on SQLite the database
    lock serialises them the same way).
    """
    with archive.session() as s:
        res = s.execute(update(Page).where(*_held(c)).values(**values)
                        .execution_options(synchronize_session=False))
        if _rows(res) != 1:
            log.warning("page %s: the claim of %s (attempt %s) was lost; its result is dropped",
                        c.page_id, c.worker, c.attempt)
            return None
        lock_item(s, c.item_id)
        open_pages = s.scalar(select(func.count()).select_from(Page).where(
            Page.item_id == c.item_id, Page.status.in_(OPEN_PAGE_STATUSES)))
    return open_pages == 0


def lock_item(s: Session, item_id: int) -> None:
    """Take the item's row for the rest of this transaction: its writers take turns from
    here. An UPDATE that changes nothing, so that SQLite (which has no FOR UPDATE) takes
    its write lock too, and sees what the writer before committed."""
    s.execute(update(ArchiveItem).where(ArchiveItem.id == item_id)
              .values(updated_at=ArchiveItem.updated_at)
              .execution_options(synchronize_session=False))


class Heartbeat:
    """Renews a claim's lease from a thread while the page runs (Tesseract can take minutes).

    ``lost`` is set when a renewal finds the claim gone (another worker took the page after a
    stall, or it was reset by a rescan): the runner then stops before storing anything.
    """

    def __init__(self, archive: Archive, c: Claim) -> None:
        self._archive, self._claim = archive, c
        self._stop = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{c.page_id}", daemon=True)

    def _run(self) -> None:
        every = max(self._archive.settings.page_lease / 4, 0.05)
        while not self._stop.wait(every):
            try:
                if not renew(self._archive, self._claim):
                    self.lost.set()
                    return
            except Exception:  # noqa: BLE001 - a missed beat is retried; the lease has slack
                log.warning("page %s: lease renewal failed", self._claim.page_id, exc_info=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
