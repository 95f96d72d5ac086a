"""The two engines' query compilers mean the same thing.

The Elasticsearch query built by ``es_engine`` is evaluated here by a tiny
interpreter of the DSL subset it uses (bool/term/terms/prefix/has_child/
match_phrase[_prefix] over the whitespace-analysed token fields, on item
documents with their page documents), and compared with what the SQLite
engine answers, on the same items: exact queries and their OCR-tolerant
relaxations alike, single- and multi-page items (the item-level rule).
Needs no Elasticsearch server.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from indexer.search.analysis import index_fields
from indexer.search.es_engine import ElasticsearchEngine
from indexer.search.query import Fuzzy, parse_query, relax_query
from indexer.search.sqlite_engine import SqliteFtsEngine, create_schema
from indexer.search.types import PageDoc, SearchRequest, Visibility
from service.vocab import SECRECY_LEVELS

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
    "客户编号 KH-2O24O5OO1，电话 0755-74317357，2024.5.12 付款 ¥510,000.00。",
    "身份证号码 320102198506181236，金额伍拾壹万元整。",
]
#: items of several pages: the item-level rule (terms across pages, exclusion on any page)
MULTI = [
    ["这是客户档案的首页。", "客户签字页。"],
    ["钢材采购清单。", "违约责任条款。"],
]

QUERIES = [
    "变动时无缝传", "变动时无缝", "时无缝传递", "甲方乙方", "乙方甲方", "潜力客户定期",
    "通潜力客户", "钢材 协议", "客户 OR 钢材", "客户 -潜力", "HT-2024-0031", "5月", "鑫",
    "号2024", "变动时无缝传 -频繁", "定期培育业务复盘", '"变动时无缝传"',
    "客户 -档案", "钢材 违约", "钢材 -违约", "签字页 客户档案", "采购清单 -协议",
    # numbers by their keys (index side and query side: indexer.search.identifiers)
    "KH202405001", "74317357", "2024-05-12", "2024年5月12日", "伍拾壹万元", "510,000",
    "320102198506151236", "1236", "客户 -74317357", "HT20240031 OR 05001",
]

#: item ids (1-based positions in TEXTS) the number queries must find
FOUND = {"KH202405001": {9}, "74317357": {9}, "2024-05-12": {2, 9}, "伍拾壹万元": {9, 10},
         "510,000": {9, 10}, "320102198506151236": {10}, "客户 -74317357": {1, 6, 7, 11}}


def _docs() -> list[PageDoc]:
    items = [[t] for t in TEXTS] + MULTI
    return [
        PageDoc(item_id=i, page_no=n, text=t, words=[], meta_text="", archival_code=f"A-{i}",
                title="样本", fonds="J001", category="HT", year=2024, retention="Y",
                secrecy="公开", fingerprint="x")
        for i, pages in enumerate(items, start=1)
        for n, t in enumerate(pages, start=1)
    ]


def _items(docs: list[PageDoc]) -> dict[int, dict]:
    """Each item as Elasticsearch holds it: the item document's fields and its pages'."""
    out: dict[int, dict] = {}
    for d in docs:
        item = out.setdefault(d.item_id, {"kind": ["item"], "secrecy": [d.secrecy], "pages": []})
        item["pages"].append(_fields(d))
    return out


def _fields(d: PageDoc) -> dict[str, list[str]]:
    meta = " ".join(p for p in (d.meta_text, d.archival_code, d.title) if p)
    bi, uni, mt = index_fields(d.text, meta)
    return {"bi": bi.split(), "uni": uni.split(), "meta": mt.split(), "secrecy": [d.secrecy],
            "kind": ["page"], "audience": ["all"]}


def _seq(toks: list[str], want: list[str], prefix_last: bool) -> bool:
    n = len(want)
    for i in range(len(toks) - n + 1):
        if toks[i : i + n - 1] == want[:-1] and (
            toks[i + n - 1].startswith(want[-1]) if prefix_last else toks[i + n - 1] == want[-1]
        ):
            return True
    return False


def _spans(q: dict, doc: dict[str, list[str]]) -> list[tuple[int, int]]:
    """[start, end) token spans of a span query (span_term, span_near), as ES defines them:
    the clauses' spans with at most ``slop`` unmatched positions between them."""
    (kind, body), = q.items()
    if kind == "span_term":
        (field, tok), = body.items()
        return [(i, i + 1) for i, t in enumerate(doc[field]) if t == tok]
    assert kind == "span_near", kind
    parts = [_spans(c, doc) for c in body["clauses"]]
    orders = [parts] if body["in_order"] else [parts, parts[::-1]]
    out: list[tuple[int, int]] = []
    for seq in orders:
        chains = [[s] for s in seq[0]]
        for nxt in seq[1:]:
            chains = [c + [s] for c in chains for s in nxt if s[0] >= c[-1][1]]
        for c in chains:
            gaps = sum(b[0] - a[1] for a, b in zip(c, c[1:], strict=False))
            if gaps <= body["slop"]:
                out.append((c[0][0], c[-1][1]))
    return out


