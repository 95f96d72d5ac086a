"""SQLite-only behaviour: transactions and schema."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

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
    seen = [h.id for p in (1, 2) for h in s.search(
        SearchRequest(q="常见", visibility=ALL, per_page=3, page=p)).hits]
    assert len(seen) == len(set(seen)) == 5


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
    r = s.search(SearchRequest(q="常见", visibility=Visibility(
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
    from indexer.search.analysis import ANALYZER_VERSION, bigram_tokens, unigram_tokens
    from indexer.search.sqlite_engine import retokenize

    s = SqliteFtsEngine(engine)
    s.index_pages([_doc(1, "客户编号KH-202405001，签订日期2024年5月12日。")])
    with engine.begin() as c:  # what version 1 wrote: no key trigrams in `uni`
        c.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
        for pid, text in c.exec_driver_sql("SELECT id, text FROM search_page_text").fetchall():
            c.exec_driver_sql(
                "INSERT INTO search_fts (rowid, bi, uni, meta) VALUES (?, ?, ?, ?)",
                (pid, " ".join(bigram_tokens(text)), " ".join(unigram_tokens(text)), ""),
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
