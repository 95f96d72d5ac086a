"""SQLite-only behaviour: transactions and schema."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from indexer.search.sqlite_engine import SqliteFtsEngine, create_schema
from indexer.search.types import SECRECY_LEVELS, PageDoc, SearchRequest, Visibility

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


def test_scan_cap_keeps_totals_and_facets_exact(engine):
    s = SqliteFtsEngine(engine, scan_cap=5)
    s.index_pages([_doc(i, f"常见词汇 第{i}件") for i in range(1, 31)])
    r = s.search(SearchRequest(q="常见", visibility=ALL, per_page=3))
    assert r.total == 30 and len(r.hits) == 3
    assert r.facets["fonds"] == {"J001": 30}


def test_rank_window_for_very_common_terms(engine):
    s = SqliteFtsEngine(engine, scan_cap=4, rank_window=6)
    s.index_pages([_doc(i, f"常见词汇 第{i}件") for i in range(1, 21)])
    r = s.search(SearchRequest(q="常见", visibility=ALL, per_page=3))
    assert r.total == 20 and len(r.hits) == 3
    assert r.facets["fonds"] == {"J001": 20}
    assert all(h.pages and "<mark>常见</mark>" in h.pages[0].snippet for h in r.hits)
