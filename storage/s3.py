"""Object store on S3 or MinIO: the production back end.

Upload strategy: every put streams to a unique temporary key ``tmp/<uuid>``
with ``length=-1`` (multipart above ``part_size``) while hashing the stream,
then server-side copies it to the final key with the SHA-256 in user metadata
(``x-amz-meta-sha256``) and deletes the temporary. Why not spool to a local
temp file first? Originals can be several GB and the production web/worker
containers should not need that much scratch disk, nor pay for writing and
re-reading it; the copy happens inside the object store instead. The copy also
makes explicit-key overwrites atomic: readers see the old object or the new
one with its metadata, never a half-uploaded one. The cost: a repeated
content-addressed put still transfers the bytes once (to ``tmp/``) before the
store can tell it already has them.

Transport integrity per request is already covered by minio-py (signed
``x-amz-content-sha256`` over HTTP, ``Content-MD5`` over HTTPS); after the
copy we stat the final object and check size and recorded hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO

from minio import Minio
from minio.commonconfig import REPLACE, CopySource
from minio.error import MinioException, S3Error
from minio.helpers import DictType
from urllib3.exceptions import HTTPError as Urllib3Error

from .base import (
    ChecksumMismatch,
    HashingReader,
    KeyInfo,
    Leftover,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StorageFull,
    StorageUnavailable,
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

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB  # S3's minimum for all but the last part
MAX_PART_SIZE = 5 * 1024 * MiB
TMP_PREFIX = "tmp/"
SHA256_META = "x-amz-meta-sha256"
_NOT_FOUND = {"NoSuchKey", "NotFound", "ResourceNotFound"}
#: A conditional create refused: the key exists (412), or another such write is under way (409).
_EXISTS = {"PreconditionFailed", "ConditionalRequestConflict"}
#: Error codes meaning "no space": MinIO below its free-drive threshold, a bucket quota.
_FULL = {"XMinioStorageFull", "XMinioAdminBucketQuotaExceeded", "QuotaExceeded"}


class _S3Reader(io.RawIOBase):
    """Raw stream over a minio GET response that returns the connection on close."""

    def __init__(self, response) -> None:  # urllib3.BaseHTTPResponse
        self._response = response

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:  # any writable buffer
        data = self._response.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            try:
                self._response.close()
                self._response.release_conn()
            finally:
                super().close()


class S3Store(ObjectStore):
    """Object store in one S3/MinIO bucket, created on first use if missing.

    ``part_size`` bounds memory: minio-py buffers about one part per parallel
    upload thread (3) plus one being read. With unknown length an object can
    have at most 10,000 parts, so the largest object is ``10_000 * part_size``
    (156 GiB at the default 16 MiB).
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = True,
        region: str | None = None,
        part_size: int = 16 * MiB,
    ) -> None:
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError(f"part_size must be between 5 MiB and 5 GiB, got {part_size}")
        self.endpoint = endpoint
        self.bucket = bucket
        self.secure = secure
        self.region = region
        self.part_size = part_size
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
        )
        try:
            self._ensure_bucket()
        except Exception as exc:
            typed = self.classify_error(exc)
            if typed is None:
                raise
            raise typed from exc

    def _ensure_bucket(self) -> None:
        if self._client.bucket_exists(self.bucket):
            return
        try:
            self._client.make_bucket(self.bucket, location=self.region)
        except S3Error as exc:  # another process created it first
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    # -- helpers -----------------------------------------------------------

    def _stat_raw(self, key: str):
        try:
            return self._client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                raise ObjectNotFound(key) from None
            raise

    def _remove_quietly(self, key: str) -> None:
        """Best-effort delete used in cleanup paths, never masking the real error."""
        try:
            self._client.remove_object(self.bucket, key)
        except Exception as exc:  # cleanup must never mask the real error
            log.warning("could not remove %s from bucket %s: %s", key, self.bucket, exc)

    def classify_error(self, exc: BaseException) -> StorageError | None:
        """S3/MinIO refusals and network failures (refused, reset, timed out, 5xx)."""
        if isinstance(exc, S3Error):
            kind = StorageFull if exc.code in _FULL else StorageUnavailable
            return kind(f"{self.describe()}: {exc.code}: {exc.message}")
        if isinstance(exc, (MinioException, Urllib3Error, OSError)):
            return StorageUnavailable(f"{self.describe()}: {exc}")
        return None

    @staticmethod
    def _meta_sha(obj) -> str | None:
        value = (obj.metadata or {}).get(SHA256_META)
        return value.lower() if isinstance(value, str) else None

    # -- interface ---------------------------------------------------------

    def put(
        self,
        stream: BinaryIO,
        *,
        key: str | None = None,
        content_type: str = "application/octet-stream",
        expected_sha256: str | None = None,
    ) -> StoredObject:
        if key is not None:
            validate_write_key(key)
        tmp_key = f"{TMP_PREFIX}{uuid.uuid4().hex}"
        reader = HashingReader(stream)
        try:
            self._client.put_object(
                self.bucket,
                tmp_key,
                reader,  # type: ignore[arg-type]  # has read(), which is all minio needs
                length=-1,
                part_size=self.part_size,
                content_type=content_type,
            )
            digest, size = reader.hexdigest(), reader.size
            check_expected(digest, expected_sha256)
            tmp_size = self._stat_raw(tmp_key).size
            if tmp_size != size:
                raise ChecksumMismatch(f"sent {size} bytes but the store holds {tmp_size}")

            if key is None:
                key = content_key(digest)
                try:
                    present = self.stat(key)  # immutable original already present
                except ObjectNotFound:
                    pass
                else:
                    self._renew(key, content_type, digest)
                    return present

            self._client.copy_object(
                self.bucket,
                key,
                CopySource(self.bucket, tmp_key),
                metadata={"Content-Type": content_type, "sha256": digest},
                metadata_directive=REPLACE,
            )
            final = self._stat_raw(key)
            if final.size != size or self._meta_sha(final) != digest:
                self._remove_quietly(key)
                raise ChecksumMismatch(
                    f"{key}: expected {size} bytes sha256 {digest}, store has "
                    f"{final.size} bytes sha256 {self._meta_sha(final)}"
                )
            return StoredObject(key, digest, size)
        finally:
            self._remove_quietly(tmp_key)

    def _renew(self, key: str, content_type: str, digest: str) -> None:
        """Renew an object's modification time by copying it onto itself (its bytes and
        hash unchanged): the orphan sweep counts its grace from the latest put, and the
        caller of a repeated put is about to record the object."""
        self._client.copy_object(
            self.bucket, key, CopySource(self.bucket, key),
            metadata={"Content-Type": content_type, "sha256": digest},
            metadata_directive=REPLACE,
        )

    def put_if_absent(self, key: str, data: bytes, *,
                      content_type: str = "application/octet-stream") -> bool:
        """One PUT with ``If-None-Match: *`` (S3 and MinIO refuse it with 412 when the key
        exists; 409 when a concurrent conditional write to it is in progress). minio-py's
        put_object sends no conditional headers, so its single-request PutObject is called
        (as for the multipart listing above)."""
        validate_write_key(key)
        digest = hashlib.sha256(data).hexdigest()
        headers: DictType = {"Content-Type": content_type, "If-None-Match": "*",
                             SHA256_META: digest}
        try:
            self._client._put_object(self.bucket, key, data, headers=headers)
        except S3Error as exc:
            if exc.code in _EXISTS:
                return False
            raise
        return True

    def open(self, key: str) -> BinaryIO:
        validate_key(key)
        try:
            response = self._client.get_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                raise ObjectNotFound(key) from None
            raise
        return io.BufferedReader(_S3Reader(response), buffer_size=1024 * 1024)

    def stat(self, key: str) -> StoredObject:
        """Hash from metadata, else from a content key, else by reading the object."""
        validate_key(key)
        obj = self._stat_raw(key)
        digest = self._meta_sha(obj) or parse_content_key(key)
        if digest is None:  # written by something other than this store
            with self.open(key) as f:
                digest, _ = hash_stream(f)
        return StoredObject(key, digest, int(obj.size or 0))

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            self._stat_raw(key)
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        validate_key(key)
        self._client.remove_object(self.bucket, key)  # S3 treats a missing key as success

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Yield objects in key order; costs one HEAD per non-content-addressed key."""
        validate_prefix(prefix)
        for obj in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
            key = obj.object_name
            if not key or key.startswith(TMP_PREFIX):
                continue
            try:
                validate_key(key)
            except ValueError:
                log.warning("ignoring object with invalid key name: %r", key)
                continue
            digest = parse_content_key(key)
            if digest is not None:
                yield StoredObject(key, digest, int(obj.size or 0))
                continue
            try:
                yield self.stat(key)
            except ObjectNotFound:  # deleted while we were listing
                continue

    def list_keys(self, prefix: str = "") -> Iterator[KeyInfo]:
        validate_prefix(prefix)
        for obj in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
            key = obj.object_name
            if not key or key.startswith(TMP_PREFIX):
                continue
            modified = obj.last_modified or dt.datetime.now(dt.UTC)
            yield KeyInfo(key, int(obj.size or 0), modified)

    def leftovers(self) -> Iterator[Leftover]:
        """``tmp/`` objects of crashed writers and multipart uploads never completed."""
        for obj in self._client.list_objects(self.bucket, prefix=TMP_PREFIX, recursive=True):
            if obj.object_name:
                yield Leftover("temp", obj.object_name,
                               obj.last_modified or dt.datetime.now(dt.UTC), obj.size)
        key_marker = None
        while True:
            # minio-py 7.2 offers ListMultipartUploads / AbortMultipartUpload only as these
            # client methods (its old list_incomplete_uploads is gone).
            page = self._client._list_multipart_uploads(self.bucket, key_marker=key_marker)
            for upload in page.uploads:
                yield Leftover("multipart", upload.object_name,
                               upload.initiated_time or dt.datetime.now(dt.UTC),
                               upload_id=upload.upload_id)
            if not page.is_truncated or not page.next_key_marker:
                break
            key_marker = page.next_key_marker

    def remove_leftover(self, leftover: Leftover) -> None:
        if leftover.kind == "temp" and leftover.name.startswith(TMP_PREFIX):
            self._client.remove_object(self.bucket, leftover.name)
        elif leftover.kind == "multipart" and leftover.upload_id:
            self._client._abort_multipart_upload(self.bucket, leftover.name, leftover.upload_id)
        else:
            raise ValueError(f"not a leftover of this store: {leftover!r}")

    def describe(self) -> str:
        scheme = "https" if self.secure else "http"
        return f"S3 bucket {self.bucket} at {scheme}://{self.endpoint}"
