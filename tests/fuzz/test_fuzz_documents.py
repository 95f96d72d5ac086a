"""Format sniffing and page splitting fuzzed (#15.6): arbitrary bytes to the sniffer, and
small valid files of every accepted format cut, overwritten and spliced, read as an upload
and its page workers read them, each in a child bounded in time and memory.

Properties: the sniffer answers a supported format or raises IngestError; reading a file
ends in its pages or an IngestError with a coded reason in Chinese, never another exception,
a hang, a crash or runaway memory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from bounded import run_bounded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from malformed import REFUSALS, read_as_ingest, seeds

from indexer.errors import IngestError
from indexer.sniff import SUPPORTED, detect_format_bytes

MAGICS = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"RIFF\x00\x00\x00\x00WEBP",
          b"BM", b"%PDF-1.7\n", b"PK\x03\x04", b"GIF89a", b"\xff\xfe", b"\xef\xbb\xbf"]


@given(st.one_of(st.binary(max_size=4096),
                 st.builds(bytes.__add__, st.sampled_from(MAGICS), st.binary(max_size=600)),
                 st.text(max_size=300).map(lambda t: t.encode("utf-8")),
                 st.text(max_size=300).map(lambda t: t.encode("utf-16"))))
def test_sniffing_answers_a_format_or_a_coded_refusal(head: bytes) -> None:
    try:
        fmt = detect_format_bytes(head)
    except IngestError as exc:
        assert exc.code in ("empty-file", "unsupported-format") and str(exc.reason)
    else:
        assert fmt in SUPPORTED


@lru_cache(maxsize=1)
def _seeds() -> dict[str, bytes]:
    return {k: v for k, v in seeds().items() if k != "zip"}


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A seed with a few edits: cut short, bytes overwritten, bytes inserted or dropped."""
    kind = draw(st.sampled_from(sorted(_seeds())))
    data = bytearray(_seeds()[kind])
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        op = draw(st.sampled_from(["cut", "set", "insert", "drop", "set-header"]))
        if op == "cut":
            del data[at:]
        elif op == "set":
            data[at:at + 4] = draw(st.binary(min_size=1, max_size=4))
        elif op == "set-header":  # sizes, counts and offsets live in the first bytes
            at = draw(st.integers(0, min(len(data), 64)))
            data[at:at + 4] = draw(st.sampled_from(
                [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff", b"\x01\x00\x00\x00"]))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        else:
            del data[at:at + draw(st.integers(1, 64))]
    return kind, bytes(data)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=mutated())
def test_a_damaged_scan_reads_or_is_refused_with_its_reason(tmp_path: Path,
                                                             case: tuple[str, bytes]) -> None:
    kind, data = case
    path = tmp_path / "scan.bin"
    path.write_bytes(data)
    out = run_bounded(read_as_ingest, path, timeout=20, memory=768 * 2**20)
    assert out.kind in ("ok", "raised"), f"{kind}: {out}"
    if out.kind == "raised":
        assert out.error == "indexer.errors.IngestError", f"{kind}: {out}"
        assert out.code in REFUSALS and any("\u4e00" <= c <= "\u9fff" for c in out.reason or ""), \
            f"{kind}: {out}"


@pytest.mark.parametrize("head", [b"\xff", b"\x89PN\x00", b"\xff\xff"])
def test_a_few_bytes_of_binary_are_not_called_a_text_file(head: bytes) -> None:
    """Found by the fuzzer: a file of one to four undecodable bytes was called a text file
    (.txt/.csv/.html): the decoder's cut-character allowance took all of it."""
    with pytest.raises(IngestError) as exc:
        detect_format_bytes(head)
    assert exc.value.code == "unsupported-format" and "无法识别" in str(exc.value.reason)
