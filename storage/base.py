"""The object-store interface shared by the local and S3 back ends.

Originals are stored under content-addressed keys (``sha256/ab/cd/<hash>``) and
are never overwritten; derived, rebuildable files use explicit keys that may be
overwritten. Every stored object carries its SHA-256 so fixity can be checked
at any time against the value recorded in the catalogue at ingest.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import inspect
import io
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

#: Read/copy granularity: large enough for throughput, small enough that a
#: multi-GB original never has to fit in memory.
CHUNK_SIZE = 1024 * 1024

#: Longest key accepted; S3 allows 1024 bytes and keys here are ASCII.
MAX_KEY_LENGTH = 1024

CONTENT_PREFIX = "sha256/"
#: Key prefixes that callers may not write to with an explicit key:
#: ``sha256/`` belongs to content addressing (an explicit write there could
#: store bytes whose hash is not the key) and ``tmp/`` holds in-flight uploads.
RESERVED_PREFIXES = (CONTENT_PREFIX, "tmp/")

_KEY_CHARS = re.compile(r"[A-Za-z0-9._/-]+")
_CONTENT_KEY = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredObject:
    """What the store knows about one object: enough to record in the catalogue."""

    key: str
    sha256: str  # lowercase hex
    size: int


@dataclass(frozen=True)
class KeyInfo:
    """One stored object as a listing sees it: no hash, so listing stays cheap."""

    key: str
    size: int
    modified: datetime  # UTC


@dataclass(frozen=True)
class Leftover:
    """Something an interrupted write left behind: a temporary file or an unfinished upload.

    ``kind`` is "temp" (a temporary file or ``tmp/`` object) or "multipart" (an S3
    multipart upload never completed, whose parts the bucket keeps until aborted).
    """

    kind: str
    name: str
    modified: datetime  # UTC
    size: int | None = None
    upload_id: str | None = None


class ObjectNotFound(KeyError):
    """The key does not name a stored object."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no stored object with key {self.key!r}"


class ChecksumMismatch(Exception):
    """The bytes stored (or received) do not hash to what was sent or expected.

    The store removes what it wrote before raising, so a mismatching object is
    never left visible.
    """


class StorageError(OSError):
    """The store failed for a reason outside the caller's request (the caller cannot fix it
    by asking differently). Back-end exceptions are translated into the two kinds below, so
    callers can tell the user what is wrong without knowing the back end. An OSError, as
    the local back end's failures always were, so existing handlers still catch it."""


class StorageUnavailable(StorageError):
    """The store cannot be reached or refuses service (S3 down, a lost mount): retry later."""


class StorageFull(StorageError):
    """The store has no space left (disk full, quota, MinIO's free-space threshold)."""


#: OS errors that mean "no space": a full disk, an exceeded quota.
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: What a store raises on purpose and callers handle themselves: never translated.
_PASS_THROUGH = (ObjectNotFound, ChecksumMismatch, ValueError, StorageError)
#: The interface methods whose back-end failures are translated.
_GUARDED = ("put", "put_if_absent", "open", "stat", "exists", "delete", "list", "verify",
            "cleanup_temp")


def classify_os_error(exc: BaseException) -> StorageError | None:
    """A full disk or quota is StorageFull; any other OS error reaching the caller (a lost
    mount, an I/O error, no permission) is StorageUnavailable."""
    if isinstance(exc, OSError):
        if exc.errno in _NO_SPACE:
            return StorageFull(str(exc))
        return StorageUnavailable(str(exc))
    return None


