"""A zip of scans unpacks only within its limits: a zip bomb, too many members, a damaged
zip and hostile member names are refused or neutralised, and a refused zip leaves nothing."""

from __future__ import annotations

import zipfile

import pytest

from service import scan_zip
from service.errors import InvalidInput
from service.scan_zip import unpack_scans


def _zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def test_a_zip_within_the_cap_unpacks_its_files(tmp_path):
    dest = tmp_path / "scans"
    dest.mkdir()
    z = _zip(tmp_path / "a.zip", [("folder/w1.png", b"x" * 100), ("w2.png", b"y" * 50),
                                  ("../../escape.png", b"z"), ("/abs/w3.png", b"q")])
    assert unpack_scans(z, dest, max_bytes=10_000) == 4
    assert (dest / "folder/w1.png").read_bytes() == b"x" * 100
    assert (dest / "escape.png").exists() and (dest / "abs/w3.png").exists()
    assert not (tmp_path / "escape.png").exists()


def test_a_zip_bomb_is_refused_and_leaves_nothing(tmp_path):
    dest = tmp_path / "scans"
    dest.mkdir()
    # 64 MiB of zeros deflate to about 64 KiB: the headers say nothing the cap could trust
    z = _zip(tmp_path / "bomb.zip", [("a.png", b"ok"), ("b.tif", bytes(64 * 1024 * 1024))])
    assert z.stat().st_size < 1024 * 1024
    with pytest.raises(InvalidInput) as err:
        unpack_scans(z, dest, max_bytes=1024 * 1024)
    assert "解开后超过" in str(err.value.msg)
    assert [p for p in dest.rglob("*") if p.is_file()] == []


def test_too_many_members_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(scan_zip, "MAX_ZIP_ENTRIES", 3)
    dest = tmp_path / "scans"
    dest.mkdir()
    z = _zip(tmp_path / "many.zip", [(f"p{i}.png", b"x") for i in range(4)])
    with pytest.raises(InvalidInput):
        unpack_scans(z, dest, max_bytes=10_000)
    assert list(dest.iterdir()) == []


def test_a_damaged_zip_is_refused(tmp_path):
    dest = tmp_path / "scans"
    dest.mkdir()
    good = _zip(tmp_path / "g.zip", [("p.png", b"x" * 5000)]).read_bytes()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(good[:40] + bytes(200) + good[240:])  # the member's data overwritten
    with pytest.raises(InvalidInput):
        unpack_scans(bad, dest, max_bytes=10_000)
    assert [p for p in dest.rglob("*") if p.is_file()] == []
