"""SQLite-only behaviour: transactions and schema."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event

from indexer.search.sqlite_engine import SqliteFtsEngine, create_schema
from indexer.search.types import PageDoc, SearchRequest, Visibility
from service.vocab import SECRECY_LEVELS

ALL = Visibility(secrecy=frozenset(SECRECY_LEVELS), see_all=True)


def _doc(item_id: int, text: str) -> PageDoc:
    return PageDoc(
        item_id=item_id, page_no=1, text=text, words=[], meta_text="", archival_code="A",
        title="T", fonds="J001", category="HT", year=2024, retention="Y", secrecy="公开",
        fingerprint="x", owner_id=1,
    )


@pytest.fixture
def engine(tmp_path):
    eng = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    with eng.begin() as c:
        create_schema(c)
        create_schema(c)  # idempotent
    yield eng
    eng.dispose()


def test_index_in_rolled_back_transaction_leaves_nothing(engine):
    s = SqliteFtsEngine(engine)
    s.index_pages([_doc(1, "保留的档案")])
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            s.index_pages([_doc(2, "回滚的档案")], conn=conn)
            s.index_pages([_doc(1, "覆盖的档案")], conn=conn)
            raise RuntimeError("catalogue write failed")
    assert s.count_pages() == 1
    assert s.indexed_items() == {1: "x"}
    r = s.search(SearchRequest(q="档案", visibility=ALL))
    assert [h.id for h in r.hits] == [1]
    assert s.search(SearchRequest(q="回滚", visibility=ALL)).total == 0
    assert s.search(SearchRequest(q="覆盖", visibility=ALL)).total == 0
    assert s.search(SearchRequest(q="保留", visibility=ALL)).total == 1


def test_committed_transaction_indexes(engine):
    s = SqliteFtsEngine(engine)
    with engine.begin() as conn:
        s.index_pages([_doc(3, "提交的档案")], conn=conn)
    assert s.search(SearchRequest(q="提交", visibility=ALL)).total == 1


def test_scan_cap_below_cap_is_exact(engine):
    s = SqliteFtsEngine(engine, scan_cap=30)
    s.index_pages([_doc(i, f"常见词汇 第{i}件") for i in range(1, 31)])
    r = s.search(SearchRequest(q="常见", visibility=ALL, per_page=3))
    assert r.total == 30 and len(r.hits) == 3 and r.total_is_exact
    assert r.facets["fonds"] == {"J001": 30}


def test_common_term_over_cap_is_flagged_approximate(engine):
    s = SqliteFtsEngine(engine, scan_cap=5)
    s.index_pages([_doc(i, f"常见词汇 第{i}件") for i in range(1, 31)])
    r = s.search(SearchRequest(q="常见", visibility=ALL, per_page=3))
    assert not r.total_is_exact
    assert r.total == 5 and len(r.hits) == 3  # the cap's worth of pages: a lower bound
    assert r.facets["fonds"] == {"J001": 5}
    assert all(h.pages and "<mark>常见</mark>" in h.pages[0].snippet for h in r.hits)
    # no cliff: a page past the cap's worth walks further (newest first), and its total
    # ("more than") always promises the next page
    pages = [s.search(SearchRequest(q="常见", visibility=ALL, per_page=3, page=p))
             for p in (1, 2, 3)]
    seen = [h.id for r in pages for h in r.hits]
    assert seen == list(range(30, 21, -1))
    assert all(not r.total_is_exact and r.total >= 3 * p + 1 for p, r in enumerate(pages, 1))
    last = s.search(SearchRequest(q="常见", visibility=ALL, per_page=3, page=10))
    assert [h.id for h in last.hits] == [3, 2, 1] and last.total == 30 and last.total_is_exact


def _owned(item_id: int, text: str, owner: int, secrecy: str = "公开") -> PageDoc:
    d = _doc(item_id, text)
    d.owner_id = owner
    d.secrecy = secrecy
    return d


def test_cap_counts_visible_pages_only(engine):
    """The cap applies after the permission check: a user who may see two of
    many matching items finds both (exactly), whatever the invisible ones."""
    s = SqliteFtsEngine(engine, scan_cap=4)
    docs = [_owned(i, f"常见词汇 第{i}件", owner=2) for i in range(1, 41)]
    docs[3] = _owned(4, "常见词汇 我的第一件", owner=1)  # indexed early, far outside the newest 4
    docs[10] = _owned(11, "常见词汇 我的第二件", owner=1, secrecy="秘密")
    docs[20] = _owned(21, "常见词汇 我的第三件", owner=1)
    s.index_pages(docs)
    me = Visibility(secrecy=frozenset({"公开", "内部"}), owner_ids=frozenset({1}))
    r = s.search(SearchRequest(q="常见", visibility=me))
    assert {h.id for h in r.hits} == {4, 21}
    assert r.total == 2 and r.total_is_exact
    assert r.facets["secrecy"] == {"公开": 2}
    # over the cap among the visible ones: flagged, never counting the rest
    r = s.search(SearchRequest(q="常见", per_page=2, visibility=Visibility(
        secrecy=frozenset({"公开"}), owner_ids=frozenset({2}))))
    assert not r.total_is_exact and r.total == 4 and sum(r.facets["fonds"].values()) == 4
    assert {h.id for h in r.hits} <= {d.item_id for d in docs if d.owner_id == 2}


def test_common_term_sorted_by_date_over_cap(engine):
    s = SqliteFtsEngine(engine, scan_cap=5)
    docs = []
    for i in range(1, 21):
        d = _doc(i, f"常见词汇 第{i}件")
        d.date = f"2020-01-{i:02d}"
        docs.append(d)
    s.index_pages(docs)
    r = s.search(SearchRequest(q="常见", visibility=ALL, sort="date_desc", per_page=3))
    assert [h.id for h in r.hits] == [20, 19, 18]  # the newest by date, not by indexing
    assert not r.total_is_exact and r.total == 5
    assert all(h.pages and h.pages[0].score > 0 for h in r.hits)
    r = s.search(SearchRequest(q="常见", visibility=ALL, sort="date_asc", per_page=3))
    assert [h.id for h in r.hits] == [1, 2, 3]


def test_retokenize_upgrades_an_index_of_an_older_analyzer(engine):
    """An index written by analyzer version 1 (no number keys) is analysed again in place
    (after every schema upgrade, service.migrate; an index file beside a PostgreSQL catalogue
    on opening)."""
    from indexer.search.analysis import ANALYZER_VERSION, bigram_tokens, fold, is_cjk
    from indexer.search.sqlite_engine import retokenize

    s = SqliteFtsEngine(engine)
    s.index_pages([_doc(1, "客户编号KH-202405001，签订日期2024年5月12日。")])
    with engine.begin() as c:  # what version 1 wrote: no key trigrams in `uni`
        c.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
        for pid, text in c.exec_driver_sql("SELECT id, text FROM search_page_text").fetchall():
            c.exec_driver_sql(
                "INSERT INTO search_fts (rowid, bi, uni, meta) VALUES (?, ?, ?, ?)",
                (pid, " ".join(bigram_tokens(text)),
                 " ".join(ch for ch in fold(text) if is_cjk(ch)), ""),
            )
        c.exec_driver_sql("UPDATE search_page SET analyzer = 1")

    def found(q: str) -> set[int]:
        return {h.id for h in s.search(SearchRequest(q=q, visibility=ALL)).hits}

    assert found("KH202405001") == found("2024-05-12") == set()
    with engine.begin() as c:
        assert retokenize(c) == 1
        assert retokenize(c) == 0  # nothing stale left
        assert c.exec_driver_sql("SELECT DISTINCT analyzer FROM search_page").scalars().all() == [
            ANALYZER_VERSION]
    assert found("KH202405001") == found("2024-05-12") == found("签订日期") == {1}
    s.index_pages([_doc(1, "改写后的页面")])  # rows delete cleanly under the new rules
    assert found("KH202405001") == set() and found("改写后") == {1}


def _dated(item_id: int, text: str, date: str | None, pages: int = 1) -> list[PageDoc]:
    out = []
    for n in range(1, pages + 1):
        d = _doc(item_id, text)
        d.page_no, d.date = n, date
        out.append(d)
    return out


def test_rowids_follow_item_dates(engine):
    """Pages get rowids in date order whatever the order they are indexed in (undated
    ones below every dated one), an item's pages side by side: FTS5's rowid order is the
    date order a date-sorted query walks (indexer.search.fts_rows)."""
    s = SqliteFtsEngine(engine)
    s.index_pages(_dated(1, "合同", "2021-03-01", pages=3))
    s.index_pages(_dated(2, "合同", "1998-12-31"))
    s.index_pages(_dated(3, "合同", None))
    s.index_pages(_dated(4, "合同", "2021-03-01"))
    s.index_pages(_dated(5, "合同", "2030-01-01"))
    s.index_pages(_dated(6, "合同", None))
    with engine.connect() as c:
        order = [r[0] for r in c.exec_driver_sql(
            "SELECT item_id FROM search_page ORDER BY id").fetchall()]
    assert order == [3, 6, 2, 1, 1, 1, 4, 5]
    r = s.search(SearchRequest(q="合同", visibility=ALL, sort="date_desc"))
    assert [h.id for h in r.hits] == [5, 4, 1, 2, 6, 3] and r.total_is_exact
    r = s.search(SearchRequest(q="合同", visibility=ALL, sort="date_asc"))
    assert [h.id for h in r.hits] == [2, 1, 4, 5, 3, 6]
    # an item split by the cap is kept whole, in the next window
    s2 = SqliteFtsEngine(engine, scan_cap=2)
    got = [h.id for p in (1, 2, 3) for h in s2.search(
        SearchRequest(q="合同", visibility=ALL, sort="date_desc", per_page=2, page=p)).hits]
    assert got == [5, 4, 1, 2, 6, 3]
    assert [len(h.pages) for h in s2.search(SearchRequest(
        q="合同", visibility=ALL, sort="date_desc", per_page=2, page=2)).hits] == [3, 1]


def test_common_term_and_rare_term_is_exact(engine):
    """AND of a term on more pages than the cap and a rare one: the rare one drives, the
    common one is checked on its items (across their pages), so the answer is exact."""
    s = SqliteFtsEngine(engine, scan_cap=3)
    for i in range(1, 31):
        docs = _dated(i, f"常见词汇 第{i}件", f"2020-01-{i % 28 + 1:02d}", pages=2)
        if i in (7, 19):
            docs[1].text = "罕见的冷库温度记录"
        s.index_pages(docs)
    r = s.search(SearchRequest(q="常见 冷库", visibility=ALL))
    assert {h.id for h in r.hits} == {7, 19} and r.total == 2 and r.total_is_exact
    assert {p.page for p in r.hits[0].pages} == {1, 2}  # pages with either term are shown
    r = s.search(SearchRequest(q="常见 -冷库", visibility=ALL, sort="date_desc", per_page=30))
    assert 7 not in {h.id for h in r.hits} and 19 not in {h.id for h in r.hits}
    assert len(r.hits) == 28 and r.total_is_exact



def _counted_common_engine(path, n: int):
    """An engine on `n` dated pages that all hold the word 常见, merged into one segment, and
    a counter of the SQLite VM steps (in hundreds) its new connections take: cost in steps
    stands up on a busy machine where time does not."""
    eng = create_engine(f"sqlite:///{path}")
    with eng.begin() as c:
        create_schema(c)
    s = SqliteFtsEngine(eng, scan_cap=50)
    s.index_pages([d for i in range(1, n + 1)
                   for d in _dated(i, f"常见词汇 第{i}件", f"20{i % 20:02d}-0{i % 9 + 1}-11")])
    # one segment: how many an unmerged index has depends on its bytes (FTS5 merges
    # as it writes), and every segment costs a seek a chunk, walk or no walk
    s.optimize()
    count = {"n": 0}

    def tick() -> int:
        count["n"] += 1
        return 0

    @event.listens_for(eng, "connect")
    def _handler(dbapi_conn, _rec):
        dbapi_conn.set_progress_handler(tick, 100)

    eng.dispose()  # new connections, with the handler
    return s, count, eng


def test_date_sorted_common_query_reads_about_what_it_shows(tmp_path):
    """The cost of a date-sorted query on a term on every page does not grow with the
    index (SQLite VM steps, counted by a progress handler): it stops after its window."""
    steps = []
    for n in (300, 3000):
        s, count, eng = _counted_common_engine(tmp_path / f"g{n}.db", n)
        r = s.search(SearchRequest(q="常见", visibility=ALL, sort="date_desc", per_page=10))
        assert len(r.hits) == 10 and not r.total_is_exact
        steps.append(count["n"])
        eng.dispose()
    assert steps[0] > 10 and steps[1] < 2 * steps[0] + 50, steps


def test_retokenize_lays_out_an_index_of_the_old_layout(tmp_path):
    """An index from before date-ordered rowids and filter tokens (three FTS columns, ids
    in indexing order) is rebuilt in place by the upgrade: new rowids, filter tokens, and
    every query kind works on it."""
    from indexer.search.sqlite_engine import _SCHEMA, retokenize

    eng = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with eng.begin() as c:
        c.exec_driver_sql(_SCHEMA[0])
        c.exec_driver_sql(_SCHEMA[1])
        c.exec_driver_sql("""CREATE VIRTUAL TABLE search_fts USING fts5(
            bi, uni, meta, content='', tokenize='unicode61 remove_diacritics 0')""")
        c.exec_driver_sql("CREATE INDEX ix_search_page_date ON search_page (date)")
        cur = c.connection.dbapi_connection.cursor()
        from indexer.search.analysis import ANALYZER_VERSION, index_fields

        for pid, (date, text) in enumerate([("2022-05-01", "旧的合同"), (None, "无日期合同"),
                                            ("2019-01-01", "更旧的合同")], start=1):
            cur.execute("INSERT INTO search_page (id, item_id, page_no, secrecy, date, owner_id, "
                        "analyzer) VALUES (?, ?, 1, '公开', ?, 1, ?)",
                        (pid, pid, date, ANALYZER_VERSION))
            cur.execute("INSERT INTO search_page_text (id, text, meta_text) VALUES (?, ?, '')",
                        (pid, text))
            cur.execute("INSERT INTO search_fts (rowid, bi, uni, meta) VALUES (?, ?, ?, ?)",
                        (pid, *index_fields(text, "")))
    with eng.begin() as c:
        assert retokenize(c) == 3
        assert retokenize(c) == 0
    s = SqliteFtsEngine(eng)
    me = Visibility(secrecy=frozenset({"公开"}), owner_ids=frozenset({1}))
    r = s.search(SearchRequest(q="合同", visibility=me, sort="date_desc"))
    assert [h.id for h in r.hits] == [1, 3, 2] and r.total == 3
    assert s.search(SearchRequest(q="合同", visibility=Visibility(
        secrecy=frozenset({"公开"}), owner_ids=frozenset({2})))).total == 0
    s.index_pages(_dated(3, "改写的页面", "2019-01-01"))  # rows delete cleanly
    assert s.search(SearchRequest(q="更旧", visibility=me)).total == 0
    eng.dispose()


def test_a_full_day_spills_into_the_next(engine, monkeypatch):
    """More pages of one date than a day's rowid range holds go on into the next day's
    range instead of failing; every page stays findable, in date order between days."""
    from indexer.search import fts_rows

    monkeypatch.setattr(fts_rows, "BUCKET_BITS", 2)  # four pages a day
    s = SqliteFtsEngine(engine)
    s.index_pages(_dated(1, "合同", "2020-01-01", pages=6))
    s.index_pages(_dated(2, "合同", "2020-01-02"))
    s.index_pages(_dated(3, "合同", "2019-12-31", pages=2))
    with engine.connect() as c:
        ids = [r[0] for r in c.exec_driver_sql("SELECT id FROM search_page").fetchall()]
    assert len(set(ids)) == 9
    r = s.search(SearchRequest(q="合同", visibility=ALL, sort="date_desc"))
    assert [h.id for h in r.hits] == [2, 1, 3] and r.total == 3
    s.index_pages(_dated(1, "合同", "2020-01-01", pages=6))  # reindexed: room found again
    assert s.search(SearchRequest(q="合同", visibility=ALL, sort="date_asc")).total == 3


@pytest.mark.parametrize("sort", ["relevance", "date_desc", "date_asc"])
def test_pages_that_match_alike_are_listed_in_page_order(engine, sort):
    """A hit's pages that match the query equally well come first page first: the walk reads
    rowids newest first, which put page 3 of an item before page 1 (a search result's link
    then opened the item on its last page)."""
    s = SqliteFtsEngine(engine)
    s.index_pages(_dated(1, "供货合同 乙方", "2024-03-01", pages=3))
    r = s.search(SearchRequest(q="供货合同", visibility=ALL, sort=sort))
    assert [p.page for p in r.hits[0].pages] == [1, 2, 3]


def test_iter_ids_walks_a_result_over_the_cap_whole_and_once(engine):
    """An export's cursor on a term on many more pages than the cap: every visible item
    once, in date order, items of more pages than a chunk included, other terms and
    exclusions checked across each item's pages as the search does."""
    s = SqliteFtsEngine(engine, scan_cap=5)
    mine = Visibility(secrecy=frozenset({"公开", "内部"}), owner_ids=frozenset({1}))
    expect: list[int] = []  # newest first
    for i in range(1, 61):
        pages = 9 if i % 10 == 0 else 1 + i % 3  # some items longer than a chunk
        docs = _dated(i, f"常见词汇 第{i}件", f"20{i // 12 + 10}-{i % 12 + 1:02d}-01", pages)
        for d in docs:
            d.owner_id = 1 if i % 4 else 2
            d.secrecy = "秘密" if i % 7 == 0 else "公开"
        if i % 9 == 0:
            docs[-1].text = "常见词汇 作废"  # excluded, on one page only
        s.index_pages(docs)
        if i % 4 and i % 7:
            expect.insert(0, i)
    r = s.search(SearchRequest(q="常见", visibility=mine))
    assert not r.total_is_exact and r.total < len(expect)
    got = list(s.iter_ids(SearchRequest(q="常见", visibility=mine)))
    assert got == expect
    assert list(s.iter_ids(SearchRequest(q="常见", visibility=mine, sort="date_asc"))) == \
        expect[::-1]
    got = list(s.iter_ids(SearchRequest(q="常见 -作废", visibility=mine, sort="code")))
    assert got == [i for i in expect if i % 9]
    got = list(s.iter_ids(SearchRequest(q="常见 词汇", visibility=mine)))
    assert got == expect
    # the search pages list the same, page after page (no cliff, nothing twice)
    pages = [h.id for p in range(1, 30) for h in s.search(SearchRequest(
        q="常见", visibility=mine, sort="date_desc", per_page=4, page=p)).hits]
    assert pages == expect