def _guard(fn: Callable) -> Callable:
    """Wrap an interface method so back-end failures come out as StorageError."""

    def translate(self: ObjectStore, exc: Exception) -> Exception:
        if isinstance(exc, _PASS_THROUGH):
            return exc
        return self.classify_error(exc) or exc

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(self: ObjectStore, *args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from fn(self, *args, **kwargs)
            except Exception as exc:
                typed = translate(self, exc)
                if typed is exc:
                    raise
                raise typed from exc

        gen._storage_guarded = True  # type: ignore[attr-defined]  # a function takes attributes at run time; mypy does not model them
        return gen

    @functools.wraps(fn)
    def call(self: ObjectStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except Exception as exc:
            typed = translate(self, exc)
            if typed is exc:
                raise
            raise typed from exc

    call._storage_guarded = True  # type: ignore[attr-defined]  # a function takes attributes at run time; mypy does not model them
    return call


def content_key(sha256_hex: str) -> str:
    """Return the content-addressed key for a SHA-256 hex digest."""
    h = sha256_hex.lower()
    if not _HEX64.fullmatch(h):
        raise ValueError(f"not a SHA-256 hex digest: {sha256_hex!r}")
    return f"{CONTENT_PREFIX}{h[:2]}/{h[2:4]}/{h}"


def parse_content_key(key: str) -> str | None:
    """Return the digest a content-addressed key names, or None for other keys."""
    m = _CONTENT_KEY.fullmatch(key)
    if m is None or m.group(3)[:2] != m.group(1) or m.group(3)[2:4] != m.group(2):
        return None
    return m.group(3)


def validate_key(key: str) -> str:
    """Reject keys that could escape the store or differ between back ends.

    Allowed: ``[A-Za-z0-9._/-]``, relative, no empty segments, and no segment
    starting with ``.`` (this excludes ``.``/``..`` and keeps the local store's
    hidden ``.tmp``/``.meta`` directories unreachable). Raises ValueError.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("object key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"object key longer than {MAX_KEY_LENGTH} characters")
    if not _KEY_CHARS.fullmatch(key):
        raise ValueError(f"object key {key!r} may only contain A-Z a-z 0-9 . _ / -")
    for segment in key.split("/"):
        if not segment:
            raise ValueError(f"object key {key!r} is absolute or has an empty segment")
        if segment.startswith("."):
            raise ValueError(f"object key {key!r} has a segment starting with '.'")
    return key


def validate_write_key(key: str) -> str:
    """validate_key plus: explicit writes may not target reserved prefixes."""
    validate_key(key)
    for prefix in RESERVED_PREFIXES:
        if key.startswith(prefix):
            raise ValueError(f"object key {key!r} uses the reserved prefix {prefix!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Check a list() prefix: may be empty or end mid-segment, but not escape.

    Segments starting with ``.`` are rejected like in keys (no valid key could
    match them, and locally they would reach the hidden ``.tmp``/``.meta``).
    """
    if prefix == "":
        return prefix
    if not isinstance(prefix, str) or not _KEY_CHARS.fullmatch(prefix):
        raise ValueError(f"prefix {prefix!r} may only contain A-Z a-z 0-9 . _ / -")
    segments = prefix.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if (not segment and not last) or segment.startswith("."):
            raise ValueError(
                f"prefix {prefix!r} is absolute, has an empty segment, "
                "or has a segment starting with '.'"
            )
    return prefix


def check_expected(actual: str, expected: str | None) -> None:
    """Raise ChecksumMismatch if a caller-supplied expected digest differs."""
    if expected is not None and actual != expected.lower():
        raise ChecksumMismatch(f"received bytes hash to {actual}, sender said {expected.lower()}")


class HashingReader:
    """Wrap a binary stream, hashing and counting bytes as they are read.

    Lets an uploader (e.g. minio's multipart writer) pull the data while we
    learn the SHA-256 and size in the same single pass. ``read(n)`` fills up to
    ``n`` bytes even if the source returns short reads, which keeps the
    consumer's buffer assembly linear.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            # Only reached if a consumer insists on reading everything.
            parts = []
            while chunk := self._stream.read(CHUNK_SIZE):
                parts.append(chunk)
            data = b"".join(parts)
        else:
            buf = bytearray()
            while len(buf) < n:
                chunk = self._stream.read(n - len(buf))
                if not chunk:
                    break
                buf += chunk
            data = bytes(buf)
        self._hash.update(data)
        self.size += len(data)
        return data

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def hash_stream(stream: BinaryIO) -> tuple[str, int]:
    """Return (sha256 hex, size) of a stream, reading it in bounded chunks."""
    h = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK_SIZE):
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size


class ObjectStore(ABC):
    """An object store for the archive's electronic set.

    ``put`` with no key stores an original under its content-addressed key;
    the same bytes put twice are stored once and never rewritten. ``put`` with
    an explicit key stores a derived file, replacing any previous version
    atomically. All methods validate keys and raise ValueError for hostile ones.

    Failures of the back end itself (disk full, S3 unreachable) come out of every interface
    method as StorageFull or StorageUnavailable: subclasses say how to recognise them in
    `classify_error`, and the wrapping is done here for every subclass.
    """

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for name in _GUARDED:
            fn = cls.__dict__.get(name)
            if fn is not None and not getattr(fn, "_storage_guarded", False):
                setattr(cls, name, _guard(fn))

    def local_path(self, key: str) -> Path | None:
        """The local file that holds `key`, for readers that need a real path (page
        renderers), or None when the store keeps its objects elsewhere (S3): the caller
        then reads the object through `open`."""
        return None

    def classify_error(self, exc: BaseException) -> StorageError | None:
        """The StorageError this back-end exception means, or None to let it through."""
        return classify_os_error(exc)

    @abstractmethod
    def put(
        self,
        stream: BinaryIO,
        *,
        key: str | None = None,
        content_type: str = "application/octet-stream",
        expected_sha256: str | None = None,
    ) -> StoredObject:
        """Store a stream without reading it wholly into memory.

        ``expected_sha256``, when given, is the digest the sender claims; if
        the received bytes differ, nothing is stored and ChecksumMismatch is
        raised.
        """

    def put_bytes(
        self,
        data: bytes,
        *,
        key: str | None = None,
        content_type: str = "application/octet-stream",
        expected_sha256: str | None = None,
    ) -> StoredObject:
        """Convenience wrapper around put() for small in-memory payloads."""
        return self.put(
            io.BytesIO(data),
            key=key,
            content_type=content_type,
            expected_sha256=expected_sha256,
        )

    @abstractmethod
    def put_if_absent(self, key: str, data: bytes, *,
                      content_type: str = "application/octet-stream") -> bool:
        """Create a small object only if no object has ``key`` yet: True when this call
        created it, False when one was there already (left exactly as it was).

        Atomic between processes and hosts (a local hard link, S3 ``If-None-Match: *``), so
        a record written this way is never overwritten: the audit chain's anchors
        (service.audit_anchor) rely on it.
        """

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Return a readable stream (a context manager); raise ObjectNotFound."""

    def read_bytes(self, key: str) -> bytes:
        """Read a whole object; only for objects known to be small."""
        with self.open(key) as f:
            return f.read()

    @abstractmethod
    def stat(self, key: str) -> StoredObject:
        """Return key, SHA-256 and size without reading the data where possible."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """True if the key names a stored object."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove an object; a missing key is not an error."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Yield stored objects whose keys start with prefix, in key order."""

    def verify(self, key: str, expected_sha256: str) -> bool:
        """Fixity check: re-read and re-hash the stored bytes.

        Deliberately ignores any recorded metadata: the point is to detect
        bit rot or tampering in the bytes themselves.
        """
        try:
            with self.open(key) as f:
                actual, _ = hash_stream(f)
        except ObjectNotFound:
            return False
        return actual == expected_sha256.lower()

    @abstractmethod
    def list_keys(self, prefix: str = "") -> Iterator[KeyInfo]:
        """Yield every object's key, size and modification time, in key order (no hashing)."""

    def last_modified(self, key: str) -> datetime | None:
        """When the object was last written (a repeated put of an original counts), or None
        when there is none: asked right before a delete, not trusted from an older listing."""
        for info in self.list_keys(key):
            if info.key == key:
                return info.modified
        return None

    @abstractmethod
    def leftovers(self) -> Iterator[Leftover]:
        """Yield what interrupted writes left behind (never objects, never live data alone:
        the caller decides by age what is abandoned)."""

    @abstractmethod
    def remove_leftover(self, leftover: Leftover) -> None:
        """Remove one leftover (delete the temporary, abort the unfinished upload)."""

    def cleanup_temp(self, older_than: float = 3600.0) -> int:
        """Remove leftovers of interrupted writes; return how many.

        Only leftovers untouched for ``older_than`` seconds are removed, so
        writes still in progress in other processes are not disturbed.
        """
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        removed = 0
        for leftover in list(self.leftovers()):
            if leftover.modified <= cutoff:
                self.remove_leftover(leftover)
                removed += 1
        return removed

    @abstractmethod
    def describe(self) -> str:
        """Human-readable location for logs and status pages; never secrets."""
