"""Running Huey consumers: the long-lived `dangan worker` and the short one of `ingest --wait`.

Workers are processes (Tesseract and pypdfium2 are CPU-bound and pypdfium2 is not
thread-safe), each limited to one OpenMP thread.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from huey import Huey
from huey.consumer import Consumer, Scheduler

from ..db import dispose_all
from .pipeline import reconcile
from .queue import drop_unprioritised_queue

if TYPE_CHECKING:
    from ..archive import Archive


class _Consumer(Consumer):
    """Huey's consumer with the periodic tasks checked every ``periodic_seconds`` (Huey's
    own scheduler checks once a minute)."""

    def __init__(self, huey: Huey, periodic_seconds: float, **kwargs: Any) -> None:
        self.periodic_seconds = periodic_seconds  # read by _create_scheduler, from __init__
        super().__init__(huey, **kwargs)

    def _create_scheduler(self) -> Scheduler:
        scheduler = super()._create_scheduler()
        scheduler.periodic_task_seconds = self.periodic_seconds
        return scheduler


def _consumer(archive: Archive, workers: int) -> Consumer:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    dispose_all()  # never carry a connection pool into forked workers
    # Periodic tasks are queued twice per reconcile period (at least once a minute, for the
    # purge's crontab), so that every worker sees every period; one of them runs it
    # (service.jobs.periodic).
    return _Consumer(archive.queue.huey, min(60.0, archive.settings.reconcile_interval) / 2,
                     workers=workers, worker_type="process", periodic=True, initial_delay=0.1,
                     backoff=1.15, max_delay=1.0, check_worker_health=True,
                     health_check_interval=2)


def run_consumer(archive: Archive, workers: int) -> None:
    """Run until SIGINT/SIGTERM; first re-queue whatever a crash left behind. The workers
    run `worker_nice` lower than the web (DANGAN_WORKER_NICE): OCR takes the cores searches
    leave idle."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if archive.settings.worker_nice:
        os.nice(archive.settings.worker_nice)
    if drop_unprioritised_queue(archive.queue.huey):  # an upgrade: reconcile queues its pages again
        logging.getLogger("dangan.worker").info("replaced the old Redis queue by the priority one")
    requeued = reconcile(archive, startup=True)
    if requeued:
        logging.getLogger("dangan.worker").info("re-queued %d unfinished pages", requeued)
    _consumer(archive, workers).run()


def run_until(archive: Archive, done: Callable[[], bool], workers: int,
              poll: float = 0.5) -> None:
    """Run a consumer in this process until `done()` is true (for `ingest --wait`)."""
    consumer = _consumer(archive, workers)
    consumer.start()
    try:
        while not done():
            if consumer._signum is not None:  # Ctrl+C / SIGTERM while waiting
                raise KeyboardInterrupt
            time.sleep(poll)
            consumer.check_worker_health()
    finally:
        consumer.stop(graceful=True)