def test_iter_ids_costs_steps_linear_in_the_result(tmp_path):
    """Three times the matches cost about three times the SQLite VM steps (counted by a
    progress handler): one walk, not a search per page."""
    steps = []
    for n in (400, 1200):
        s, count, eng = _counted_common_engine(tmp_path / f"w{n}.db", n)
        assert len(set(s.iter_ids(SearchRequest(q="常见", visibility=ALL)))) == n
        steps.append(count["n"])
        eng.dispose()
    assert steps[0] > 10 and steps[1] <= 3.5 * steps[0], steps


def test_relevance_past_rank_cap_lists_newest_first(engine):
    """A user who does not see every match: bm25 restricted by item tokens costs by the
    item, so an exact result of more than rank_cap items is listed newest first (as an
    over-scan_cap one); up to it, by bm25 (the page saying the word most comes first)."""
    docs = []
    for i in range(1, 13):
        d = _owned(i, "常见词汇" * (1 if i < 12 else 9) + f" 第{i}件", owner=1)
        d.date = f"2020-01-{i + 10:02d}" if i < 12 else "2020-01-01"  # the best, the oldest
        docs.append(d)
    me = Visibility(secrecy=frozenset({"公开", "内部"}), owner_ids=frozenset({1}))
    req = SearchRequest(q="常见", visibility=me, per_page=3)
    s = SqliteFtsEngine(engine, rank_cap=20)
    s.index_pages(docs)
    r = s.search(req)
    assert r.total == 12 and r.total_is_exact and r.hits[0].id == 12  # bm25
    r = SqliteFtsEngine(engine, rank_cap=5).search(req)
    assert r.total == 12 and r.total_is_exact
    assert [h.id for h in r.hits] == [11, 10, 9]  # newest first
    # a user who sees every match keeps bm25 (over the rowid span: no item tokens)
    r = SqliteFtsEngine(engine, rank_cap=5).search(SearchRequest(q="常见", visibility=ALL))
    assert r.hits[0].id == 12


