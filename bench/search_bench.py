"""Benchmark the embedded search engine (SQLite FTS5) on a 100k-page corpus.

    python bench/search_bench.py [--pages 100000] [--samples /work/shared/samples]

Needs the ``bench`` extra (``pip install -e '.[bench]'``: jieba, for its
dictionary only).

Corpus: page text made from *real* Chinese words.  jieba ships ``dict.txt``,
~349k words with their frequencies in a large real corpus; words are drawn by
those frequencies (so the vocabulary follows the Zipf law of real text, from
了/是/一个 down to rare idioms), joined into sentences with Chinese
punctuation and wrapped into ~36-character lines like OCR output, 400-800
characters a page, with contract bits mixed in (parties, people, amounts,
dates, phone numbers, contract numbers such as ``HT-2024-0031``) and, with
``--samples``, sentences of the samples' true text.

Queries: a few hundred 2-6 character phrases cut from random positions of
random pages (so each has at least one true hit; frequencies range from one
page to tens of thousands), plus the most frequent 2-character words of the
dictionary to exercise the engine's cap on very common terms.

Speed: every query is run through the engine (all-visible user and a staff
user who sees only their own files: 1 of 40 owners, 公开/内部; facets on, 20
items a page with snippets) and, in the same run, through a brute-force scan:
``q in text`` over all page texts held in memory (with punctuation and line
breaks removed, as the engine matches across them) plus the same visibility
rule.  Times are **CPU time of this process** (``time.process_time`` around the
call, engine in-process), the median of ``--repeat`` runs, so the other jobs of
a shared machine do not count.  Then the kinds the target names, each p50/p95:
staff sorted by date (both ways), with a filter, multi-term AND, a deep page of
common words.  The engine's answers are checked against the scan's.  With
``--trigram`` the same pages go into SQLite's own ``trigram`` tokenizer too
(2-character queries by ``LIKE``, longer by MATCH) and its answers and times are
printed beside.  Printed too: CPU per page indexed (extrapolated to a million
pages) and the FTS5 index's bytes against the page text's.  The corpus is
generated once per size and kept in the temp dir (``dangan-search-corpus-*``).

Recall (``--samples DIR``): every page of every sample file is OCR'd with the
project's pipeline (``process_page``, one process per core,
``OMP_THREAD_LIMIT=1``; cached in ``bench/out/ocr/`` by file sha256), one item
is indexed per file, and recall@10 of ``queries.json`` is reported on the OCR
text and on the true text, plus recall@10 of extra phrases cut from the true
text (a larger sample of the same kind of query).

Targets: p95 <= 50 ms CPU for every kind; recall@10 >= 0.98 on OCR text.
Sizes: ``--pages 10000``, ``100000``, ``1000000`` show the growth.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import multiprocessing
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search_corpus import (  # noqa: E402
    Lexicon,
    build_corpus,
    corpus_path,
    read_corpus,
    truth_sentences,
)

from indexer.search import sqlite_engine  # noqa: E402
from indexer.search.sqlite_engine import SqliteFtsEngine, create_schema  # noqa: E402
from indexer.search.types import (  # noqa: E402
    PageDoc,
    SearchEngine,
    SearchRequest,
    Visibility,
)
from service.vocab import SECRECY_LEVELS  # noqa: E402

HERE = Path(__file__).resolve().parent
OCR_CACHE = HERE / "out" / "ocr"
_PUNCT = re.compile(r"[\W_]+")
ALL = Visibility(secrecy=frozenset(SECRECY_LEVELS), see_all=True)
#: a staff user sees only their own files (service.access.visibility_for): 1 of 40 owners
STAFF = Visibility(secrecy=frozenset({"公开", "内部"}), owner_ids=frozenset({1}))
TARGET_P95_MS = 50.0
TARGET_SPEEDUP = 50.0
TARGET_RECALL = 0.98

# ----------------------------------------------------------------- engine


def make_engine(path: str):
    eng = create_engine(f"sqlite:///{path}")

    @event.listens_for(eng, "connect")
    def _pragmas(dbapi_conn, _rec):  # bulk-load friendly; a cache: rebuildable
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA cache_size=-200000")
        cur.execute("PRAGMA mmap_size=1073741824")
        cur.close()

    with eng.begin() as c:
        create_schema(c)
    return eng


def load(
    engine: SqliteFtsEngine, items: Iterable[list[PageDoc]], batch: int = 2000,
    anon: list[float] | None = None,
) -> tuple[int, float]:
    """Index whole items in batches of about ``batch`` pages; returns the
    number of pages and the CPU seconds spent in ``index_pages`` (memory stays bounded
    by ``batch``: nothing but the batch is held for indexing).  ``anon`` collects the
    process's anonymous memory after each batch."""
    buf: list[PageDoc] = []
    n = 0
    spent = 0.0
    for pages in items:
        buf.extend(pages)
        if len(buf) >= batch:
            t = time.process_time()
            engine.index_pages(buf)
            spent += time.process_time() - t
            n += len(buf)
            buf = []
            if anon is not None:
                anon.append(_anon_mb())
    if buf:
        t = time.process_time()
        engine.index_pages(buf)
        spent += time.process_time() - t
        n += len(buf)
    return n, spent


