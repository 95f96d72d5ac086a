"""LocalStore specifics: crash safety, file modes, sidecars, on-disk layout."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import pytest

from storage import ChecksumMismatch, LocalStore, content_key


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def temp_files(store: LocalStore) -> list[Path]:
    return sorted((store.root / ".tmp").iterdir())


def test_layout_and_modes(local_store: LocalStore) -> None:
    original = local_store.put_bytes(b"original scan")
    derived = local_store.put_bytes(b"thumbnail", key="derived/3/thumb.webp")
    path = (
        local_store.root / "sha256" / original.sha256[:2] / original.sha256[2:4] / original.sha256
    )
    assert path.read_bytes() == b"original scan"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert stat.S_IMODE((local_store.root / derived.key).stat().st_mode) == 0o644
    assert "local directory" in local_store.describe()
    assert str(local_store.root) in local_store.describe()


def test_dedupe_does_not_rewrite_the_original(local_store: LocalStore) -> None:
    obj = local_store.put_bytes(b"immutable")
    before = (local_store.root / obj.key).stat()
    assert local_store.put_bytes(b"immutable") == obj
    after = (local_store.root / obj.key).stat()
    assert (before.st_ino, before.st_size) == (after.st_ino, after.st_size)  # not rewritten
    # only its time renewed, for the orphan sweep's grace (test_store_contract.py)
    assert after.st_mtime_ns >= before.st_mtime_ns
    assert (local_store.root / obj.key).read_bytes() == b"immutable"


def test_failed_rename_leaves_nothing_visible(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(src: object, dst: object) -> None:
        raise OSError("simulated crash during rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        local_store.put_bytes(b"never lands")
    with pytest.raises(OSError, match="simulated crash"):
        local_store.put_bytes(b"never lands either", key="derived/1/x.txt")
    monkeypatch.undo()

    assert not local_store.exists(content_key(sha(b"never lands")))
    assert not local_store.exists("derived/1/x.txt")
    assert list(local_store.list()) == []
    assert temp_files(local_store) == []  # the failed write cleaned up after itself


def test_hard_crash_temp_is_hidden_then_cleaned(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill between write and rename: nothing can clean up, the temp remains."""

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("simulated power loss")

    monkeypatch.setattr(os, "replace", crash)
    monkeypatch.setattr(os, "unlink", crash)
    with pytest.raises(OSError):
        local_store.put_bytes(b"half written")
    monkeypatch.undo()

    leftovers = temp_files(local_store)
    assert len(leftovers) == 1 and leftovers[0].read_bytes() == b"half written"
    assert list(local_store.list()) == []
    assert local_store.cleanup_temp() == 0  # too young: might be a live write
    assert local_store.cleanup_temp(older_than=0) == 1
    assert temp_files(local_store) == []


def test_failed_overwrite_keeps_previous_version(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "derived/8/page-0001.webp"
    v1 = local_store.put_bytes(b"version one", key=key)
    real_replace = os.replace
    calls = []

    def crash_on_object_rename(src: object, dst: object) -> None:
        calls.append(dst)
        if Path(str(dst)) == local_store.root / key:
            raise OSError("simulated crash")
        real_replace(src, dst)  # type: ignore[arg-type]  # the paths os.replace was given

    monkeypatch.setattr(os, "replace", crash_on_object_rename)
    with pytest.raises(OSError):
        local_store.put_bytes(b"version two", key=key)
    monkeypatch.undo()

    # The new sidecar was already written, but it describes a different file,
    # so stat() must notice and report the bytes actually stored.
    assert local_store.read_bytes(key) == b"version one"
    assert local_store.stat(key) == v1
    assert local_store.verify(key, v1.sha256)


def test_sidecar_missing_or_stale_falls_back_to_hashing(local_store: LocalStore) -> None:
    key = "derived/4/ocr.txt"
    local_store.put_bytes(b"first text", key=key)
    sidecar = local_store.root / ".meta" / f"{key}.json"
    assert sidecar.is_file()

    sidecar.unlink()
    assert local_store.stat(key).sha256 == sha(b"first text")
    assert sidecar.is_file()  # re-cached

    path = local_store.root / key
    path.write_bytes(b"edited outside the store, longer")
    assert local_store.stat(key).sha256 == sha(b"edited outside the store, longer")


def test_delete_removes_sidecar(local_store: LocalStore) -> None:
    key = "derived/4/ocr.txt"
    local_store.put_bytes(b"text", key=key)
    local_store.delete(key)
    assert not (local_store.root / ".meta" / f"{key}.json").exists()


def test_list_ignores_stray_and_hidden_files(local_store: LocalStore) -> None:
    obj = local_store.put_bytes(b"kept")
    (local_store.root / "stray file.txt").write_bytes(b"not a valid key")
    (local_store.root / "derived").mkdir()
    (local_store.root / "derived" / ".DS_Store").write_bytes(b"hidden")
    assert [o.key for o in local_store.list()] == [obj.key]


def test_root_is_created_and_reusable(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b"
    obj = LocalStore(root).put_bytes(b"persisted")
    assert LocalStore(str(root)).stat(obj.key) == obj


class _ReadOnly:
    """A stream with read() only (no readinto), as some upload wrappers are."""

    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n < 0 else self._at + n
        out, self._at = self._data[self._at:end], min(end, len(self._data))
        return out


@pytest.mark.parametrize("size", [0, 1, 3 * 1024 * 1024 + 17])
def test_put_copies_and_hashes_any_stream_exactly(local_store: LocalStore, tmp_path: Path,
                                                   size: int) -> None:
    """A file is copied in the kernel and its copy hashed, any other stream read through
    one reused buffer (storing a large original cost twice the CPU of hashing it); every
    byte and the hash stay exact, from where the stream stands."""
    data = os.urandom(size)
    src = tmp_path / "scan.bin"
    src.write_bytes(data)
    with src.open("rb") as fh:
        from_file = local_store.put(fh, key="derived/1/a.bin", expected_sha256=sha(data))
    from_buffer = local_store.put(io.BytesIO(data), key="derived/1/b.bin")
    from_reader = local_store.put(_ReadOnly(data), key="derived/1/c.bin")  # type: ignore[arg-type]  # duck-typed stream
    for obj in (from_file, from_buffer, from_reader):
        assert (obj.sha256, obj.size) == (sha(data), size)
        assert (local_store.root / obj.key).read_bytes() == data
    with src.open("rb") as fh:
        fh.read(1)  # a stream already partly read is stored from where it stands
        rest = local_store.put(fh, key="derived/1/d.bin")
    assert (local_store.root / rest.key).read_bytes() == data[1:]
    assert (rest.sha256, rest.size) == (sha(data[1:]), max(0, size - 1))
    with src.open("rb") as fh, pytest.raises(ChecksumMismatch):
        local_store.put(fh, expected_sha256=sha(b"other bytes"))
    assert temp_files(local_store) == []