def test_one_term_query_reads_its_matches_once(engine):
    """A query of one term is walked without a probe counting its matches first (the
    walk's first chunk tells whether the result is exact); two terms are probed to pick
    the rarer one to walk."""
    s = SqliteFtsEngine(engine, scan_cap=50)
    s.index_pages([_doc(i, f"常见词汇 第{i}件 甲方") for i in range(1, 31)])
    counted: list[str] = []

    @event.listens_for(engine, "connect")
    def _trace(dbapi_conn, _rec):
        dbapi_conn.set_trace_callback(lambda sql: counted.append(sql) if "count(*)" in sql else None)

    engine.dispose()
    r = s.search(SearchRequest(q="常见", visibility=ALL))
    assert r.total == 30 and r.total_is_exact and not counted
    assert s.search(SearchRequest(q="常见 甲方", visibility=ALL)).total == 30 and counted
    assert s.search(SearchRequest(q="没有的词", visibility=ALL)).total == 0


def test_relevance_of_several_terms_past_rank_cap_lists_newest_first(engine):
    """A user who sees every match, several terms: the rowid span would hold every page
    with any of them (the terms' whole doclists), so bm25 is restricted by item tokens,
    up to rank_cap items; past it, newest first."""
    docs = []
    for i in range(1, 13):
        d = _owned(i, "常见词汇 " + "甲方" * (1 if i < 12 else 9) + f" 第{i}件", owner=1)
        d.date = f"2020-01-{i + 10:02d}" if i < 12 else "2020-01-01"  # the best, the oldest
        docs.append(d)
    docs += [_owned(100 + i, f"常见词汇 第{i}件", owner=2) for i in range(1, 30)]
    req = SearchRequest(q="常见 甲方", visibility=ALL, per_page=3)
    s = SqliteFtsEngine(engine, rank_cap=20)
    s.index_pages(docs)
    r = s.search(req)
    assert r.total == 12 and r.total_is_exact and r.hits[0].id == 12  # bm25
    r = SqliteFtsEngine(engine, rank_cap=5).search(req)
    assert r.total == 12 and [h.id for h in r.hits] == [11, 10, 9]  # newest first


