"""Unpacking a .zip of scans into a batch folder, within limits.

A zip's headers may claim any size, and a few kilobytes can inflate to terabytes (a zip
bomb), so the bytes actually written are counted and the unpacking stops at the cap: scans
are JPEG, PDF or compressed TIFF and barely shrink in a zip, so a zip never needs to unpack
to more than one upload request could carry (DANGAN_MAX_UPLOAD_BYTES). A refused zip leaves
nothing of itself behind in the folder.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath

from .errors import N_, InvalidInput

#: Files in one zip: a scanner's folder for a large batch, never an inflated directory tree.
MAX_ZIP_ENTRIES = 20_000
_CHUNK = 1 << 20


def safe_relative(name: str, *, drop_first: bool = False) -> Path:
    """A member's path inside the scans folder: no absolute path, no ``..``, parts cut to 255."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    if drop_first and len(parts) > 1:
        parts = parts[1:]
    if not parts:
        raise InvalidInput(N_("文件名无效。"))
    return Path(*[p[:255] for p in parts])


def unpack_scans(zip_path: Path, dest: Path, max_bytes: int) -> int:
    """Unpack ``zip_path`` into ``dest`` (files only); return how many files were written.

    Refuses (InvalidInput, nothing written) a damaged zip, one of more than MAX_ZIP_ENTRIES
    files, or one whose files add up to more than ``max_bytes`` when inflated.
    """
    name = PurePosixPath(zip_path.name).name
    written: list[Path] = []
    total = 0
    try:
        with zipfile.ZipFile(zip_path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            if len(members) > MAX_ZIP_ENTRIES:
                raise InvalidInput(N_("压缩包“%(name)s”中的文件超过 %(max)s 个，请分成几个压缩包上传。"),
                                   name=name, max=MAX_ZIP_ENTRIES)
            for info in members:
                out = dest / safe_relative(info.filename)
                out.parent.mkdir(parents=True, exist_ok=True)
                written.append(out)
                with zf.open(info) as src, open(out, "wb") as dst:
                    while chunk := src.read(_CHUNK):
                        total += len(chunk)
                        if total > max_bytes:
                            raise InvalidInput(
                                N_("压缩包“%(name)s”解开后超过 %(max)s 字节的上限，请分成几个压缩包"
                                   "或直接上传文件。"), name=name, max=max_bytes)
                        dst.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError):
        _remove(written)
        raise InvalidInput(N_("压缩包“%(name)s”已损坏，无法解开。"), name=name) from None
    except (InvalidInput, OSError):
        _remove(written)
        raise
    return len(written)


def _remove(paths: list[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)

