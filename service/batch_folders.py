"""The folders a batch import in the browser keeps on disk (``DATA/tmp/import-<token>``):
made here, and swept here once nobody has touched them for a grace period.

A batch folder holds the uploaded sheet and scans, the user it belongs to and the state of
its registration. It outlives the request that made it (the scans arrive one request each;
a failed row is retried with a corrected sheet), so nothing removes it at a request's end
but the sweep, which the hourly purge runs (service.deletion.finalise_due). A folder is in
use while anything in it was written within the grace: a registration running writes its
state after every row, an upload writes each scan.
"""

from __future__ import annotations

import json
import secrets
import shutil
from datetime import timedelta
from pathlib import Path

from . import clock
from .archive import Archive

PREFIX = "import-"
#: A batch folder nobody wrote to for this long is abandoned (its rows left unretried).
GRACE = timedelta(days=7)


def root(archive: Archive) -> Path:
    """The folder batch folders (and the web's other temporaries) live in."""
    base = archive.settings.data_dir / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    return base


def folder(archive: Archive, token: str) -> Path:
    return root(archive) / f"{PREFIX}{token}"


def new_folder(archive: Archive, username: str) -> tuple[str, Path]:
    """A fresh batch folder owned by `username`: its token and path."""
    token = secrets.token_urlsafe(18)
    path = folder(archive, token)
    (path / "scans").mkdir(parents=True)
    (path / "meta.json").write_text(json.dumps({"user": username,
                                                "at": clock.now().timestamp()}))
    return token, path


def remove(path: Path) -> None:
    """Remove a batch folder (an import that failed before it could be used)."""
    shutil.rmtree(path, ignore_errors=True)


def _last_written(path: Path) -> float:
    """The newest modification time of the folder or anything in it."""
    newest = path.stat().st_mtime
    for entry in path.rglob("*"):
        try:
            newest = max(newest, entry.stat().st_mtime)
        except OSError:  # removed meanwhile
            continue
    return newest


def sweep(archive: Archive, grace: timedelta = GRACE) -> int:
    """Remove the batch folders nothing was written to within `grace`; the number removed."""
    base = archive.settings.data_dir / "tmp"
    if not base.is_dir():
        return 0
    cutoff = (clock.now() - grace).timestamp()
    removed = 0
    for path in base.glob(f"{PREFIX}*"):
        try:
            if not path.is_dir() or _last_written(path) > cutoff:
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += not path.exists()
    return removed
