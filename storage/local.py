"""Object store on a local directory: the embedded, zero-set-up back end.

Layout under ``root``::

    sha256/ab/cd/<hash>      originals, content-addressed, mode 0o444
    derived/42/page-1.webp   explicit keys, mode 0o644
    .tmp/                    in-flight writes (same filesystem, so rename is atomic)
    .meta/<key>.json         sidecar with the SHA-256 of an explicit-key object

Every write goes to ``.tmp``, is fsynced, then ``os.replace``'d into place and
the directory fsynced, so a crash leaves either the old object or the new one,
never a torn file. Keys cannot start a segment with ``.``, so ``.tmp`` and
``.meta`` are never visible as objects.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import stat as stat_mod
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from .base import (
    CHUNK_SIZE,
    KeyInfo,
    Leftover,
    ObjectNotFound,
    ObjectStore,
    StoredObject,
    check_expected,
    content_key,
    hash_stream,
    parse_content_key,
    validate_key,
    validate_prefix,
    validate_write_key,
)

log = logging.getLogger(__name__)

TMP_DIR = ".tmp"
META_DIR = ".meta"
ORIGINAL_MODE = 0o444
DERIVED_MODE = 0o644


def _fsync_dir(path: Path) -> None:
    """Persist a directory entry change (rename/create); no-op where unsupported."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


#: Errors of the target disk, not of the kernel's copy: they are the store's answer.
_STORE_FAULTS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})


def _copy_in_kernel(src: BinaryIO, dest: BinaryIO) -> bool:
    """Copy the rest of a regular file to ``dest`` without passing it through Python;
    False (``dest`` left empty) when ``src`` is no such file or the kernel cannot.

    An upload's original is a file: copying it in the kernel and hashing the copy costs
    about half of reading, writing and hashing it here (bench/ingest_bench.py).
    """
    copy = getattr(os, "copy_file_range", None)
    try:
        fd, offset = src.fileno(), src.tell()
        regular = stat_mod.S_ISREG(os.fstat(fd).st_mode) and \
            stat_mod.S_ISREG(os.fstat(dest.fileno()).st_mode)  # the kernel copies files only
    except (AttributeError, OSError, ValueError):  # BytesIO and the like: no file
        return False
    if copy is None or not regular:
        return False
    try:
        while n := copy(fd, dest.fileno(), 1 << 30, offset):
            offset += n
    except OSError as exc:
        if exc.errno in _STORE_FAULTS:  # the disk itself: copying in Python cannot help
            raise
        # e.g. an older kernel across filesystems: copy in Python instead
        dest.seek(0)
        dest.truncate()
        return False
    return True


def _copy_hashing(src: BinaryIO, dest: BinaryIO) -> tuple[str, int]:
    """Copy ``src`` to ``dest`` hashing on the way; (sha256, size).

    Read into one reused buffer where the stream allows it: a fresh megabyte object per
    chunk is mapped and zeroed by the kernel each time, which made storing a large original
    cost about twice the CPU of hashing it (bench/ingest_bench.py).
    """
    h = hashlib.sha256()
    size = 0
    readinto = getattr(src, "readinto", None)
    if readinto is None:
        while chunk := src.read(CHUNK_SIZE):
            dest.write(chunk)
            h.update(chunk)
            size += len(chunk)
        return h.hexdigest(), size
    buf = bytearray(CHUNK_SIZE)
    view = memoryview(buf)
    while n := readinto(buf):
        part = view[:n]
        written = 0
        while written < n:  # an unbuffered file may write less than asked
            written += dest.write(part[written:]) or 0
        h.update(part)
        size += n
    return h.hexdigest(), size


