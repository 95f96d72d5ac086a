"""The malformed-file corpus (tests/malformed.py), each case read as the archive reads an
upload and its pages, in a child bounded in time and memory (#15.6).

Every case must end in a coded refusal whose reason users read in Chinese (or, for a file a
parser repairs, read), never in another exception, a hang, a crash or runaway memory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bounded import run_bounded
from malformed import REFUSALS, corpus, read_as_ingest, zip_bomb, zip_lying_sizes

from indexer.errors import REASONS
from service.errors import InvalidInput
from service.scan_zip import unpack_scans

CASES = corpus()
#: Seconds and bytes (beyond the test process's own) any one case may take.
TIME_LIMIT = 20.0
MEMORY_LIMIT = 768 * 2**20


def _chinese(text: str | None) -> bool:
    return bool(text) and any("\u4e00" <= ch <= "\u9fff" for ch in text or "")


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_file_ends_in_a_clear_reason(tmp_path: Path, name: str) -> None:
    build, expected = CASES[name]
    path = build(tmp_path)
    out = run_bounded(read_as_ingest, path, timeout=TIME_LIMIT, memory=MEMORY_LIMIT)
    assert out.kind in ("ok", "raised"), f"{name}: {out}"
    if out.kind == "ok":
        assert None in expected, f"{name} was read as {out.value}; expected one of {expected}"
        return
    assert out.error == "indexer.errors.IngestError", f"{name}: {out}"
    assert out.code in REFUSALS and out.code in expected, f"{name}: {out}"
    assert _chinese(out.reason), f"{name}: reason not in Chinese: {out.reason}"
    if out.code in REASONS:
        assert out.reason == str(REASONS[out.code])


def _unpack(zip_path: Path, dest: Path, cap: int) -> int:
    return unpack_scans(zip_path, dest, cap)


@pytest.mark.parametrize(("name", "build"), [("bomb", zip_bomb), ("lying", zip_lying_sizes)])
def test_zip_inflation_is_refused_in_bounded_memory(tmp_path: Path, name: str, build) -> None:
    zipped = tmp_path / f"{name}.zip"
    zipped.write_bytes(build())
    dest = tmp_path / "out"
    dest.mkdir()
    out = run_bounded(_unpack, zipped, dest, 32 * 2**20, timeout=TIME_LIMIT, memory=256 * 2**20)
    assert out.kind == "raised" and out.error == f"{InvalidInput.__module__}.InvalidInput", out
    assert _chinese(out.reason) and "压缩包" in (out.reason or ""), out
    assert not [p for p in dest.rglob("*") if p.is_file()], "a refused zip leaves nothing"
