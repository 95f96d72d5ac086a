"""Behaviour every ObjectStore must share; runs against LocalStore and S3Store."""

from __future__ import annotations

import hashlib
import io
import os
import random
import time
from collections.abc import Iterator

import pytest

from storage import (
    ChecksumMismatch,
    LocalStore,
    ObjectNotFound,
    ObjectStore,
    S3Store,
    StoredObject,
    content_key,
)

MiB = 1024 * 1024
EMPTY_SHA = hashlib.sha256(b"").hexdigest()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class GeneratorReader:
    """A file-like reader fed by a generator: it has no length and no seek.

    Records every read size so the test can prove the store never asked for
    the whole stream at once. Returns short reads on purpose.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""
        self.requests: list[int] = []

    def read(self, n: int = -1) -> bytes:
        self.requests.append(n)
        assert n is not None and n > 0, "store tried to read the whole stream"
        if not self._buf:
            self._buf = next(self._chunks, b"")
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def pseudo_random_chunks(total: int, seed: int = 7, chunk: int = 256 * 1024) -> Iterator[bytes]:
    rng = random.Random(seed)
    left = total
    while left:
        n = min(chunk, left)
        yield rng.randbytes(n)
        left -= n


def test_round_trip_content_addressed(store: ObjectStore) -> None:
    data = b"\x00scan page one\xff" * 100
    obj = store.put(io.BytesIO(data), content_type="image/tiff")
    assert obj == StoredObject(content_key(sha(data)), sha(data), len(data))
    assert obj.key == f"sha256/{obj.sha256[:2]}/{obj.sha256[2:4]}/{obj.sha256}"
    assert store.read_bytes(obj.key) == data
    with store.open(obj.key) as f:
        assert f.read(5) == data[:5]
        assert f.read() == data[5:]
    assert store.stat(obj.key) == obj


def test_local_path_is_the_object_or_none(store: ObjectStore) -> None:
    """Page renderers read a local store's file in place; any other store says None."""
    obj = store.put_bytes(b"%PDF-1.4 page", key="derived/1/page-1.pdf")
    path = store.local_path(obj.key)
    if isinstance(store, S3Store):
        assert path is None
    else:
        assert path is not None and path.read_bytes() == b"%PDF-1.4 page"


def test_content_addressed_dedupe(store: ObjectStore, internal_keys) -> None:
    data = b"the same original uploaded twice"
    first = store.put_bytes(data)
    second = store.put_bytes(data)
    assert first == second
    assert list(store.list()) == [first]
    assert internal_keys(store) == []


def test_repeated_original_put_renews_its_time(store: ObjectStore) -> None:
    """A repeated put of an original makes it young again for the orphan sweep, which counts
    its grace from the latest put: an upload retried after a crash records the object its
    first attempt left, and the sweep must not delete it in between (#15.5)."""
    data = b"an original stored by an upload that crashed before recording it"
    first = store.put_bytes(data)
    if isinstance(store, LocalStore):
        os.utime(store.root / first.key, (time.time() - 7200, time.time() - 7200))
    else:
        time.sleep(1.1)  # S3 keeps whole seconds; the object cannot be backdated
    before = next(store.list_keys(first.key)).modified
    assert store.put_bytes(data) == first
    after = next(store.list_keys(first.key)).modified
    assert after > before
    assert store.verify(first.key, first.sha256) and store.stat(first.key) == first


def test_explicit_key_overwrite(store: ObjectStore) -> None:
    key = "derived/42/page-0001.webp"
    v1 = store.put_bytes(b"version one", key=key, content_type="image/webp")
    assert v1 == StoredObject(key, sha(b"version one"), 11)
    v2 = store.put_bytes(b"version two, longer", key=key, content_type="image/webp")
    assert v2 == StoredObject(key, sha(b"version two, longer"), 19)
    assert store.read_bytes(key) == b"version two, longer"
    assert store.stat(key) == v2
    assert [o.key for o in store.list()] == [key]


def test_stat_exists_delete(store: ObjectStore) -> None:
    obj = store.put_bytes(b"abc", key="derived/1/ocr.json")
    assert store.exists(obj.key)
    assert store.stat(obj.key) == obj
    store.delete(obj.key)
    assert not store.exists(obj.key)
    with pytest.raises(ObjectNotFound):
        store.stat(obj.key)
    store.delete(obj.key)  # deleting a missing key is fine
    original = store.put_bytes(b"original")
    store.delete(original.key)
    assert not store.exists(original.key)