def _rss_mb() -> float:
    """Peak resident memory of this process (file pages SQLite maps included)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _anon_mb() -> float:
    """Resident anonymous memory now (heap and SQLite's page cache; not the file pages
    mapped by ``mmap_size``, which the kernel may drop at will); 0 where /proc has none."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def build_index(db: str, corpus: str, batch: int = 2000) -> dict[str, float]:
    """Index the cached corpus, streamed from its file (run in a fresh process, so its
    peak RSS is the build's own: nothing but a batch of pages is held for indexing)."""
    rss0 = _rss_mb()
    anon: list[float] = [_anon_mb()]
    eng = SqliteFtsEngine(make_engine(db))
    n, t_index = load(eng, read_corpus(Path(corpus)), batch, anon)
    t = time.process_time()
    eng.optimize()
    with eng._engine.connect() as c:  # fold the WAL into the file before measuring it
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"pages": n, "index_cpu": t_index, "optimize_cpu": time.process_time() - t,
            "cpu": time.process_time(), "rss_imports_mb": rss0, "rss_peak_mb": _rss_mb(),
            "anon_first_mb": anon[min(1, len(anon) - 1)], "anon_peak_mb": max(anon),
            "anon_last_mb": anon[-1]}


def in_child(fn: Callable[..., dict[str, float]], *args: Any) -> Future[dict[str, float]]:
    """``fn(*args)`` in a fresh (spawned) process: its CPU and peak memory are its own."""
    ex = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    fut = ex.submit(fn, *args)
    ex.shutdown(wait=False)
    return fut


# ----------------------------------------------------------------- queries, scan


@dataclass
class Page:
    """What the brute-force scan holds in memory for one page."""

    item_id: int
    secrecy: str
    owner_id: int | None
    department: str | None
    hay: str  # text + catalogue text, punctuation and line breaks removed


def visible(p: Page, v: Visibility) -> bool:
    """The visibility rule (service.access) on one page's catalogue fields."""
    return p.secrecy in v.secrecy and (
        v.see_all or p.owner_id in v.owner_ids or p.department in v.departments)


def brute_force(pages: Sequence[Page], q: str, v: Visibility) -> set[int]:
    """The baseline: substring scan of every page, then the visibility rule."""
    return {p.item_id for p in pages if q in p.hay and visible(p, v)}


_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}")


def pick_queries(texts: Sequence[str], n: int, seed: int = 11) -> list[str]:
    """2-6 CJK characters from a random position of a random page's text
    (punctuation removed, as users paste phrases without it)."""
    rnd = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        i = rnd.randrange(len(texts))
        runs = _CJK_RUN.findall(_PUNCT.sub("", texts[i]))
        runs = [r for r in runs if len(r) >= 2]
        if not runs:
            continue
        run = rnd.choices(runs, weights=[len(r) for r in runs])[0]
        k = min(len(run), rnd.randint(2, 6))
        s = rnd.randrange(0, len(run) - k + 1)
        out.append(run[s : s + k])
    return out


