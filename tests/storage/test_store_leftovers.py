"""Listing keys and leftovers of interrupted writes, on both back ends (#8.20 cleanup path)."""

from __future__ import annotations

import datetime as dt
import io
import os
import time

import pytest
from minio import Minio

from storage import LocalStore, ObjectStore, S3Store


def _abandon_write(store: ObjectStore, moto_endpoint: str, credentials: tuple[str, str]) -> None:
    """What a writer killed mid-upload leaves: a temporary (and on S3 an unfinished upload)."""
    if isinstance(store, LocalStore):
        (store.root / ".tmp" / "put-crashed.part").write_bytes(b"half written")
        return
    assert isinstance(store, S3Store)
    raw = Minio(moto_endpoint, *credentials, secure=False, region="us-east-1")
    raw.put_object(store.bucket, "tmp/crashed", io.BytesIO(b"half"), 4)
    upload_id = raw._create_multipart_upload(store.bucket, "tmp/crashed-multipart", {})
    raw._upload_part(store.bucket, "tmp/crashed-multipart", b"x" * (5 * 1024 * 1024), None,
                     upload_id, 1)


def test_list_keys_gives_sizes_and_times_without_hashing(store: ObjectStore) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    a = store.put_bytes(b"original bytes")
    b = store.put_bytes(b"derived", key="derived/1/page-1.webp")
    listed = {k.key: k for k in store.list_keys()}
    assert set(listed) == {a.key, b.key}
    assert listed[a.key].size == a.size and listed[b.key].size == 7
    assert all(before < k.modified <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
               for k in listed.values())
    assert [k.key for k in store.list_keys("derived/")] == [b.key]


def test_leftovers_are_listed_and_only_old_ones_removed(
        store: ObjectStore, moto_endpoint: str, s3_credentials: tuple[str, str]) -> None:
    kept = store.put_bytes(b"a real object")
    _abandon_write(store, moto_endpoint, s3_credentials)
    before = list(store.leftovers())
    kinds = sorted(left.kind for left in before)
    assert kinds == (["temp"] if isinstance(store, LocalStore) else ["multipart", "temp"])
    # Only what is older than the grace period goes (moto dates every multipart upload
    # 2010-11-10, so there it counts as old; the fresh temporary is kept).
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=3600)
    young = sorted((x.kind, x.name) for x in before if x.modified > cutoff)
    assert ("temp", "put-crashed.part" if isinstance(store, LocalStore) else "tmp/crashed") in young
    assert store.cleanup_temp(older_than=3600) == len(before) - len(young)
    assert sorted((x.kind, x.name) for x in store.leftovers()) == young
    assert store.cleanup_temp(older_than=0) == len(young)
    assert list(store.leftovers()) == []
    assert [k.key for k in store.list_keys()] == [kept.key]  # objects untouched


def test_local_leftover_age_is_its_mtime(local_store: LocalStore) -> None:
    path = local_store.root / ".tmp" / "put-old.part"
    path.write_bytes(b"x")
    old = time.time() - 7200
    os.utime(path, (old, old))
    [left] = local_store.leftovers()
    assert abs(left.modified.timestamp() - old) < 2
    assert local_store.cleanup_temp(older_than=3600) == 1
    with pytest.raises(ValueError):
        local_store.remove_leftover(type(left)("temp", "../escape", left.modified))