def test_key_prefix_is_not_an_object(store: ObjectStore) -> None:
    store.put_bytes(b"x", key="derived/7/page.webp")
    assert not store.exists("derived/7")
    with pytest.raises(ObjectNotFound):
        store.stat("derived/7")
    with pytest.raises(ObjectNotFound):
        store.open("derived/7")
    store.delete("derived/7")  # no-op
    assert store.exists("derived/7/page.webp")


def test_list_with_prefix(store: ObjectStore) -> None:
    keys = {
        "derived/1/a.webp": b"1a",
        "derived/1/b.webp": b"1b",
        "derived/10/c.webp": b"10c",
        "derived/1-x": b"dash",
        "derived/2/a.webp": b"2a",
    }
    for key, data in keys.items():
        store.put_bytes(data, key=key)
    original = store.put_bytes(b"an original")

    everything = list(store.list())
    assert [o.key for o in everything] == sorted([*keys, original.key])
    assert {o.key: o.sha256 for o in everything} == {
        **{k: sha(v) for k, v in keys.items()},
        original.key: original.sha256,
    }
    assert [o.key for o in store.list("derived/1/")] == ["derived/1/a.webp", "derived/1/b.webp"]
    assert [o.key for o in store.list("derived/1")] == [
        "derived/1-x",
        "derived/1/a.webp",
        "derived/1/b.webp",
        "derived/10/c.webp",
    ]
    assert [o.key for o in store.list("sha256/")] == [original.key]
    assert list(store.list("nothing/here/")) == []
    assert next(iter(store.list("derived/2/"))) == StoredObject("derived/2/a.webp", sha(b"2a"), 2)


def test_verify_detects_tampering(store: ObjectStore, tamper) -> None:
    data = b"page of a 1987 personnel file"
    obj = store.put_bytes(data)
    derived = store.put_bytes(b"thumb", key="derived/5/thumb.webp")
    assert store.verify(obj.key, obj.sha256)
    assert store.verify(obj.key, obj.sha256.upper())
    assert store.verify(derived.key, derived.sha256)

    tamper(store, obj.key, b"page of a 1988 personnel file")  # same length, one digit
    tamper(store, derived.key, b"THUMB")
    assert not store.verify(obj.key, obj.sha256)
    assert not store.verify(derived.key, derived.sha256)
    assert not store.verify("sha256/00/00/" + "0" * 64, "0" * 64)


def test_missing_objects(store: ObjectStore) -> None:
    missing = content_key("ab" * 32)
    for call in (store.open, store.stat, store.read_bytes):
        with pytest.raises(ObjectNotFound) as info:
            call(missing)
        assert isinstance(info.value, KeyError)
        assert info.value.key == missing
    assert not store.exists(missing)
    assert not store.verify(missing, "ab" * 32)


