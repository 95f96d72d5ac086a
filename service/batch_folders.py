"""The archive's temporary area on disk (``DATA/tmp``): the folders a batch import in the
browser keeps there (``import-<token>``) are made here, and everything in it (those folders,
the temporaries of uploads and exports a crash left) is judged stale here, by one rule: nothing
in it was written within a grace period. The hourly purge removes what is stale; `dangan check
--orphans` lists it (and removes it with ``--delete``).

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
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from . import clock
from .archive import Archive

PREFIX = "import-"
#: Anything in DATA/tmp nobody wrote to for this long is abandoned (a batch folder's rows left
#: unretried, an upload's or export's temporary a crash left behind).
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
    """The newest modification time of the entry or anything in it."""
    newest = path.stat().st_mtime
    if path.is_dir():
        for entry in path.rglob("*"):
            try:
                newest = max(newest, entry.stat().st_mtime)
            except OSError:  # removed meanwhile
                continue
    return newest


def _size(path: Path) -> int:
    if not path.is_dir():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


@dataclass(frozen=True)
class StaleTemp:
    """One entry of ``DATA/tmp`` nothing was written to within the grace."""

    path: Path
    idle_seconds: float
    size: int


def stale(archive: Archive, grace: timedelta = GRACE) -> list[StaleTemp]:
    """The entries of ``DATA/tmp`` nothing was written to within `grace` (the one rule)."""
    base = archive.settings.data_dir / "tmp"
    if not base.is_dir():
        return []
    now = clock.now().timestamp()
    found = []
    for path in sorted(base.iterdir()):
        try:
            idle = now - _last_written(path)
            if idle >= grace.total_seconds():
                found.append(StaleTemp(path, idle, _size(path)))
        except OSError:  # removed meanwhile
            continue
    return found


def remove_stale(entry: StaleTemp) -> bool:
    """Remove one stale entry; True when it is gone."""
    if entry.path.is_dir() and not entry.path.is_symlink():
        shutil.rmtree(entry.path, ignore_errors=True)
    else:
        entry.path.unlink(missing_ok=True)
    return not entry.path.exists()


def sweep(archive: Archive, grace: timedelta = GRACE) -> int:
    """Remove what is stale in ``DATA/tmp``; the number of entries removed."""
    return sum(remove_stale(entry) for entry in stale(archive, grace))