def test_probes_count_a_terms_rows_not_what_the_user_sees(engine, monkeypatch):
    """Two terms are probed to pick the rarer one to walk; each probe counts the term's rows
    as indexed: counting only what a staff user sees read the term's whole doclist against
    the user's filter tokens (a third of such a query at 1M pages). The answer is the same."""
    from indexer.search import sqlite_engine
    from indexer.search.fts_rows import FILTER_COLUMN

    probed: list[str] = []
    real = sqlite_engine._probe
    monkeypatch.setattr(sqlite_engine, "_probe",
                        lambda cur, match, cap: probed.append(match) or real(cur, match, cap))
    s = SqliteFtsEngine(engine, scan_cap=4)
    docs = [_owned(i, f"常见词汇 甲方 第{i}件", owner=2) for i in range(1, 31)]
    docs[5] = _owned(6, "常见词汇 甲方 我的一件", owner=1)
    docs[9] = _owned(10, "常见词汇 我的另一件", owner=1)
    s.index_pages(docs)
    me = Visibility(secrecy=frozenset({"公开", "内部"}), owner_ids=frozenset({1}))
    r = s.search(SearchRequest(q="常见 甲方", visibility=me))
    assert [h.id for h in r.hits] == [6] and r.total == 1 and r.total_is_exact
    assert probed and not any(FILTER_COLUMN in m for m in probed), probed