HOSTILE_KEYS = [
    "",
    "../etc/passwd",
    "derived/../../etc/passwd",
    "/etc/passwd",
    "derived//x",
    "derived/x/",
    "derived/./x",
    ".tmp/put-123.part",
    ".meta/x.json",
    "derived\\..\\x",
    "C:\\windows",
    "with space",
    "new\nline",
    "nul\x00byte",
    "档案/1",
    "%2e%2e/x",
    "a" * 1025,
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_hostile_keys_rejected(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put_bytes(b"x", key=key)
    with pytest.raises(ValueError):
        store.open(key)
    with pytest.raises(ValueError):
        store.stat(key)
    with pytest.raises(ValueError):
        store.exists(key)
    with pytest.raises(ValueError):
        store.delete(key)
    with pytest.raises(ValueError):
        store.verify(key, EMPTY_SHA)


@pytest.mark.parametrize("key", ["sha256/00/00/" + "0" * 64, "sha256/x", "tmp/upload"])
def test_reserved_prefixes_not_writable(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put_bytes(b"x", key=key)


@pytest.mark.parametrize("prefix", ["../", "/abs", ".tmp/", "derived/../", "a//b", "a b"])
def test_hostile_prefixes_rejected(store: ObjectStore, prefix: str) -> None:
    with pytest.raises(ValueError):
        list(store.list(prefix))


def test_large_stream_is_not_read_at_once(store: ObjectStore) -> None:
    total = 17 * MiB + 12345  # > 16 MiB: several parts at S3's 5 MiB part size
    expected = hashlib.sha256()
    for chunk in pseudo_random_chunks(total):
        expected.update(chunk)

    reader = GeneratorReader(pseudo_random_chunks(total))
    obj = store.put(reader)  # type: ignore[arg-type]  # a reader with read() only, as a socket is
    assert obj.size == total
    assert obj.sha256 == expected.hexdigest()
    assert max(reader.requests) <= 16 * MiB + 1

    assert store.verify(obj.key, expected.hexdigest())
    h = hashlib.sha256()
    with store.open(obj.key) as f:
        while chunk := f.read(MiB):
            h.update(chunk)
    assert h.hexdigest() == expected.hexdigest()

    derived = store.put(GeneratorReader(pseudo_random_chunks(total)), key="derived/big.pdf")  # type: ignore[arg-type]  # read() only
    assert derived == StoredObject("derived/big.pdf", expected.hexdigest(), total)
    assert store.stat("derived/big.pdf") == derived


def test_zero_byte_objects(store: ObjectStore) -> None:
    obj = store.put_bytes(b"")
    assert obj == StoredObject(content_key(EMPTY_SHA), EMPTY_SHA, 0)
    assert store.read_bytes(obj.key) == b""
    assert store.stat(obj.key) == obj
    assert store.verify(obj.key, EMPTY_SHA)
    empty = store.put(io.BytesIO(), key="derived/empty.txt")
    assert empty == StoredObject("derived/empty.txt", EMPTY_SHA, 0)
    assert store.read_bytes("derived/empty.txt") == b""
    assert store.stat("derived/empty.txt") == empty


def test_expected_sha256_mismatch_stores_nothing(store: ObjectStore, internal_keys) -> None:
    data = b"upload whose checksum the client got wrong"
    with pytest.raises(ChecksumMismatch):
        store.put_bytes(data, expected_sha256="00" * 32)
    with pytest.raises(ChecksumMismatch):
        store.put_bytes(data, key="derived/9/x.txt", expected_sha256="00" * 32)
    assert list(store.list()) == []
    assert internal_keys(store) == []
    assert store.put_bytes(data, expected_sha256=sha(data).upper()).sha256 == sha(data)


def test_describe_has_no_secrets(store: ObjectStore, s3_credentials: tuple[str, str]) -> None:
    text = store.describe()
    assert text
    assert s3_credentials[1] not in text
    if isinstance(store, S3Store):
        assert store.bucket in text


def test_put_if_absent_creates_once_and_never_overwrites(store: ObjectStore,
                                                         internal_keys) -> None:
    """The audit anchors' write: the first writer creates the object, later ones (even with
    other bytes) leave it exactly as it was."""
    key = "audit/anchors/00000000000000000007.json"
    assert store.put_if_absent(key, b'{"entries": 7}', content_type="application/json")
    assert not store.put_if_absent(key, b'{"entries": 7, "forged": true}')
    assert store.read_bytes(key) == b'{"entries": 7}'
    assert store.stat(key) == StoredObject(key, sha(b'{"entries": 7}'), 14)
    assert [k.key for k in store.list_keys("audit/")] == [key]
    assert internal_keys(store) == []
    store.delete(key)  # pruning removes old anchors
    assert not store.exists(key)
    assert store.put_if_absent(key, b"again")
    with pytest.raises(ValueError):
        store.put_if_absent("sha256/00/00/x", b"reserved")
    with pytest.raises(ValueError):
        store.put_if_absent("../escape", b"hostile")


def test_put_if_absent_between_racing_writers(store: ObjectStore) -> None:
    """Of many writers racing to create one key, exactly one succeeds and its bytes stay."""
    from concurrent.futures import ThreadPoolExecutor

    key = "audit/anchors/race.json"
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda n: store.put_if_absent(key, f"writer {n}".encode()),
                            range(16)))
    assert won.count(True) == 1
    assert store.read_bytes(key) == f"writer {won.index(True)}".encode()
