"""The search query parser fuzzed against a real FTS5 index (#15.6).

Properties: parsing never raises; every parsed query (and its OCR-tolerant form) compiles
to MATCH expressions SQLite's FTS5 accepts, under every sort, filter and reader, on an index
built by the project's own engine; the service's parameter checks refuse bad values only
with their own error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from indexer.search.query import fts5_any, fts5_excluded, item_plan, parse_query, relax_query
from indexer.search.sqlite_engine import SqliteFtsEngine, create_schema
from indexer.search.types import SORT_ORDERS, PageDoc, SearchRequest, SortOrder, Visibility
from service.errors import InvalidInput
from service.search import SEARCH_FILTERS, parse_search_params
from service.vocab import SECRECY_LEVELS

PAGES = [
    "甲方应于二〇二四年三月前支付合同款人民币伍拾壹万元整（¥510,000.00）。",
    "合同编号 HT-2024-0031，客户编号 KH-202405001，联系电话 0755-74317357。",
    "身份证号 110101199003077517，签订日期 2024年5月12日，地点深圳。",
    "Contract No. HT-2024-0317, signed in Beijing on 2024-05-12.",
    "档案管理员负责登记、扫描、上传并核对页数；变动时无缝传递。",
    "本合同一式两份，双方各执一份，具有同等法律效力。NEAR AND OR NOT",
]
ALL = Visibility(secrecy=frozenset(SECRECY_LEVELS), see_all=True)
STAFF = Visibility(secrecy=frozenset({"公开", "内部"}), owner_ids=frozenset({2}),
                   departments=frozenset({"办公室"}))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteFtsEngine]:
    path: Path = tmp_path_factory.mktemp("fuzz-search") / "search.db"
    eng = create_engine(f"sqlite:///{path}")
    with eng.begin() as c:
        create_schema(c)
    fts = SqliteFtsEngine(eng)
    fts.index_pages([
        PageDoc(item_id=i // 2 + 1, page_no=i % 2 + 1, text=t, words=[],
                meta_text=f"题名{i} J001-HT·2024-D30-{i + 1:04d}",
                archival_code=f"J001-HT·2024-D30-{i // 2 + 1:04d}", title=f"合同{i}",
                fonds="J001", category="HT", year=2020 + i, retention="D30",
                secrecy=SECRECY_LEVELS[i % len(SECRECY_LEVELS)], fingerprint="f", owner_id=i % 3)
        for i, t in enumerate(PAGES)])
    yield fts
    eng.dispose()


#: Pieces a hostile or careless query is made of: the grammar's own operators, FTS5's
#: syntax, SQL, quotes of every kind, numbers, dates, identifiers, Chinese and odd Unicode.
PIECES = ["OR", "or", "AND", "NOT", "NEAR", "NEAR(", "-", "--", "*", "^", ":", "bi:", "uni:",
          "(", ")", "{", "}", '"', "\u201c", "\u201d", "\u300c", "\u300d", "'", "''", ";",
          "DROP TABLE pages;", "合同", "甲方", "变动时无缝传", "档", "HT-2024-0031", "KH202405001",
          "74317357", "2024-05-12", "2024年5月12日", "二〇二四年五月十二日", "510,000.00",
          "伍拾壹万元整", "Z109-WS·2011-Y-BGS-0001", "ＨＴ－２０２４", "\u3000", "\x00", "\u200b",
          "\ufffd", "𠀀", "O0lI", "1" * 40, "合" * 40, "a-b_c.d/e·f", "·", "/", "_", "..."]
queries = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(PIECES) | st.text(max_size=6), max_size=24)
    .flatmap(lambda parts: st.sampled_from([" ", "", "-", '"']).map(lambda sep: sep.join(parts))),
)


@given(queries)
def test_parsing_never_raises_and_compiles_to_what_fts5_accepts(engine: SqliteFtsEngine,
                                                                q: str) -> None:
    pq = parse_query(q)
    forms = [pq] + [r for r in [relax_query(pq)] if r is not None]
    with engine._engine.connect() as conn:
        for form in forms:
            if form.empty:
                continue
            plan = item_plan(form)
            exprs = [fts5_any(plan.shown), *map(fts5_any, plan.each),
                     fts5_excluded(plan.excluded)]
            for expr in filter(None, exprs):
                conn.execute(text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :q"),
                             {"q": expr}).scalar()


@given(queries, st.sampled_from(SORT_ORDERS), st.sampled_from([ALL, STAFF]),
       st.fixed_dictionaries({}, optional={
           "fonds": st.sampled_from(["J001", "'; --"]), "category": st.sampled_from(["HT", "WS"]),
           "year_from": st.integers(1900, 2030), "year_to": st.integers(1900, 2030),
           "secrecy": st.sampled_from(SECRECY_LEVELS), "customer": st.text(max_size=12)}),
       st.integers(1, 3))
def test_the_engine_answers_every_query(engine: SqliteFtsEngine, q: str, sort: str,
                                        vis: Visibility, filters: dict, page: int) -> None:
    result = engine.search(SearchRequest(q=q, visibility=vis, filters=filters,
                                         sort=cast(SortOrder, sort), page=page, per_page=3))
    assert result.total >= len(result.hits)


@given(st.dictionaries(st.sampled_from(sorted(SEARCH_FILTERS | {"q", "sort", "page", "limit"})),
                       st.text(max_size=30) | st.sampled_from(["2024", "٢٠٢٤", "２０２４", "0", "-1",
                                                               "99999999999999999999", "relevance",
                                                               "J001", "秘密", " "]),
                       max_size=6))
def test_search_parameters_are_accepted_or_refused_with_a_message(args: dict[str, str]) -> None:
    try:
        params = parse_search_params(args)
    except InvalidInput as exc:
        assert exc.message
        return
    assert params.sort in SORT_ORDERS and 1 <= params.per_page <= 200 and params.page >= 1
