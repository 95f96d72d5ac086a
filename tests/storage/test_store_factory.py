"""open_store(): configuration strings to stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import LocalStore, S3Store, open_store
from storage.factory import parse_s3_url


def test_plain_path(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "objects"))
    assert isinstance(store, LocalStore)
    assert store.root == (tmp_path / "objects").resolve()


def test_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("data/objects")
    assert isinstance(store, LocalStore)
    assert store.root == (tmp_path / "data" / "objects").resolve()


def test_file_urls(tmp_path: Path) -> None:
    for url in (f"file://{tmp_path}/a", f"file://localhost{tmp_path}/b", f"FILE://{tmp_path}/c"):
        store = open_store(url)
        assert isinstance(store, LocalStore)
        assert store.root.parent == tmp_path.resolve()
    spaced = open_store(f"file://{tmp_path}/with%20space")
    assert isinstance(spaced, LocalStore) and spaced.root.name == "with space"


def test_parse_s3_url_decodes_credentials() -> None:
    kwargs = parse_s3_url(
        "s3://AK%2FID:se%40cr%3At%2Bkey@minio.internal:9000/archive"
        "?secure=false&region=us-east-1&part_size=8388608"
    )
    assert kwargs == {
        "endpoint": "minio.internal:9000",
        "access_key": "AK/ID",
        "secret_key": "se@cr:t+key",
        "bucket": "archive",
        "secure": False,
        "region": "us-east-1",
        "part_size": 8388608,
    }
    assert parse_s3_url("s3://a:b@s3.example.com/bkt/") == {
        "endpoint": "s3.example.com",
        "access_key": "a",
        "secret_key": "b",
        "bucket": "bkt",
    }


def test_open_store_s3(moto_endpoint: str) -> None:
    store = open_store(
        f"s3://AK:SE%2FCRET@{moto_endpoint}/factory-test?secure=false&region=us-east-1"
    )
    assert isinstance(store, S3Store)
    assert store.bucket == "factory-test" and store.secure is False
    obj = store.put_bytes(b"via factory")
    assert store.read_bytes(obj.key) == b"via factory"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "http://example.com/objects",
        "ftp://host/x",
        "file:relative/path",
        "file://otherhost/path",
        "file:///abs?x=1",
        "s3://host:9000/bucket",
        "s3://AK@host:9000/bucket",
        "s3://AK:@host:9000/bucket",
        "s3://:hunter2@host:9000/bucket",
        "s3://AK:hunter2@/bucket",
        "s3://AK:hunter2@host:9000",
        "s3://AK:hunter2@host:9000/",
        "s3://AK:hunter2@host:9000/bucket/extra",
        "s3://AK:hunter2@host:notaport/bucket",
        "s3://AK:hunter2@host:9000/bucket?secure=maybe",
        "s3://AK:hunter2@host:9000/bucket?sekure=false",
        "s3://AK:hunter2@host:9000/bucket?region=",
        "s3://AK:hunter2@host:9000/bucket?part_size=16MiB",
        "s3://AK:hunter2@host:9000/bucket?secure=true&secure=false",
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError, match="expected") as info:
        open_store(url)
    assert "hunter2" not in str(info.value)