def es_match(q: dict, doc: dict[str, list[str]]) -> bool:
    """Evaluate the DSL subset es_engine emits against one page's tokens."""
    (kind, body), = q.items()
    if kind == "span_near":
        return bool(_spans(q, doc))
    if kind == "bool":
        must = all(es_match(c, doc) for c in body.get("must", []) + body.get("filter", []))
        not_ = any(es_match(c, doc) for c in body.get("must_not", []))
        should = body.get("should", [])
        msm = body.get("minimum_should_match", 0 if body.get("must") or body.get("filter") else 1)
        return must and not not_ and sum(es_match(c, doc) for c in should) >= (msm if should else 0)
    if kind == "has_child":
        assert body["type"] == "page"
        return any(es_match(body["query"], page) for page in doc["pages"])
    (field, arg), = body.items()
    if kind == "term":
        return (arg["value"] if isinstance(arg, dict) else arg) in doc[field]
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
    s, _eng = sqlite_engine
    items = _items(_docs())
    es = ElasticsearchEngine.__new__(ElasticsearchEngine)  # build_query needs no server
    req = SearchRequest(q=q, visibility=ALL)
    pq = parse_query(q)
    forms = [pq] + ([r] if (r := relax_query(pq)) else [])
    matched = []
    for form in forms:
        dsl = es.build_query(form, req, {})
        matched.append({i for i, item in items.items() if es_match(dsl, item)})
    # both engines answer with the exact matches, or the relaxed ones when there are none
    res = s.search(req)
    expect = matched[0] or (matched[1] if len(matched) > 1 else set())
    if q in FOUND:  # the numbers' queries find their item (the agreement is not vacuous)
        assert expect == FOUND[q], q
    assert {h.id for h in res.hits} == expect
    assert res.fuzzy == (not matched[0] and len(matched) > 1)


def test_item_level_rule_in_both_compilers(sqlite_engine):
    s, _eng = sqlite_engine
    customer, steel = len(TEXTS) + 1, len(TEXTS) + 2
    es = ElasticsearchEngine.__new__(ElasticsearchEngine)
    items = _items(_docs())
    for q, want_in in (("客户 -档案", False), ("钢材 违约", True), ("钢材 -违约", False),
                       ("签字页 客户档案", True)):
        item = customer if "客户" in q else steel
        req = SearchRequest(q=q, visibility=ALL)
        assert (item in {h.id for h in s.search(req).hits}) is want_in, q
        assert es_match(es.build_query(parse_query(q), req, {}), items[item]) is want_in, q


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
    # a number's key: one character misread, dropped or added; parts of 3+ characters,
    # one of 5+ (never only the last four digits a masked page shows)
    assert relaxed("1381234") == [[("381234",), ("81234",), ("13812",), ("138123",)]]
    assert ("ht2", "240031") in relaxed("HT-2024-0031")[0]
    assert relaxed("HT-2024") == relaxed("123456") == []  # keys under 7 characters
    assert relaxed("一二三四五六七八九十十一十二十三十四") == []  # longer than FUZZY_MAX_CHARS
    assert len(relaxed("变动时无缝传 甲方")) == 1  # only the long phrase is relaxed