def pct(xs: Sequence[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def stats(xs: Sequence[float]) -> str:
    return (f"mean {statistics.fmean(xs):7.2f}  p50 {pct(xs, 50):7.2f}  p95 {pct(xs, 95):7.2f}  "
            f"max {max(xs):7.1f} ms")


def histogram(counts: Sequence[int], total: int) -> str:
    edges = [0, 1, 2, 11, 101, 1001, 10_001, 10**9]
    names = ["0", "1", "2-10", "11-100", "101-1000", "1001-10000", ">10000"]
    c = Counter()
    for x in counts:
        for lo, hi, name in zip(edges, edges[1:], names, strict=False):
            if lo <= x < hi:
                c[name] += 1
    body = "  ".join(f"{name}: {c[name]}" for name in names)
    return f"{body}   (of {total} items; median {pct(counts, 50)})"


def _median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median CPU time of ``repeat`` runs (time.process_time: this process only, so the
    other jobs on a shared machine do not count; the engine runs in-process)."""
    times = []
    out = None
    for _ in range(repeat):
        t = time.process_time()
        out = fn()
        times.append((time.process_time() - t) * 1000)
    return statistics.median(times), out


def time_engine(eng: SqliteFtsEngine, queries: Sequence[str], v: Visibility, repeat: int,
                **req_args: Any):
    """Per query, the median of ``repeat`` runs (the machine is shared)."""
    lat: list[float] = []
    results = []
    for q in queries:
        req = SearchRequest(q=q, visibility=v, per_page=20, **req_args)
        ms, r = _median_ms(lambda req=req: eng.search(req), repeat)
        lat.append(ms)
        results.append(r)
    return lat, results


def time_brute(pages: Sequence[Page], queries: Sequence[str], v: Visibility, repeat: int):
    lat: list[float] = []
    found = []
    for q in queries:
        ms, f = _median_ms(lambda q=q: brute_force(pages, q, v), repeat)
        lat.append(ms)
        found.append(f)
    return lat, found


def check(results, truth: Sequence[set[int]]) -> str:
    """Compare the engine's answers with the scan's."""
    exact_ok = n_exact = approx_ok = n_approx = hit_ok = n_hit = bad = n_fuzzy = fuzzy_ok = 0
    for r, t in zip(results, truth, strict=True):
        got = {h.id for h in r.hits}
        if r.fuzzy:  # the OCR-tolerant fallback: only when no exact visible match
            n_fuzzy += 1
            fuzzy_ok += not t
            continue
        bad += len(got - t)
        if t:
            n_hit += 1
            hit_ok += bool(got)
        else:
            hit_ok += not got
            n_hit += 1
        if r.total_is_exact:
            n_exact += 1
            exact_ok += r.total == len(t)
        else:
            n_approx += 1
            approx_ok += len(r.hits) <= r.total <= len(t)
    return (f"exact totals equal the scan's {exact_ok}/{n_exact}; approximate (capped) totals "
            f"within [hits, true] {approx_ok}/{n_approx}; hits iff the scan finds some "
            f"{hit_ok}/{n_hit}; hits the scan does not find {bad}; fuzzy fallbacks {n_fuzzy} "
            f"(all with no exact visible match: {fuzzy_ok}/{n_fuzzy})")


def index_vs_text(db: str, texts: Sequence[str]) -> None:
    """Bytes of the full-text index (FTS5's shadow tables, from dbstat) against the
    UTF-8 bytes of the page text it indexes; the stored text and catalogue rows apart."""
    import sqlite3

    con = sqlite3.connect(db)
    try:
        rows = dict(con.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
    except sqlite3.Error:
        print("index size: dbstat is not available in this SQLite")
        return
    finally:
        con.close()
    fts = sum(v for k, v in rows.items() if k.startswith("search_fts"))
    text = sum(len(t.encode("utf-8")) for t in texts)
    stored = sum(v for k, v in rows.items() if k.startswith("search_page_text"))
    pages = sum(v for k, v in rows.items() if k.startswith(("search_page", "sqlite_autoindex_search_page"))
                and not k.startswith("search_page_text"))
    print(f"index size: FTS5 {fts / 1e6:.0f} MB = {fts / text:.2f}x the {text / 1e6:.0f} MB of "
          f"page text it indexes (target <= 3x); stored text {stored / 1e6:.0f} MB, "
          f"page rows {pages / 1e6:.0f} MB")


def extra_kinds(eng: SqliteFtsEngine, queries: Sequence[str], mid: Sequence[str],
                rep: int) -> dict[str, list[float]]:
    """CPU ms per query of the kinds the target names: as a staff user (own files only),
    sorted by date, with a filter, and multi-term AND (two phrases); and relevance
    ranking of words on 2-5% of the pages (``mid``), whose whole doclists bm25 weighs."""
    rnd = random.Random(3)
    pairs = [f"{a} {b}" for a, b in zip(queries, rnd.sample(list(queries), len(queries)), strict=True)]
    common = list(queries[-20:])
    plan: dict[str, tuple[Sequence[str], Visibility, dict[str, Any]]] = {
        "staff, relevance": (queries, STAFF, {}),
        "staff, date_desc": (queries, STAFF, {"sort": "date_desc"}),
        "staff, date_asc": (queries, STAFF, {"sort": "date_asc"}),
        "all, date_desc": (queries, ALL, {"sort": "date_desc"}),
        "staff, category=HT, date_desc": (
            queries, STAFF, {"sort": "date_desc", "filters": {"category": "HT"}}),
        "staff, AND of two, date_desc": (pairs, STAFF, {"sort": "date_desc"}),
        "all, AND of two, relevance": (pairs, ALL, {}),
        "staff, common words, page 5": (common, STAFF, {"page": 5, "sort": "date_desc"}),
        "staff, 2-5%-of-pages words, relevance": (mid, STAFF, {}),
        "all, 2-5%-of-pages words, relevance": (mid, ALL, {}),
    }
    kinds: dict[str, list[float]] = {}
    for name, (qs, v, req_args) in plan.items():
        kinds[name] = time_engine(eng, qs, v, rep, **req_args)[0]
        print(f"  {name:38s}: {stats(kinds[name])} CPU", flush=True)
    return kinds


def hay_of(d: PageDoc) -> str:
    """What a page is matched on: text and catalogue text, punctuation and line breaks
    removed (the engine matches across them)."""
    return _PUNCT.sub("", d.text + d.meta_text + d.archival_code + d.title)


def build_trigram(path: str, corpus: str) -> dict[str, float]:
    """SQLite's own ``trigram`` tokenizer over the same text as the scan (run in a fresh
    process, streamed from the corpus file): the built-in alternative to our bigrams."""
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE VIRTUAL TABLE tri USING fts5(hay, tokenize='trigram')")
    rows = (hay_of(d) for pages in read_corpus(Path(corpus)) for d in pages)
    con.executemany("INSERT INTO tri (rowid, hay) VALUES (?, ?)", enumerate(rows))
    con.execute("INSERT INTO tri (tri) VALUES ('optimize')")
    con.commit()
    con.close()
    return {"cpu": time.process_time(), "bytes": os.path.getsize(path),
            "rss_peak_mb": _rss_mb()}


def tri_report(path: str, item_of: Sequence[int], queries: Sequence[str],
               truth: Sequence[set[int]], rep: int) -> None:
    """Time SQLite's trigram index on ``queries``: MATCH for 3 characters or more; fewer
    cannot use a trigram index, so ``instr`` scans the table (SQLite 3.40's ``LIKE`` on a
    trigram table returns no rows for them, which later releases fixed by such a scan)."""
    import sqlite3

    con = sqlite3.connect(path)
    lat: list[float] = []
    right = 0
    for q, t in zip(queries, truth, strict=True):
        if len(q) >= 3:
            sql, arg = "SELECT rowid FROM tri WHERE tri MATCH ?", '"' + q + '"'
        else:
            sql, arg = "SELECT rowid FROM tri WHERE instr(hay, ?) > 0", q
        ms, rows = _median_ms(lambda sql=sql, arg=arg: con.execute(sql, (arg,)).fetchall(), rep)
        lat.append(ms)
        right += {item_of[r[0]] for r in rows} == t
    con.close()
    short = [x for q, x in zip(queries, lat, strict=True) if len(q) < 3]
    longer = [x for q, x in zip(queries, lat, strict=True) if len(q) >= 3]
    print(f"trigram tokenizer (all matches, no ranking, no visibility), {len(queries)} queries: "
          f"{stats(lat)} CPU; answers equal to the scan's {right}/{len(queries)}")
    if short and longer:
        print(f"  3-6 characters (MATCH): {stats(longer)};  2 characters (instr scan): {stats(short)}")


# ----------------------------------------------------------------- samples: OCR and recall


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _ocr_page(path: str, page_no: int) -> str:
    from indexer.page_processor import process_page

    return process_page(path, page_no).text


def ocr_samples(samples: Path, names: Sequence[str]) -> dict[str, list[str]]:
    """OCR text of every page of every sample file, cached by file sha256."""
    from indexer.page_processor import count_pages

    OCR_CACHE.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[str]] = {}
    todo: list[tuple[str, str, int]] = []  # (name, path, page_no)
    shas: dict[str, str] = {}
    for name in names:
        path = samples / name
        sha = shas[name] = _sha256(path)
        cached = OCR_CACHE / f"{sha}.json"
        if cached.exists():
            out[name] = json.loads(cached.read_text(encoding="utf-8"))["pages"]
            continue
        _fmt, n = count_pages(path)
        todo.extend((name, str(path), p) for p in range(1, n + 1))
    if todo:
        os.environ["OMP_THREAD_LIMIT"] = "1"
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as ex:
            texts = list(ex.map(_ocr_page, [t[1] for t in todo], [t[2] for t in todo]))
        fresh: dict[str, list[str]] = {}
        for (name, _, _), text in zip(todo, texts, strict=True):
            fresh.setdefault(name, []).append(text)
        for name, pages in fresh.items():
            (OCR_CACHE / f"{shas[name]}.json").write_text(
                json.dumps({"file": name, "pages": pages}, ensure_ascii=False), encoding="utf-8"
            )
            out[name] = pages
        print(f"OCR'd {len(todo)} sample pages in {time.perf_counter() - t0:.0f}s "
              f"(cached in {OCR_CACHE.relative_to(HERE.parent)})")
    else:
        print(f"OCR text of {len(names)} sample files from the cache")
    return out


def index_files(tmp: str, name: str, files: dict[str, list[str]]) -> tuple[SqliteFtsEngine, dict[str, int]]:
    eng = SqliteFtsEngine(make_engine(os.path.join(tmp, name)))
    ids: dict[str, int] = {}
    docs = []
    for n, (fname, pages) in enumerate(sorted(files.items()), start=1):
        ids[fname] = n
        for p, text in enumerate(pages, start=1):
            docs.append(PageDoc(
                item_id=n, page_no=p, text=text, words=[], meta_text="", archival_code=f"S-{n:03d}",
                title=f"样本{n}", fonds="S001", category="HT", year=2024, retention="Y",
                secrecy="公开", fingerprint=fname,
            ))
    eng.index_pages(docs)
    return eng, ids


def recall_at_10(
    engine: SearchEngine,
    queries: Sequence[dict],
    ids_by_name: dict[str, int],
    visibility: Visibility = ALL,
) -> tuple[float, list[tuple[str, list[str]]]]:
    """Mean recall@10 of ``queries`` ([{"q", "expect": [names]}]) and the
    misses as (query, [missed names])."""
    names = {v: k for k, v in ids_by_name.items()}
    scores = []
    misses = []
    for q in queries:
        want = {ids_by_name[n] for n in q["expect"] if n in ids_by_name}
        if not want:
            continue
        r = engine.search(SearchRequest(q=q["q"], visibility=visibility, per_page=10, facets=False))
        got = {h.id for h in r.hits[:10]}
        scores.append(len(want & got) / len(want))
        if want - got:
            misses.append((q["q"], sorted(names[i] for i in want - got)))
    return (statistics.fmean(scores) if scores else 0.0), misses


def extra_queries(truth: dict[str, list[str]], n: int, seed: int = 5) -> list[dict]:
    """``n`` 2-6 character phrases cut from the true text, each expecting every
    file whose true text contains it (the kind of query in queries.json)."""
    rnd = random.Random(seed)
    flat = {k: _PUNCT.sub("", "".join(v)) for k, v in truth.items()}
    runs = [(k, r) for k, pages in truth.items() for p in pages for r in _CJK_RUN.findall(_PUNCT.sub("", p))]
    out: list[dict] = []
    seen: set[str] = set()
    while len(out) < n:
        _, run = rnd.choice(runs)
        k = min(len(run), rnd.randint(2, 6))
        s = rnd.randrange(0, len(run) - k + 1)
        q = run[s : s + k]
        if q in seen:
            continue
        seen.add(q)
        out.append({"q": q, "expect": sorted(f for f, t in flat.items() if q in t)})
    return out


@contextlib.contextmanager
def no_fallback() -> Iterator[None]:
    """Switch the engine's OCR-tolerant fallback off (for comparison)."""
    saved = sqlite_engine.relax_query
    sqlite_engine.relax_query = lambda pq: None
    try:
        yield
    finally:
        sqlite_engine.relax_query = saved


def samples_report(samples: Path, tmp: str, n_extra: int) -> float:
    truth_json = json.loads((samples / "truth.json").read_text(encoding="utf-8"))
    queries = json.loads((samples / "queries.json").read_text(encoding="utf-8"))
    truth = {k: v["pages"] for k, v in truth_json.items()}
    ocr = ocr_samples(samples, sorted(truth))
    extra = extra_queries(truth, n_extra)
    eng_ocr, ids = index_files(tmp, "ocr.db", ocr)
    eng_truth, ids_t = index_files(tmp, "truth.db", truth)
    r_ocr, miss_ocr = recall_at_10(eng_ocr, queries, ids)
    r_truth, _ = recall_at_10(eng_truth, queries, ids_t)
    x_ocr, xmiss_ocr = recall_at_10(eng_ocr, extra, ids)
    x_truth, _ = recall_at_10(eng_truth, extra, ids_t)
    with no_fallback():
        r_plain, _ = recall_at_10(eng_ocr, queries, ids)
        x_plain, _ = recall_at_10(eng_ocr, extra, ids)
    print(f"recall@10, queries.json ({len(queries)} queries): OCR text {r_ocr:.3f}   "
          f"true text {r_truth:.3f}   (target on OCR >= {TARGET_RECALL}; "
          f"OCR without the tolerant fallback {r_plain:.3f})")
    print(f"recall@10, {len(extra)} extra phrases from the true text: OCR text {x_ocr:.3f}   "
          f"true text {x_truth:.3f}   (OCR without the tolerant fallback {x_plain:.3f})")
    for q, missed in (miss_ocr + xmiss_ocr)[:15]:
        print(f"  miss on OCR text: {q!r} not in top 10 for {', '.join(missed)}")
    return r_ocr


# ----------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=100_000)
    ap.add_argument("--samples", type=Path, default=None)
    ap.add_argument("--queries", type=int, default=300, help="random phrase queries")
    ap.add_argument("--common", type=int, default=20, help="very common 2-character words added")
    ap.add_argument("--extra-recall-queries", type=int, default=300)
    ap.add_argument("--recall-only", action="store_true", help="only the samples' recall")
    ap.add_argument("--speed-only", action="store_true",
                    help="no recall (the samples' sentences still go into the corpus)")
    ap.add_argument("--corpus-only", action="store_true",
                    help="only make (and cache) the corpus of --pages pages")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per query (engine and scan alike); the median counts")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the temp index files")
    ap.add_argument("--reuse", type=Path, default=None,
                    help="query the index files --keep kept in this directory (same --pages "
                         "and --samples) instead of building them")
    ap.add_argument("--first", type=int, default=None,
                    help="with --reuse: the index holds only the corpus's first FIRST pages "
                         "(a snapshot of a build in progress)")
    ap.add_argument("--wait-pid", type=int, action="append", default=[],
                    help="with --reuse: a process still building those files (repeatable); "
                         "the scan runs meanwhile, the queries once they have ended")
    ap.add_argument("--workers", type=int, default=2, help="processes making the corpus")
    ap.add_argument("--trigram", action="store_true",
                    help="also build SQLite's own trigram tokenizer over the same pages")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    tmp = str(args.reuse) if args.reuse else tempfile.mkdtemp(prefix="dangan-search-bench-")
    ok = True
    try:
        if not args.recall_only:
            ok = speed(args, tmp)
        if args.samples and not (args.speed_only or args.corpus_only):
            ok = samples_report(args.samples, tmp, args.extra_recall_queries) >= TARGET_RECALL and ok
    finally:
        if args.keep or args.reuse:
            print("index files kept in", tmp)
        else:
            for f in os.listdir(tmp):
                os.remove(os.path.join(tmp, f))
            os.rmdir(tmp)
    print(f"{'CORPUS MADE' if args.corpus_only else 'ALL TARGETS MET' if ok else 'TARGETS NOT MET'} "
          f"(bench ran {time.perf_counter() - t_start:.0f}s)")
    return 0 if ok else 1


def mid_common(lex: Lexicon, hays: Sequence[str], n: int, lo: float = 0.02,
               hi: float = 0.05, seed: int = 13) -> list[str]:
    """``n`` 2-character dictionary words found on ``lo``-``hi`` of the pages (estimated
    on a sample of 5,000): common enough that relevance ranking must weigh a long doclist,
    rare enough not to be capped like the most common words."""
    rnd = random.Random(seed)
    sample = rnd.sample(list(hays), min(5000, len(hays)))
    out: list[str] = []
    for w in lex.common_two[20:3000]:
        share = sum(w in h for h in sample) / len(sample)
        if lo <= share <= hi:
            out.append(w)
            if len(out) == n:
                break
    return out


def report_build(b: dict[str, float], n: int, tmp: str, t_build: float) -> None:
    """Print the index build's figures (from :func:`build_index`)."""
    t_all = b["index_cpu"] + b["optimize_cpu"]
    size = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp) if f.startswith("search.db"))
    print(f"build (CPU of the indexing process, streaming the corpus file in batches of 2000 "
          f"pages): index_pages {b['index_cpu']:.1f}s + optimize {b['optimize_cpu']:.1f}s = "
          f"{t_all:.1f}s ({t_all / 60:.1f} min; target < 60 min at 1M), "
          f"{t_all / n * 1000:.2f} ms a page -> a million pages ~{t_all / n * 1e6 / 60:.0f} CPU-min; "
          f"whole process {b['cpu']:.0f}s CPU incl. reading the corpus; "
          f"{time.perf_counter() - t_build:.0f}s wall")
    print(f"build memory: peak RSS {b['rss_peak_mb']:.0f} MB ({b['rss_imports_mb']:.0f} MB after "
          f"imports; up to 1 GB of it the index file's pages mapped by mmap_size); anonymous "
          f"memory after the first batch {b['anon_first_mb']:.0f} MB, peak {b['anon_peak_mb']:.0f} "
          f"MB, after the last {b['anon_last_mb']:.0f} MB (flat: the build streams); "
          f"SQLite file {size / 1e6:.0f} MB (incl. page text and catalogue rows)")


