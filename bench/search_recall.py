"""Search recall@10 of users' queries on OCR text, through the archive's own search.

    python bench/search_recall.py QUERIES_JSON TEXT_JSON [TEXT_JSON ...] [--truth TRUTH_JSON]

QUERIES_JSON is a list of ``{"q", "expect": [file names], "type"}`` (the ``type``, e.g.
``date`` or ``phone_fragment``, groups the report; ``files`` is accepted for ``expect``).
Each TEXT_JSON maps a file name to the text of its pages (``{"a.pdf": ["page 1", ...]}``),
e.g. our pipeline's OCR text and plain Tesseract's text of the same pages, as
``bench/ocr_bench.py`` produces them; ``--truth`` takes a samples ``truth.json`` as one
more text set (the ceiling).  A file of ``pages`` objects (``{"a.pdf": {"pages": [...]}}``)
reads too.

For every text set a temporary embedded archive is initialised (SQLite catalogue with its
FTS5 index), each file becomes one catalogue item whose pages hold that text, indexed by
the service's own path (``service.search_docs.page_docs``, masked rows included), and each
query runs through ``service.search.run_search`` as the operator, top 10 items.  Recall@10
of a query is the share of its expected files among those 10; reported per query type and
overall (mean over queries), with the misses.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET = 0.95


def load_texts(path: Path) -> dict[str, list[str]]:
    """``{file: [page text]}`` from a text dump or a truth.json."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {k: (v["pages"] if isinstance(v, dict) else list(v)) for k, v in raw.items()}


def _add_item(archive, name: str, pages: Sequence[str]) -> int:
    """A ready catalogue item with one finished page per text, indexed as the pipeline
    indexes a finished item."""
    from sqlalchemy import select

    from service.codes import allocate, format_code
    from service.models import ArchiveItem, Category, Fonds, Page, StoredFile
    from service.search_docs import page_docs

    with archive.session() as s:
        code = allocate(s, "J001", "WS", 2024, "D30", None)
        item = ArchiveItem(
            archival_code=format_code(code), item_no=code.item_no, year=2024,
            fonds_id=s.scalar(select(Fonds.id).where(Fonds.code == "J001")),
            category_id=s.scalar(select(Category.id).where(Category.code == "WS")),
            retention="D30", title=f"样本 {Path(name).stem}", secrecy="内部", status="ready",
        )
        s.add(item)
        s.flush()
        f = StoredFile(item_id=item.id, role="original", seq=1, key=f"bench/{name}",
                       sha256="0" * 64, size=1, original_name=name,
                       format=Path(name).suffix.lstrip(".") or "png", page_count=len(pages))
        s.add(f)
        s.flush()
        for n, text in enumerate(pages, start=1):
            s.add(Page(item_id=item.id, file_id=f.id, n=n, file_page=n, status="done",
                       source="ocr", text=text, words=[]))
        s.flush()
        archive.search.index_pages(page_docs(s, item), conn=s.connection())
        return item.id


_NUMBER = re.compile(r"[A-Za-z]{2}-\d{4}-?\d{3,5}|0\d{2,3}-\d{7,8}|1[3-9]\d{9}|\d{17}[\dX]")
_DATE = re.compile(r"(\d{4})(?:年(\d{1,2})月(\d{1,2})日|([-./])(\d{1,2})\4(\d{1,2}))")
_FIGURE = re.compile(r"¥\s?(\d{1,3}(?:,\d{3})+(?:\.\d\d)?)")


def derived_queries(truth: Mapping[str, Sequence[str]]) -> list[dict]:
    """More queries of the kinds users type, derived from a truth.json independently of
    the archive's own rules: each contract/customer number without its hyphens and by its
    serial; each phone and ID number whole and by its last 4, 6 and 8 digits; each date in
    the spellings it is not written in; each amount in figures without separators.  The
    expected files are those whose true text holds that number or date in any spelling."""
    numbers: dict[str, set[str]] = defaultdict(set)  # digits/letters only -> files
    dates: dict[tuple[int, int, int], set[str]] = defaultdict(set)
    written: dict[tuple[int, int, int], set[str]] = defaultdict(set)  # spellings seen
    figures: dict[str, set[str]] = defaultdict(set)
    for name, pages in truth.items():
        text = "\n".join(pages)
        for m in _NUMBER.finditer(text):
            numbers[re.sub(r"[^0-9A-Za-z]", "", m[0]).upper()].add(name)
        for m in _DATE.finditer(text):
            ymd = (int(m[1]), int(m[2] or m[5]), int(m[3] or m[6]))
            dates[ymd].add(name)
            written[ymd].add("年" if m[2] else m[4])
        for m in _FIGURE.finditer(text):
            figures[m[1].replace(",", "")].add(name)
    out: list[dict] = []

    def add(q: str, kind: str, files: set[str]) -> None:
        out.append({"q": q, "type": kind, "expect": sorted(files)})

    def having(frag: str) -> set[str]:
        return {f for k, fs in numbers.items() if frag in k for f in fs}

    for key, files in sorted(numbers.items()):
        if key[:2].isalpha():
            add(key, "id_no_hyphen", files)
            add(key[2:], "id_serial", having(key[2:]))
        else:
            add(key, "number_whole", files)
            for n in (4, 6, 8):
                add(key[-n:], f"last_{n}_digits", having(key[-n:]))
    for (y, m, d), files in sorted(dates.items()):
        spellings = {"年": f"{y}年{m}月{d}日", "-": f"{y}-{m:02d}-{d:02d}", ".": f"{y}.{m}.{d}",
                     "/": f"{y}/{m:02d}/{d:02d}"}
        for sep, q in spellings.items():
            if sep not in written[(y, m, d)]:
                add(q, "date_other_form", files)
    for fig, files in sorted(figures.items()):
        add(fig, "amount_no_commas", files)
    return out


