"""S3Store specifics, against the in-process moto server."""

from __future__ import annotations

import hashlib
import io

import pytest
from minio import Minio

from storage import ChecksumMismatch, S3Store

MiB = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def raw(moto_endpoint: str, s3_credentials: tuple[str, str]) -> Minio:
    access, secret = s3_credentials
    return Minio(moto_endpoint, access, secret, secure=False, region="us-east-1")


def tmp_objects(raw: Minio, store: S3Store) -> list[str]:
    return [
        o.object_name or "" for o in raw.list_objects(store.bucket, prefix="tmp/", recursive=True)
    ]


def test_bucket_created_once(s3_store: S3Store, raw: Minio, moto_endpoint: str) -> None:
    assert raw.bucket_exists(s3_store.bucket)
    again = S3Store(moto_endpoint, "k", "s", s3_store.bucket, secure=False, region="us-east-1")
    assert again.bucket == s3_store.bucket


def test_metadata_and_content_type_recorded(s3_store: S3Store, raw: Minio) -> None:
    obj = s3_store.put_bytes(b"%PDF-1.7 ...", content_type="application/pdf")
    info = raw.stat_object(s3_store.bucket, obj.key)
    assert info.metadata["x-amz-meta-sha256"] == obj.sha256
    assert info.content_type == "application/pdf"
    assert tmp_objects(raw, s3_store) == []


def test_large_upload_goes_multipart(s3_store: S3Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The final object is a server-side copy, so watch the upload itself."""
    seen: list[str] = []
    client = s3_store._client
    real = client._create_multipart_upload

    def spy(bucket: str, key: str, headers: dict) -> str:
        seen.append(key)
        return real(bucket, key, headers)

    monkeypatch.setattr(client, "_create_multipart_upload", spy)
    data = b"\x01" * (6 * MiB)  # two parts at 5 MiB
    obj = s3_store.put(io.BytesIO(data))
    assert len(seen) == 1 and seen[0].startswith("tmp/")
    assert obj.size == len(data) and obj.sha256 == sha(data)


def test_mismatch_after_upload_deletes_and_raises(
    s3_store: S3Store, raw: Minio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If what lands under the final key is not what we sent, it must not stay."""
    client = s3_store._client
    real_copy = client.copy_object

    def corrupting_copy(bucket: str, key: str, *args: object, **kwargs: object):
        result = real_copy(bucket, key, *args, **kwargs)
        raw.put_object(bucket, key, io.BytesIO(b"garbage"), 7)
        return result

    monkeypatch.setattr(client, "copy_object", corrupting_copy)
    with pytest.raises(ChecksumMismatch):
        s3_store.put_bytes(b"the real bytes", key="derived/1/x.txt")
    with pytest.raises(ChecksumMismatch):
        s3_store.put_bytes(b"the real original")
    monkeypatch.undo()
    assert list(s3_store.list()) == []
    assert tmp_objects(raw, s3_store) == []


def test_failed_upload_leaves_no_temp(s3_store: S3Store, raw: Minio) -> None:
    class Broken:
        def __init__(self) -> None:
            self.sent = 0

        def read(self, n: int) -> bytes:
            if self.sent > 6 * MiB:
                raise OSError("client went away")
            self.sent += n
            return b"\x00" * n

    with pytest.raises(OSError, match="client went away"):
        s3_store.put(Broken())  # type: ignore[arg-type]  # a reader with read() only
    assert tmp_objects(raw, s3_store) == []
    assert list(s3_store.list()) == []


def test_foreign_object_without_metadata_is_hashed(s3_store: S3Store, raw: Minio) -> None:
    raw.put_object(s3_store.bucket, "imported/legacy.tif", io.BytesIO(b"legacy"), 6)
    assert s3_store.stat("imported/legacy.tif").sha256 == sha(b"legacy")
    assert [o.sha256 for o in s3_store.list("imported/")] == [sha(b"legacy")]


def test_list_hides_temp_and_cleanup_removes_stale(s3_store: S3Store, raw: Minio) -> None:
    raw.put_object(s3_store.bucket, "tmp/abandoned", io.BytesIO(b"half"), 4)
    obj = s3_store.put_bytes(b"kept")
    assert [o.key for o in s3_store.list()] == [obj.key]
    assert s3_store.cleanup_temp() == 0  # too young: might be a live upload
    assert s3_store.cleanup_temp(older_than=0) == 1
    assert tmp_objects(raw, s3_store) == []


def test_part_size_bounds(moto_endpoint: str) -> None:
    with pytest.raises(ValueError, match="part_size"):
        S3Store(moto_endpoint, "k", "s", "bucket-x", secure=False, part_size=MiB)
