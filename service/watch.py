"""Hot folder: ingest what a scanner drops into a directory once it is completely written.

A file counts as complete when its size and modification time have not changed for
`settle` seconds (scanners write in chunks) and it is not a temporary/hidden name.
Each file becomes one item; afterwards it moves to `done/` or `failed/` beside the folder,
with a `.txt` note of the reason for failures.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .archive import Archive
from .errors import LINES, DanganError, Listing, about
from .ingest import IngestRequest, ingest

IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".txt")


@dataclass
class WatchState:
    seen: dict[Path, tuple[int, float, float]] = field(default_factory=dict)


def _unique(dest: Path) -> Path:
    n = 1
    candidate = dest
    while candidate.exists():
        candidate = dest.with_name(f"{dest.stem}.{n}{dest.suffix}")
        n += 1
    return candidate


def folders(watch_dir: Path) -> tuple[Path, Path]:
    base = watch_dir.resolve()
    return base.parent / "done", base.parent / "failed"


def scan_once(archive: Archive, watch_dir: Path, template: IngestRequest, state: WatchState,
              *, settle: float = 2.0, now: float | None = None,
              show: Callable[[Listing], str] = str) -> list[dict]:
    """Ingest every settled file in `watch_dir`; returns one report per file handled.

    A failure's reason (a message, in the report's "error") is written beside the file as
    ``show`` renders it: the command line passes its catalogue rendering."""
    now = time.time() if now is None else now
    done_dir, failed_dir = folders(watch_dir)
    reports = []
    for path in sorted(watch_dir.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() in IGNORED_SUFFIXES:
            continue
        st = path.stat()
        sig = (st.st_size, st.st_mtime)
        prev = state.seen.get(path)
        if prev is None or prev[:2] != sig:
            state.seen[path] = (*sig, now)
            continue
        if now - prev[2] < settle:
            continue
        state.seen.pop(path, None)
        req = replace(template, files=[path], title=template.title or path.stem,
                      original_names=[path.name])
        try:
            res = ingest(archive, req)
        except DanganError as exc:
            reasons = [about(f["name"], f["reason"]) for f in exc.details.get("failed_files", [])]
            reports.append(_move(path, failed_dir, {"file": path.name,
                                                    "error": Listing([exc.msg, *reasons], LINES)},
                                 show))
            continue
        reports.append(_move(path, done_dir, {"file": path.name, **res.to_json()}, show))
    return reports


def _move(path: Path, dest_dir: Path, report: dict, show: Callable[[Listing], str]) -> dict:
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = _unique(dest_dir / path.name)
    shutil.move(str(path), dest)
    if "error" in report:
        dest.with_name(dest.name + ".txt").write_text(show(report["error"]) + "\n",
                                                      encoding="utf-8")
    report["moved_to"] = str(dest)
    return report