def recall(texts: Mapping[str, Sequence[str]], queries: Sequence[Mapping]) -> dict:
    """Index ``texts`` in a fresh temporary archive and run ``queries``: per-type and
    overall recall@10 and the misses."""
    from service.archive import Archive
    from service.config import Settings
    from service.db import dispose_all
    from service.search import SearchParams, run_search
    from service.setup import init_archive

    with tempfile.TemporaryDirectory(prefix="dangan-recall-") as tmp:
        archive = Archive(Settings.from_env({"DANGAN_DATA": os.path.join(tmp, "data")}))
        init_archive(archive, admin_password="bench-password-1")
        ids = {name: _add_item(archive, name, pages) for name, pages in sorted(texts.items())}
        names = {v: k for k, v in ids.items()}
        by_type: dict[str, list[float]] = defaultdict(list)
        misses: list[tuple[str, str, list[str]]] = []
        for q in queries:
            want = {ids[n] for n in q.get("expect", q.get("files", [])) if n in ids}
            if not want:
                continue
            res = run_search(archive, SearchParams(q=q["q"], per_page=10))
            got = {h["id"] for h in res["hits"][:10]}
            score = len(want & got) / len(want)
            by_type[q.get("type", "all")].append(score)
            if want - got:
                misses.append((q.get("type", ""), q["q"], sorted(names[i] for i in want - got)))
        dispose_all()
    scores = [x for xs in by_type.values() for x in xs]
    return {
        "overall": statistics.fmean(scores) if scores else 0.0,
        "queries": len(scores),
        "by_type": {t: (statistics.fmean(xs), len(xs)) for t, xs in sorted(by_type.items())},
        "misses": misses,
    }


def report(results: Mapping[str, dict], show_misses: int = 20) -> None:
    """One column per text set: recall@10 per query type and overall."""
    sets = list(results)
    types = sorted({t for r in results.values() for t in r["by_type"]})
    print(f"{'recall@10':<18}" + "".join(f"{s:>14}" for s in sets) + f"{'queries':>9}")
    for t in types:
        cells = "".join(
            f"{results[s]['by_type'][t][0]:>14.3f}" if t in results[s]["by_type"] else f"{'-':>14}"
            for s in sets
        )
        n = max(results[s]["by_type"].get(t, (0, 0))[1] for s in sets)
        print(f"{t:<18}{cells}{n:>9}")
    print(f"{'all':<18}" + "".join(f"{results[s]['overall']:>14.3f}" for s in sets)
          + f"{max(r['queries'] for r in results.values()):>9}")
    for s in sets:
        for kind, q, missed in results[s]["misses"][:show_misses]:
            print(f"  miss [{s}] {kind}: {q!r} not in top 10 for {', '.join(missed)}")


def samples_recall(samples: Path, texts: Mapping[str, Mapping[str, Sequence[str]]],
                   derived: bool = False) -> float | None:
    """Recall@10 of ``samples/queries.json`` on each text set (e.g. ``{"ours": …,
    "plain": …}`` from ``bench/ocr_bench.py``), printed; returns the first set's overall
    recall, or None when the folder has no queries.json."""
    path = samples / "queries.json"
    if not path.exists():
        return None
    queries = json.loads(path.read_text(encoding="utf-8"))
    if derived and (samples / "truth.json").exists():
        queries += derived_queries(load_texts(samples / "truth.json"))
    results = {name: recall(t, queries) for name, t in texts.items()}
    report(results)
    return results[next(iter(results))]["overall"]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("queries", type=Path)
    ap.add_argument("texts", type=Path, nargs="+", help="text dumps {file: [page text]}")
    ap.add_argument("--truth", type=Path, help="a samples truth.json, as one more text set")
    ap.add_argument("--derived", action="store_true",
                    help="add number queries derived from --truth (see derived_queries)")
    args = ap.parse_args(argv)
    queries = json.loads(args.queries.read_text(encoding="utf-8"))
    if args.derived:
        if not args.truth:
            ap.error("--derived needs --truth")
        queries += derived_queries(load_texts(args.truth))
    sets = {p.stem: load_texts(p) for p in args.texts}
    if args.truth:
        sets["truth"] = load_texts(args.truth)
    results = {name: recall(texts, queries) for name, texts in sets.items()}
    report(results)
    first = results[next(iter(sets))]["overall"]
    print(f"recall@10 of {next(iter(sets))}: {first:.3f} (target >= {TARGET})")
    return 0 if first >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
