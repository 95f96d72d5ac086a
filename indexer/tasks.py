"""Huey tasks: thin wrappers that call the pipeline with a per-process Archive."""

from __future__ import annotations

import os

from huey import crontab

from service.archive import Archive
from service.config import Settings

from .pipeline import MAX_ATTEMPTS
from .queue import huey

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
_archive: Archive | None = None


def _get_archive() -> Archive:
    global _archive
    if _archive is None:
        _archive = Archive()
    return _archive


#: Hard limit per page task, past Tesseract's own time limit (rendering, storing, indexing).
TASK_TIMEOUT = int(Settings.from_env().ocr_timeout * 2 + 60)


@huey.task(retries=MAX_ATTEMPTS - 1, retry_delay=5, retry_backoff=2.0, timeout=TASK_TIMEOUT,
           name="dangan.ocr_page")
def ocr_page_task(page_id: int) -> str:
    from .pipeline import run_page

    return run_page(_get_archive(), page_id)


@huey.periodic_task(crontab(minute="*"), name="dangan.reconcile")
def reconcile_task() -> int:
    from .pipeline import reconcile

    return reconcile(_get_archive())