def speed(args: argparse.Namespace, tmp: str) -> bool:
    db = os.path.join(tmp, "search.db")
    lex = Lexicon()
    truth_text = truth_sentences(args.samples)
    print(f"lexicon: {lex.size} jieba words drawn by corpus frequency"
          f"{'; with the samples true sentences' if args.samples else ''}")
    samples = args.samples.resolve() if args.samples else None
    key = hashlib.sha256(f"{args.seed}:{samples}".encode()).hexdigest()[:12]
    corpus = corpus_path(args.pages, key)
    if corpus.exists():
        print(f"corpus: cached ({corpus.name}, {corpus.stat().st_size / 1e6:.0f} MB gzip)")
    else:
        t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        build_corpus(corpus, args.pages, args.seed, truth_text, workers=args.workers)
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
        print(f"corpus: generated in {time.perf_counter() - t0:.0f}s wall by {args.workers} "
              f"processes ({cpu:.0f}s CPU, {cpu / args.pages * 1000:.2f} ms a page), "
              f"{corpus.stat().st_size / 1e6:.0f} MB gzip, kept in the temp dir")
    if args.corpus_only:
        return True

    # the index (and the trigram index) are built in fresh processes streaming the corpus
    # file, while this one reads the corpus into memory for the scan
    t_build = time.perf_counter()
    tri_db = os.path.join(tmp, "trigram.db")
    if args.reuse:
        print(f"index: reused from {tmp} (built by an earlier run; see its figures)")
        built = tri = None
    else:
        built = in_child(build_index, db, str(corpus))
        tri = in_child(build_trigram, tri_db, str(corpus)) if args.trigram else None

    texts: list[str] = []
    pages: list[Page] = []
    for ps in read_corpus(corpus):
        if args.reuse and args.first is not None and len(pages) >= args.first:
            break
        for d in ps:
            texts.append(d.text)
            pages.append(Page(d.item_id, d.secrecy, d.owner_id, d.department, hay_of(d)))
    n = len(pages)
    chars = sum(map(len, texts))
    n_items = len({p.item_id for p in pages})
    print(f"corpus: {n} pages / {n_items} items ({chars / 1e6:.1f}M chars, {chars / n:.0f}/page); "
          f"this process holds them all for the scan: peak RSS {_rss_mb():.0f} MB")

    print("sample page:", texts[len(texts) // 2][:150].replace("\n", "⏎"), "…")

    queries = pick_queries(texts, args.queries, seed=args.seed + 4)
    common = lex.common_two[: args.common]
    queries += common
    mid = mid_common(lex, [p.hay for p in pages], args.common)
    print(f"queries: {args.queries} phrases of 2-6 characters from random pages "
          f"+ {len(common)} common words ({'、'.join(common[:8])}…); "
          f"{len(mid)} words on 2-5% of pages for ranking ({'、'.join(mid[:8])}…)")

    # the scan first: it needs no index, so it runs while the children build
    rep = args.repeat
    big = n >= 300_000  # a scan of 300k pages or more takes half a second or more a query
    scan_rep = 1 if big else rep
    # at a million pages the scan (a second or more a query) runs on every 4th query:
    # its times are the baseline, its answers check the engine's on those queries
    sub = list(range(0, len(queries), 4)) if big else list(range(len(queries)))
    scanned = [queries[i] for i in sub]
    b_all, truth_all = time_brute(pages, scanned, ALL, scan_rep)
    item_page = {p.item_id: p for p in pages}
    truth_staff = [{i for i in t if visible(item_page[i], STAFF)} for t in truth_all]
    staff_sample = scanned[::2] if big else scanned
    b_staff, _ = time_brute(pages, staff_sample, STAFF, scan_rep)
    if big:
        print(f"scan at {n} pages: every 4th query ({len(scanned)}), one run each (not the "
              f"median of {rep}); the staff scan timed on every 8th ({len(staff_sample)}); its "
              f"answers are the all-visible scan's filtered by the same visibility rule")

    if built is not None:
        report_build(built.result(), n, tmp, t_build)
    while any(os.path.exists(f"/proc/{pid}") for pid in args.wait_pid):
        time.sleep(5)
    index_vs_text(db, texts)
    eng = SqliteFtsEngine(make_engine(db))
    if tri is not None:
        tb = tri.result()
        print(f"trigram baseline: built in {tb['cpu']:.0f}s CPU ({tb['cpu'] / n * 1000:.2f} ms a "
              f"page; peak RSS {tb['rss_peak_mb']:.0f} MB), {tb['bytes'] / 1e6:.0f} MB "
              f"(FTS5 with its own copy of the text)")
    for q in queries[:20]:  # warm the page cache
        eng.search(SearchRequest(q=q, visibility=ALL))
    lat_all, res_all = time_engine(eng, queries, ALL, rep)
    lat_staff, res_staff = time_engine(eng, queries, STAFF, rep)
    res_all, res_staff = [res_all[i] for i in sub], [res_staff[i] for i in sub]
    print("matching items per query (all visible):", histogram([len(t) for t in truth_all], n_items))
    print("  by length:", "  ".join(
        f"{k} chars median {pct([len(t) for q, t in zip(scanned, truth_all, strict=True) if len(q) == k], 50)}"
        for k in range(2, 7) if any(len(q) == k for q in scanned)))
    print("  staff user (公开/内部, own files only):",
          histogram([len(t) for t in truth_staff], n_items))
    for label, res, truth in (("all", res_all, truth_all), ("staff", res_staff, truth_staff)):
        print(f"check ({label}): {check(res, truth)}")

    print(f"latency per query, median of {rep} runs each; engine: 20 items a page, facets, snippets")
    print(f"engine, all visible   : {stats(lat_all)}")
    print(f"engine, staff         : {stats(lat_staff)}")
    print(f"brute force, all      : {stats(b_all)}")
    print(f"brute force, staff    : {stats(b_staff)}")
    kinds = extra_kinds(eng, queries, mid, rep)
    if args.trigram and os.path.exists(tri_db):
        if big:
            print(f"trigram at {n} pages: the scanned queries ({len(sub)}), one run each")
        tri_report(tri_db, [p.item_id for p in pages], scanned, truth_all, 1 if big else rep)
    ok = all(pct(lat, 95) <= TARGET_P95_MS for lat in kinds.values())
    for label, lat, bl in (("all", lat_all, b_all), ("staff", lat_staff, b_staff)):
        r50 = pct(bl, 50) / pct(lat, 50)
        rmean = statistics.fmean(bl) / statistics.fmean(lat)
        p95 = pct(lat, 95)
        # below 100k pages the scan itself takes a few ms: the speed-up is only shown
        good = p95 <= TARGET_P95_MS and (r50 >= TARGET_SPEEDUP or n < 100_000)
        ok = ok and good
        print(f"targets ({label}): p95 {p95:.1f} ms (<= {TARGET_P95_MS:.0f})  "
              f"speed-up p50/p50 {r50:.0f}x (>= {TARGET_SPEEDUP:.0f}x from 100k pages; "
              f"mean/mean {rmean:.0f}x)  "
              f"{'MET' if good else 'NOT MET'}")
    return ok


if __name__ == "__main__":
    raise SystemExit(main())