class LocalStore(ObjectStore):
    """Content-addressed object store in a directory on a local filesystem."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()
        self._tmp = self.root / TMP_DIR
        self._meta = self.root / META_DIR
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._meta.mkdir(exist_ok=True)

    # -- helpers -----------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def local_path(self, key: str) -> Path | None:
        """The file that holds `key`, for readers that need a real path (page renderers)."""
        return self._path(key)

    def _sidecar(self, key: str) -> Path:
        return self._meta / f"{key}.json"

    def _makedirs(self, path: Path) -> None:
        """Create missing directories under root, fsyncing each new entry's parent."""
        missing: list[Path] = []
        p = path
        while p != self.root and not p.is_dir():
            missing.append(p)
            p = p.parent
        for d in reversed(missing):
            with contextlib.suppress(FileExistsError):
                d.mkdir()
            _fsync_dir(d.parent)

    def _write_sidecar(self, key: str, sha256: str, st: os.stat_result) -> None:
        """Record an explicit key's hash, tied to the file's identity.

        The inode, size and mtime let stat() tell whether the sidecar still
        describes the file (a crash between the two renames, or an in-place
        edit, makes it stale and stat() falls back to hashing).
        """
        record = {
            "sha256": sha256,
            "size": st.st_size,
            "ino": st.st_ino,
            "mtime_ns": st.st_mtime_ns,
        }
        target = self._sidecar(key)
        self._makedirs(target.parent)
        fd, tmp = tempfile.mkstemp(dir=self._tmp, prefix="meta-", suffix=".part")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(target.parent)

    def _read_sidecar(self, key: str, st: os.stat_result) -> str | None:
        try:
            record = json.loads(self._sidecar(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (
            isinstance(record, dict)
            and record.get("size") == st.st_size
            and record.get("ino") == st.st_ino
            and record.get("mtime_ns") == st.st_mtime_ns
            and isinstance(record.get("sha256"), str)
        ):
            return record["sha256"]
        return None

    # -- interface ---------------------------------------------------------

    def put(
        self,
        stream: BinaryIO,
        *,
        key: str | None = None,
        content_type: str = "application/octet-stream",
        expected_sha256: str | None = None,
    ) -> StoredObject:
        """Store a stream; content_type is not kept by the local back end."""
        if key is not None:
            validate_write_key(key)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-", suffix=".part")
        tmp: str | None = tmp_name
        try:
            with os.fdopen(fd, "wb", buffering=0) as f:
                if _copy_in_kernel(stream, f):
                    os.fsync(f.fileno())
                    with open(tmp_name, "rb") as back:  # the stored bytes, from the page cache
                        digest = hashlib.file_digest(back, "sha256").hexdigest()
                        size = os.fstat(back.fileno()).st_size
                else:
                    digest, size = _copy_hashing(stream, f)
                    os.fsync(f.fileno())
            check_expected(digest, expected_sha256)

            if key is None:
                key = content_key(digest)
                final = self.root / key
                if final.is_file():
                    # Originals are immutable: same hash, same bytes, nothing to write. Its
                    # time is renewed all the same: the orphan sweep counts its grace from
                    # the latest put, and the caller is about to record this object.
                    os.utime(final)
                    return StoredObject(key, digest, final.stat().st_size)
                os.chmod(tmp_name, ORIGINAL_MODE)
                self._makedirs(final.parent)
                os.replace(tmp_name, final)
                tmp = None
                _fsync_dir(final.parent)
            else:
                final = self.root / key
                os.chmod(tmp_name, DERIVED_MODE)
                self._makedirs(final.parent)
                self._write_sidecar(key, digest, os.stat(tmp_name))
                os.replace(tmp_name, final)
                tmp = None
                _fsync_dir(final.parent)
            return StoredObject(key, digest, size)
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def put_if_absent(self, key: str, data: bytes, *,
                      content_type: str = "application/octet-stream") -> bool:
        """Written to ``.tmp`` and fsynced, then hard-linked into place: ``link`` fails when
        the name exists, so of two writers exactly one creates the object. Read-only like an
        original; its SHA-256 is computed by `stat` when asked."""
        validate_write_key(key)
        final = self.root / key
        fd, tmp = tempfile.mkstemp(dir=self._tmp, prefix="new-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, ORIGINAL_MODE)
            self._makedirs(final.parent)
            try:
                os.link(tmp, final)
            except FileExistsError:
                return False
            _fsync_dir(final.parent)
            return True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            f = open(path, "rb")  # the caller owns (and closes) the stream
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        if not stat_mod.S_ISREG(os.fstat(f.fileno()).st_mode):
            f.close()
            raise ObjectNotFound(key)
        return f

    def stat(self, key: str) -> StoredObject:
        path = self._path(key)
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        if not stat_mod.S_ISREG(st.st_mode):
            raise ObjectNotFound(key)
        digest = parse_content_key(key) or self._read_sidecar(key, st)
        if digest is None:
            # No usable sidecar: hash the open file and cache the result
            # against that very file's identity, so a racing writer cannot
            # make us record the wrong hash.
            with self.open(key) as f:
                fst = os.fstat(f.fileno())
                digest, _ = hash_stream(f)
            st = fst
            try:
                self._write_sidecar(key, digest, fst)
            except OSError as exc:  # read-only mount etc.: the hash is still right
                log.debug("could not cache sha256 for %s: %s", key, exc)
        return StoredObject(key, digest, st.st_size)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_dir():  # a key prefix, not an object
            return
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            pass
        else:
            _fsync_dir(path.parent)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            os.unlink(self._sidecar(key))

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Yield objects in byte-wise key order (as S3 does), skipping dot-dirs."""
        validate_prefix(prefix)
        base = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
        start = self.root / base if base else self.root
        for key in self._walk(start, base):
            if key.startswith(prefix):
                try:
                    yield self.stat(key)
                except ObjectNotFound:  # deleted while we were listing
                    continue
                except ValueError:  # a stray file whose name is not a valid key
                    log.warning("ignoring file with invalid key name: %s", key)
                    continue

    def _walk(self, directory: Path, key_prefix: str) -> Iterator[str]:
        try:
            with os.scandir(directory) as it:
                entries = [(e.name, e.is_dir(follow_symlinks=False), e) for e in it]
        except (FileNotFoundError, NotADirectoryError):
            return
        # Sort a directory as "name/" so its keys interleave with sibling files
        # exactly as full-key lexicographic order would place them.
        entries.sort(key=lambda t: t[0] + "/" if t[1] else t[0])
        for name, is_dir, entry in entries:
            if name.startswith("."):
                continue
            if is_dir:
                yield from self._walk(Path(entry.path), f"{key_prefix}{name}/")
            elif entry.is_file(follow_symlinks=False):
                yield key_prefix + name

    def list_keys(self, prefix: str = "") -> Iterator[KeyInfo]:
        validate_prefix(prefix)
        base = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
        start = self.root / base if base else self.root
        for key in self._walk(start, base):
            if not key.startswith(prefix):
                continue
            try:
                st = os.stat(self.root / key)
            except FileNotFoundError:  # deleted while we were listing
                continue
            yield KeyInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def leftovers(self) -> Iterator[Leftover]:
        """Temporaries in ``.tmp`` (each write's own file until it is renamed into place)."""
        with os.scandir(self._tmp) as it:
            for entry in it:
                try:
                    if entry.is_file(follow_symlinks=False):
                        st = entry.stat()
                        yield Leftover("temp", entry.name,
                                       datetime.fromtimestamp(st.st_mtime, UTC), st.st_size)
                except FileNotFoundError:
                    continue

    def remove_leftover(self, leftover: Leftover) -> None:
        if leftover.kind != "temp" or "/" in leftover.name or leftover.name.startswith("."):
            raise ValueError(f"not a leftover of this store: {leftover!r}")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp / leftover.name)

    def describe(self) -> str:
        return f"local directory {self.root}"
