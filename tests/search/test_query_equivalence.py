"""The two engines' query compilers mean the same thing.

The Elasticsearch query built by ``es_engine`` is evaluated here by a tiny
interpreter of the DSL subset it uses (bool/term/prefix/match_phrase[_prefix]
over the whitespace-analysed token fields), and compared with what SQLite
FTS5 matches for the MATCH string built by ``query.to_fts5``, on the same
pages: exact queries and their OCR-tolerant relaxations alike.  Needs no
Elasticsearch server.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from indexer.search.analysis import index_fields
from indexer.search.es_engine import ElasticsearchEngine
from indexer.search.query import Fuzzy, parse_query, relax_query, to_fts5
from indexer.search.sqlite_engine import SqliteFtsEngine, create_schema
from indexer.search.types import SECRECY_LEVELS, PageDoc, SearchRequest, Visibility

ALL = Visibility(secrecy=frozenset(SECRECY_LEVELS), see_all=True)

TEXTS = [
    "客户信息在跨部门或人员变动时无颖传递，避免信息断层。",
    "人员变动时无缝传递。合同编号：HT-2024-0031，签订日期2024年5月12日。",
    "变动频繁，传递及时，时无定论。",
    "经甲方乙方友好协商，就钢材采购事宜达成如下协议。",
    "乙方甲方均已阅读并理解本协议全部条款。",
    "重点客户高频沟通，洪力客户定期培育。",
    "潜力客户定期培育，业务复盘分析。",
    "本批货物由鑫源仓储负责保管，5月签订。",
]

QUERIES = [
    "变动时无缝传", "变动时无缝", "时无缝传递", "甲方乙方", "乙方甲方", "潜力客户定期",
    "通潜力客户", "钢材 协议", "客户 OR 钢材", "客户 -潜力", "HT-2024-0031", "5月", "鑫",
    "号2024", "变动时无缝传 -频繁", "定期培育业务复盘", '"变动时无缝传"',
]


def _docs() -> list[PageDoc]:
    return [
        PageDoc(item_id=i, page_no=1, text=t, words=[], meta_text="", archival_code=f"A-{i}",
                title="样本", fonds="J001", category="HT", year=2024, retention="Y",
                secrecy="公开", fingerprint="x")
        for i, t in enumerate(TEXTS, start=1)
    ]


def _fields(d: PageDoc) -> dict[str, list[str]]:
    meta = " ".join(p for p in (d.meta_text, d.archival_code, d.title) if p)
    bi, uni, mt = index_fields(d.text, meta)
    return {"bi": bi.split(), "uni": uni.split(), "meta": mt.split(), "secrecy": [d.secrecy]}


def _seq(toks: list[str], want: list[str], prefix_last: bool) -> bool:
    n = len(want)
    for i in range(len(toks) - n + 1):
        if toks[i : i + n - 1] == want[:-1] and (
            toks[i + n - 1].startswith(want[-1]) if prefix_last else toks[i + n - 1] == want[-1]
        ):
            return True
    return False


def es_match(q: dict, doc: dict[str, list[str]]) -> bool:
    """Evaluate the DSL subset es_engine emits against one page's tokens."""
    (kind, body), = q.items()
    if kind == "bool":
        must = all(es_match(c, doc) for c in body.get("must", []) + body.get("filter", []))
        not_ = any(es_match(c, doc) for c in body.get("must_not", []))
        should = body.get("should", [])
        msm = body.get("minimum_should_match", 0 if body.get("must") or body.get("filter") else 1)
        return must and not not_ and sum(es_match(c, doc) for c in should) >= (msm if should else 0)
    (field, arg), = body.items()
    if kind == "term":
        return arg["value"] in doc[field]
    if kind == "terms":
        return any(v in doc.get(field, []) for v in arg)
    if kind == "prefix":
        return any(t.startswith(arg["value"]) for t in doc[field])
    if kind in ("match_phrase", "match_phrase_prefix"):
        return _seq(doc[field], arg["query"].split(), kind == "match_phrase_prefix")
    raise AssertionError(f"unexpected ES query {kind}")


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("eq") / "s.db"
    eng = create_engine(f"sqlite:///{path}")
    with eng.begin() as c:
        create_schema(c)
    s = SqliteFtsEngine(eng)
    s.index_pages(_docs())
    yield s, eng
    eng.dispose()


@pytest.mark.parametrize("q", QUERIES)
def test_sqlite_and_es_queries_agree(sqlite_engine, q):
    s, eng = sqlite_engine
    docs = _docs()
    es = ElasticsearchEngine.__new__(ElasticsearchEngine)  # build_query needs no server
    req = SearchRequest(q=q, visibility=ALL)
    pq = parse_query(q)
    forms = [pq] + ([r] if (r := relax_query(pq)) else [])
    matched = []
    for form in forms:
        with eng.connect() as c:
            lite = {
                r[0] for r in c.exec_driver_sql(
                    "SELECT rowid FROM search_fts WHERE search_fts MATCH ?", (to_fts5(form),)
                )
            }
        dsl = es.build_query(form, req, {})
        es_ids = {d.item_id for d in docs if es_match(dsl, _fields(d))}
        assert lite == es_ids, (q, form)
        matched.append(lite)
    # the engine answers with the exact matches, or the relaxed ones when there are none
    res = s.search(req)
    expect = matched[0] or (matched[1] if len(matched) > 1 else set())
    assert {h.id for h in res.hits} == expect
    assert res.fuzzy == (not matched[0] and len(matched) > 1)


def test_relaxation_rules():
    def relaxed(q: str) -> list[list[tuple[str, ...]]]:
        r = relax_query(parse_query(q))
        if r is None:
            return []
        return [
            [tuple(p.segs[0].text for p in alt) for alt in f.alternatives]
            for g in r.must for f in g.options if isinstance(f, Fuzzy)
        ]

    assert relaxed("变动时无缝传") == [[
        ("动时无缝传",), ("变", "时无缝传"), ("变动", "无缝传"), ("变动时", "缝传"),
        ("变动时无", "传"), ("变动时无缝",),
    ]]
    # every split keeps a part of 3+ characters: 通潜 + 客户 would be on many pages
    assert relaxed("通潜力客户") == [[("潜力客户",), ("通", "力客户"), ("通潜力", "户"), ("通潜力客",)]]
    # 4 characters: too short to tell a misread apart (绝密内容 -> 机密内容)
    assert relaxed("潜力客户") == relaxed("绝密内容") == relaxed("客户信") == []
    assert relaxed('"变动时无缝传"') == []  # quoted: exactly this
    assert relaxed("HT-2024-0031") == []
    assert relaxed("一二三四五六七八九十十一") == []  # longer than FUZZY_MAX_CHARS
    assert len(relaxed("变动时无缝传 甲方")) == 1  # only the long phrase is relaxed
