"""Fixtures for the object-store tests: a LocalStore and an S3Store on moto."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from minio import Minio

from storage import LocalStore, ObjectStore, S3Store

# Fake credentials: moto accepts anything. Distinct values so tests can check
# that neither leaks into describe() or error messages.
ACCESS_KEY = "fake-access-key"
SECRET_KEY = "fake-secret-key-do-not-print"
REGION = "us-east-1"
MiB = 1024 * 1024
S3_PART_SIZE = 5 * MiB  # S3 minimum; keeps the multipart test quick


def new_bucket_name() -> str:
    return f"test-{uuid.uuid4().hex[:20]}"


def make_s3_store(endpoint: str, bucket: str | None = None) -> S3Store:
    return S3Store(
        endpoint,
        ACCESS_KEY,
        SECRET_KEY,
        bucket or new_bucket_name(),
        secure=False,
        region=REGION,
        part_size=S3_PART_SIZE,
    )


def raw_client(endpoint: str) -> Minio:
    """A minio client that bypasses the store, for tampering and inspection."""
    return Minio(endpoint, ACCESS_KEY, SECRET_KEY, secure=False, region=REGION)


@pytest.fixture
def s3_credentials() -> tuple[str, str]:
    """The fake (access, secret) pair the S3 stores use."""
    return ACCESS_KEY, SECRET_KEY


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "objects")


@pytest.fixture
def s3_store(moto_endpoint: str) -> S3Store:
    return make_s3_store(moto_endpoint)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    """Each contract test runs once per back end."""
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def tamper(moto_endpoint: str) -> Callable[[ObjectStore, str, bytes], None]:
    """Replace an object's bytes behind the store's back, keeping its metadata.

    Simulates bit rot or tampering: only a fixity check that re-reads the
    bytes can notice.
    """

    def _tamper(store: ObjectStore, key: str, data: bytes) -> None:
        if isinstance(store, LocalStore):
            path = store.root / key
            os.chmod(path, 0o644)
            path.write_bytes(data)
        elif isinstance(store, S3Store):
            client = raw_client(moto_endpoint)
            old = client.stat_object(store.bucket, key)
            client.put_object(
                store.bucket,
                key,
                io.BytesIO(data),
                len(data),
                metadata={"sha256": old.metadata["x-amz-meta-sha256"]},
            )
        else:  # pragma: no cover
            raise TypeError(type(store))

    return _tamper


@pytest.fixture
def internal_keys(moto_endpoint: str) -> Callable[[ObjectStore], list[str]]:
    """Everything physically stored that is not an object: temporaries."""

    def _internal(store: ObjectStore) -> list[str]:
        if isinstance(store, LocalStore):
            return sorted(p.name for p in (store.root / ".tmp").iterdir())
        if isinstance(store, S3Store):
            client = raw_client(moto_endpoint)
            return sorted(
                o.object_name or ""
                for o in client.list_objects(store.bucket, prefix="tmp/", recursive=True)
            )
        raise TypeError(type(store))  # pragma: no cover

    return _internal