def test_a_fuzzy_retry_is_not_ranked_by_bm25(engine):
    """A phrase found nowhere is retried OCR-tolerant; that result is not ranked by bm25
    (whose idf reads the whole doclist of every part of every alternative): its items come
    newest first, as a date-sorted one does."""
    s = SqliteFtsEngine(engine)
    docs = [
        _dated(1, "甲方承诺按期交付全部货物" * 5, "2020-01-01")[0],  # the most matches, oldest
        _dated(2, "甲方承诺按期交付全部货物", "2021-01-01")[0],
        _dated(3, "无关的文字", "2022-01-01")[0],
    ]
    s.index_pages(docs)
    ranked: list[str] = []

    @event.listens_for(engine, "connect")
    def _trace(dbapi_conn, _rec):
        dbapi_conn.set_trace_callback(lambda sql: ranked.append(sql) if "rank" in sql else None)

    engine.dispose()
    r = s.search(SearchRequest(q="甲方承诺按朗交付", visibility=ALL))  # 期 misread as 朗
    assert r.fuzzy and [h.id for h in r.hits] == [2, 1] and not ranked
    r = s.search(SearchRequest(q="甲方承诺按期交付", visibility=ALL))
    assert not r.fuzzy and r.hits[0].id == 1 and ranked  # bm25: the page with most matches


def test_and_of_a_rare_and_a_common_term_reads_the_items_walked(tmp_path):
    """The rarer term is walked and the other checked on the items walked, through their own
    tokens: the cost (SQLite VM steps) does not grow with the other term's rows, where
    reading all of them (under the cap) grew with them."""
    steps = []
    for n in (200, 1600):
        s, count, eng = _counted_common_engine(tmp_path / f"r{n}.db", n)
        s.scan_cap = 2000  # the common term's rows are under the cap at both sizes
        s.index_pages([_doc(n + 1, "常见词汇 稀有的字眼")])
        eng.dispose()
        count["n"] = 0
        r = s.search(SearchRequest(q="稀有 常见", visibility=ALL))
        assert [h.id for h in r.hits] == [n + 1] and r.total == 1 and r.total_is_exact
        steps.append(count["n"])
        eng.dispose()
    assert steps[1] < 1.5 * steps[0] + 20, steps
