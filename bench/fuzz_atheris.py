"""Coverage-guided fuzzing of the parsers with atheris (libFuzzer for Python).

    pip install -e '.[fuzz]'
    python bench/fuzz_atheris.py TARGET [libFuzzer options, e.g. -runs=20000 -max_total_time=60]

TARGET is one of: sniff, codes, query, sheet-csv, document. The hypothesis tests in
tests/fuzz/ are the ones `make test` runs (bounded, deterministic enough for CI); this is
the long, open-ended search beside them: libFuzzer mutates inputs towards new branches of
our code and of the libraries it calls (`atheris.instrument_imports`). It stops at the
first input breaking a target's contract and writes it as ``crash-*`` in the current folder
(replay: the same command with the file as argument). libFuzzer's own bounds apply: each
input at most ``-timeout`` seconds (default here 20) and the process ``-rss_limit_mb``
(default here 2048), so a hang or runaway memory is a finding too.

Contracts: the sniffer returns a supported format or raises IngestError; the 档号 parser
raises InvalidInput or returns a code it can write back; a parsed query compiles to MATCH
expressions FTS5 accepts; the sheet reader yields rows or raises InvalidInput; a document
reads or raises IngestError.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

with atheris.instrument_imports(include=["indexer", "service"]):
    import sqlalchemy

    from indexer.errors import IngestError
    from indexer.search.query import fts5_any, fts5_excluded, item_plan, parse_query, relax_query
    from indexer.search.sqlite_engine import create_schema
    from indexer.sniff import SUPPORTED, detect_format_bytes
    from service.codes import format_code, parse_code
    from service.errors import InvalidInput
    from service.sheets import read_rows

_SCRATCH = Path(tempfile.mkdtemp(prefix="dangan-fuzz-"))


def sniff(data: bytes) -> None:
    try:
        assert detect_format_bytes(data) in SUPPORTED
    except IngestError:
        pass


def codes(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(64)
    try:
        code = parse_code(text)
    except InvalidInput:
        return
    assert parse_code(format_code(code)) == code


_fts: sqlalchemy.Connection | None = None


def query(data: bytes) -> None:
    global _fts
    if _fts is None:
        _fts = sqlalchemy.create_engine("sqlite://").connect()
        create_schema(_fts)
    pq = parse_query(atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(300))
    for form in (pq, relax_query(pq)):
        if form is None or form.empty:
            continue
        plan = item_plan(form)
        for expr in (fts5_any(plan.shown), *map(fts5_any, plan.each), fts5_excluded(plan.excluded)):
            if expr:
                _fts.exec_driver_sql("SELECT count(*) FROM search_fts WHERE search_fts MATCH ?",
                                     (expr,)).scalar()


def sheet_csv(data: bytes) -> None:
    path = _SCRATCH / "sheet.csv"
    path.write_bytes(data)
    try:
        for _n, values in read_rows(path):
            assert all(isinstance(v, str) for v in values.values())
    except InvalidInput:
        pass


def document(data: bytes) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from malformed import read_as_ingest  # the upload's count, then the page workers' reads

    path = _SCRATCH / "scan"
    path.write_bytes(data)
    try:
        read_as_ingest(path)
    except IngestError:
        pass


TARGETS: dict[str, Callable[[bytes], None]] = {
    "sniff": sniff, "codes": codes, "query": query, "sheet-csv": sheet_csv, "document": document,
}


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: {argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[argv[1]]
    options = argv[2:]
    if not any(o.startswith("-timeout=") for o in options):
        options.append("-timeout=20")
    if not any(o.startswith("-rss_limit_mb=") for o in options):
        options.append("-rss_limit_mb=2048")
    os.chdir(os.environ.get("FUZZ_OUT", "."))
    atheris.Setup([argv[0], *options], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
