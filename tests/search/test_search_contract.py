"""One behavioural contract, run against every search engine.

Expected answers are computed from the corpus data in plain Python (substring
checks, visibility rule), never from an engine, so both engines are held to
the same independent truth.
"""

from __future__ import annotations

import html
import re
import unicodedata

import pytest
from search_corpus import items as corpus_items

from indexer.search.types import (
    FACET_FIELDS,
    PageDoc,
    SearchRequest,
    SearchResult,
    Visibility,
    catalogue_text,
    to_cli_json,
)
from service.vocab import SECRECY_LEVELS

ALL = Visibility(secrecy=frozenset(SECRECY_LEVELS), see_all=True)
# staff member 1 of 销售部, may see 公开/内部 only
STAFF = Visibility(
    secrecy=frozenset({"公开", "内部"}), owner_ids=frozenset({1}), departments=frozenset({"销售部"})
)


def search(eng, q: str, vis: Visibility = ALL, **kw) -> SearchResult:
    kw.setdefault("per_page", 100)
    return eng.search(SearchRequest(q=q, visibility=vis, **kw))


def ids(eng, q: str, vis: Visibility = ALL, **kw) -> set[int]:
    return {h.id for h in search(eng, q, vis, **kw).hits}


def visible(d: PageDoc, v: Visibility) -> bool:
    if d.item_id in v.granted_ids and d.secrecy in v.granted_secrecy:
        return True
    return d.secrecy in v.secrecy and (
        v.see_all or d.owner_id in v.owner_ids or d.department in v.departments
    )


def containing(corpus: list[PageDoc], needle: str, v: Visibility = ALL) -> set[int]:
    """Items with a page (text or catalogue text) containing ``needle``."""
    f = unicodedata.normalize("NFKC", needle).lower()
    out = set()
    for d in corpus:
        hay = unicodedata.normalize("NFKC", f"{d.text} {d.meta_text} {d.archival_code} {d.title}")
        if f in hay.lower() and visible(d, v):
            out.add(d.item_id)
    return out


# ---------------------------------------------------------------- matching


def test_two_char_query(loaded, corpus):
    assert ids(loaded, "鑫源") == containing(corpus, "鑫源") != set()
    assert ids(loaded, "钢材") == containing(corpus, "钢材")


def test_one_char_query(loaded, corpus):
    assert ids(loaded, "鑫") == containing(corpus, "鑫") != set()
    assert 13 in ids(loaded, "冷")


def test_phrase_order_matters(loaded):
    assert ids(loaded, "甲方乙方") == {1}
    assert ids(loaded, "乙方甲方") == {2}


def test_quoted_phrase(loaded, corpus):
    assert ids(loaded, '"甲方乙方"') == {1}
    assert ids(loaded, '"甲方 乙方"') == {1}  # OCR text has no spaces between CJK
    assert ids(loaded, '"热轧钢材二百吨"') == {9}
    assert ids(loaded, '"钢材二百吨热轧"') == set()


def test_and_by_default(loaded, corpus):
    both = containing(corpus, "钢材") & containing(corpus, "违约")
    assert ids(loaded, "钢材 违约") == both == {9}


def test_or(loaded, corpus):
    assert ids(loaded, "热轧 OR 五百吨") == {9, 10}
    assert ids(loaded, "鑫源仓储 OR 乙方甲方") == {8, 2}


def test_exclude(loaded):
    assert ids(loaded, "租赁") == {11, 12}
    assert ids(loaded, "租赁 -违约") == {11}
    assert ids(loaded, '租赁 -"逾期付款"') == {11}
    assert ids(loaded, "-租赁") == set()  # nothing positive: matches nothing


def item_level(corpus: list[PageDoc], must: list[str], must_not: list[str] = (),
               v: Visibility = ALL) -> set[int]:
    """The documented rule, in plain Python: an item is a hit when its pages together
    contain every required term and no page of it contains an excluded term."""
    out = set.intersection(*(containing(corpus, t, v) for t in must))
    for t in must_not:
        out -= containing(corpus, t, v)
    return out


def test_terms_match_across_pages_of_an_item(loaded, corpus):
    # item 13: page 1 合同首页, page 2 冷库温度, page 3 签章页
    assert ids(loaded, "合同首页 冷库温度") == item_level(corpus, ["合同首页", "冷库温度"]) == {13}
    r = search(loaded, "合同首页 冷库温度")
    assert r.total == 1 and sorted(p.page for p in r.hits[0].pages) == [1, 2]


def test_exclude_applies_to_every_page_of_an_item(loaded, corpus):
    # 冷库温度 is on page 2 only, 签章页 on page 3: the item has the excluded term
    assert ids(loaded, "冷库温度 -签章页") == item_level(corpus, ["冷库温度"], ["签章页"]) == set()
    assert search(loaded, "冷库温度 -签章页").total == 0
    assert ids(loaded, "冷库温度 -租赁") == {13}
    assert ids(loaded, "合同 -首页") == item_level(corpus, ["合同"], ["首页"])


def test_identifier_whole_and_parts(loaded, corpus):
    assert ids(loaded, "HT-2024-0031") == {3}
    assert ids(loaded, "ht-2024-0032") == {4}
    # no HT-2024-0033: only the OCR-tolerant fallback (one character misread) answers
    r = search(loaded, "HT-2024-0033")
    assert r.fuzzy and {h.id for h in r.hits} == {3, 4}
    assert ids(loaded, '"HT-2024-0033"') == set()
    assert ids(loaded, "0031") == {3}
    assert ids(loaded, "2024") >= {3, 4}
    assert ids(loaded, "KH-202405001") == {5}
    assert 5 in ids(loaded, "KH") == containing(corpus, "-KH")  # KH- customer no. or category code
    assert ids(loaded, "202405001") == {5}


def test_archival_code_searchable(loaded, corpus):
    it = corpus_items(corpus)[17]
    assert ids(loaded, it.archival_code) == {17}


def test_full_width_folding(loaded):
    assert ids(loaded, "HT-2023-0108") == {6}
    assert ids(loaded, "ＨＴ－２０２３－０１０８") == {6}
    assert ids(loaded, "abc公司") == {6}
    assert ids(loaded, "ＡＢＣ") == {6}


def test_number_then_cjk_prefix(loaded):
    assert ids(loaded, "5月") == {3}
    assert ids(loaded, "2024年5月12日") == {3}


def test_multi_page_item_best_page_first(loaded):
    r = search(loaded, "冷库温度")
    assert [h.id for h in r.hits] == [13]
    assert r.hits[0].pages[0].page == 2
    r = search(loaded, "合同首页")
    assert r.hits[0].pages[0].page == 1


# ---------------------------------------------------------------- filters, facets, order


FILTER_CASES = [
    ({"fonds": "J001"}, lambda d: d.fonds == "J001"),
    ({"fonds": ["J001", "Z109"]}, lambda d: True),
    ({"category": "HT"}, lambda d: d.category == "HT"),
    ({"year_from": 2021}, lambda d: d.year >= 2021),
    ({"year_to": 2020}, lambda d: d.year <= 2020),
    ({"year_from": 2020, "year_to": 2022}, lambda d: 2020 <= d.year <= 2022),
    ({"retention": "D30"}, lambda d: d.retention == "D30"),
    ({"secrecy": "内部"}, lambda d: d.secrecy == "内部"),
    ({"customer": "北京宏达建材有限公司"}, lambda d: d.customer == "北京宏达建材有限公司"),
    ({"box": "BOX-2020-01"}, lambda d: d.box == "BOX-2020-01"),
    ({"location": ["A库-1架", "A库-3架"]}, lambda d: d.location in ("A库-1架", "A库-3架")),
    ({"status": "借出"}, lambda d: d.status == "借出"),
    ({"status": []}, lambda d: False),
]


@pytest.mark.parametrize("filters,pred", FILTER_CASES, ids=[str(c[0]) for c in FILTER_CASES])
def test_filters(loaded, corpus, filters, pred):
    expect = {i for i in containing(corpus, "合同") if pred(corpus_items(corpus)[i])}
    r = search(loaded, "合同", filters=filters)
    assert {h.id for h in r.hits} == expect
    assert r.total == len(expect)


def test_unknown_filter_rejected(loaded):
    with pytest.raises(ValueError):
        search(loaded, "合同", filters={"owner_id": 1})


def expected_facets(corpus, ids_: set[int]) -> dict[str, dict[str, int]]:
    its = corpus_items(corpus)
    out: dict[str, dict[str, int]] = {f: {} for f in FACET_FIELDS}
    for i in ids_:
        for f in FACET_FIELDS:
            v = getattr(its[i], f)
            if v is not None:
                out[f][str(v)] = out[f].get(str(v), 0) + 1
    return out


@pytest.mark.parametrize("vis", [ALL, STAFF], ids=["all", "staff"])
def test_facets_count_items(loaded, corpus, vis):
    expect_ids = containing(corpus, "合同", vis)
    r = search(loaded, "合同", vis)
    assert r.total == len(expect_ids)
    assert r.facets == expected_facets(corpus, expect_ids)
    # a multi-page item counts once
    assert sum(r.facets["fonds"].values()) == r.total
    assert search(loaded, "合同", vis, facets=False).facets == {}


@pytest.mark.parametrize("sort", ["date_desc", "date_asc"])
def test_sort_by_date(loaded, corpus, sort):
    its = corpus_items(corpus)
    r = search(loaded, "合同", sort=sort)
    dates = [its[h.id].date for h in r.hits]
    assert dates == sorted(dates, reverse=sort == "date_desc")
    assert len(dates) == r.total


def test_pagination(loaded, corpus):
    expect = containing(corpus, "合同")
    seen: list[int] = []
    for page in range(1, 10):
        r = search(loaded, "合同", per_page=5, page=page, sort="date_desc")
        assert r.total == len(expect)
        assert len(r.hits) <= 5
        seen.extend(h.id for h in r.hits)
    assert sorted(seen) == sorted(expect)  # every item once, none twice
    rel = [h.id for p in (1, 2, 3) for h in search(loaded, "合同", per_page=4, page=p).hits]
    assert len(rel) == len(set(rel)) == 12
    assert search(loaded, "合同", per_page=5, page=999).hits == []


# ---------------------------------------------------------------- snippets and boxes


def test_snippet_marks_and_escapes(loaded):
    r = search(loaded, "恶意代码")
    snip = r.hits[0].pages[0].snippet
    assert "<mark>恶意代码</mark>" in snip
    assert "&lt;script&gt;" in snip
    stripped = snip.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped and ">" not in stripped
    r = search(loaded, "script")
    snip = r.hits[0].pages[0].snippet
    assert "&lt;<mark>script</mark>&gt;" in snip


def test_snippet_is_short_and_centered(loaded):
    for h in search(loaded, "合同").hits:
        for p in h.pages:
            plain = html.unescape(re.sub(r"</?mark>", "", p.snippet))
            assert len(plain) <= 125
    snip = search(loaded, "甲方乙方").hits[0].pages[0].snippet
    assert "<mark>甲方乙方</mark>" in snip


def test_full_width_highlight(loaded):
    snip = search(loaded, "HT-2023-0108").hits[0].pages[0].snippet
    assert "<mark>ＨＴ－２０２３－０１０８</mark>" in snip


def test_boxes_for_matched_words(loaded, corpus):
    r = search(loaded, "甲方乙方")
    page = r.hits[0].pages[0]
    words = [d for d in corpus if d.item_id == 1 and d.page_no == page.page][0].words
    line = [w for w in words if "甲方" in w["t"] or "乙方" in w["t"] or w["t"] in ("方乙",)]
    assert page.boxes, "matched words must have boxes"
    all_boxes = [{k: w[k] for k in "xywh"} for w in words]
    for b in page.boxes:
        assert b in all_boxes
    text = "".join(w["t"] for w in words if {k: w[k] for k in "xywh"} in page.boxes)
    assert "甲方乙方" in text
    assert line


def test_cli_json_contract(loaded):
    j = to_cli_json(search(loaded, "甲方乙方"))
    assert j["total"] == 1
    (hit,) = j["hits"]
    assert set(hit) == {"id", "archival_code", "title", "page", "snippet", "score", "pages"}
    assert hit["id"] == 1 and hit["page"] == 1 and "<mark>" in hit["snippet"]


# ---------------------------------------------------------------- hostile input

HOSTILE = [
    'NEAR(甲方 乙方)',
    "NEAR(",
    "甲方*",
    "*",
    "^甲方乙方",
    "bi:甲方",
    "{bi meta}:甲方",
    "uni : 鑫",
    '"',
    '"甲方乙方',
    '甲方乙方"',
    "((((",
    "))甲方乙方((",
    "甲" * 10_000,
    "a " * 5_000,
    "\x00\x01\x1b[31m甲方\x7f",
    "'; DROP TABLE search_page; --",
    "1 OR 1=1",
    "OR",
    "OR OR OR",
    "AND NOT",
    "-",
    "--甲方",
    "- - -",
    "",
    "   ",
    "\u200b\u3000",
    '""""""',
    "甲方 NOT 乙方",
    "+甲方 +乙方",
    "合同 AND",
    "%_%",
    "\\\"\\'",
    "😀合同",
    "ﬁ ㈱ ㎏",
]


@pytest.mark.parametrize("q", HOSTILE, ids=[repr(q[:20]) for q in HOSTILE])
def test_hostile_queries_are_safe(loaded, corpus, q):
    r = search(loaded, q, STAFF)
    assert isinstance(r, SearchResult)
    assert r.total >= 0 and r.total >= len(r.hits)
    allowed = {d.item_id for d in corpus if visible(d, STAFF)}
    assert {h.id for h in r.hits} <= allowed


def test_hostile_queries_keep_meaning(loaded):
    for q in ['"甲方乙方', '甲方乙方"', "))甲方乙方((", "^甲方乙方", "*甲方乙方*", "甲方乙方\x00"]:
        assert ids(loaded, q) == {1}, q
    assert ids(loaded, "bi:鑫源") == set()  # 'bi' is a word that must also occur
    assert ids(loaded, "NEAR(甲方乙方)") == set()  # likewise 'near'
    assert ids(loaded, "甲" * 10_000) == set()


# ---------------------------------------------------------------- permissions

SECRET_Q = "量子通信"


def test_permissions_hits_and_totals(loaded, corpus):
    assert ids(loaded, SECRET_Q) == {20, 21, 22, 23, 24}
    # staff: 20 is 绝密, 24 is 机密 (not in STAFF.secrecy); 21 is someone else's in 研发部
    assert ids(loaded, SECRET_Q, STAFF) == {22, 23}
    r = search(loaded, SECRET_Q, STAFF)
    assert r.total == 2
    assert sum(r.facets["secrecy"].values()) == 2
    assert set(r.facets["secrecy"]) == {"公开", "内部"}
    assert "绝密" not in r.facets["secrecy"] and "机密" not in r.facets["secrecy"]


@pytest.mark.parametrize(
    "vis,expect",
    [
        (Visibility(secrecy=frozenset({"公开"}), owner_ids=frozenset({1})), {22}),
        (Visibility(secrecy=frozenset({"公开", "内部"}), departments=frozenset({"销售部"})), {23}),
        (Visibility(secrecy=frozenset({"公开", "内部", "秘密", "机密"}), see_all=True), {21, 22, 23, 24}),
        (Visibility(secrecy=frozenset(SECRECY_LEVELS), owner_ids=frozenset({99})), {21}),
        (Visibility(secrecy=frozenset(SECRECY_LEVELS)), set()),
        (Visibility(secrecy=frozenset(), see_all=True), set()),
    ],
    ids=["owner", "department", "no-top-secret", "owner-99", "nobody", "no-levels"],
)
def test_permission_matrix(loaded, corpus, vis, expect):
    r = search(loaded, SECRET_Q, vis)
    assert {h.id for h in r.hits} == expect
    assert r.total == len(expect)
    assert sum(r.facets["secrecy"].values()) == len(expect)
    # the same holds for a broad query: never a hidden item, facets only visible
    allowed = {d.item_id for d in corpus if visible(d, vis)}
    r = search(loaded, "合同", vis)
    assert {h.id for h in r.hits} <= allowed
    assert r.total == len(containing(corpus, "合同", vis))
    assert sum(r.facets["fonds"].values()) == r.total


def test_invisible_text_never_in_snippets(loaded):
    r = search(loaded, "绝密 OR 机密级 OR 合同 OR 量子", STAFF, per_page=100)
    for h in r.hits:
        assert h.id not in (20, 21, 24)
        for p in h.pages:
            assert "绝密级" not in p.snippet and "密钥管理" not in p.snippet


def test_filter_cannot_widen_visibility(loaded):
    assert ids(loaded, SECRET_Q, STAFF, filters={"secrecy": ["绝密", "机密"]}) == set()


# ---------------------------------------------------------------- writing


def _doc(item_id: int, page_no: int, text: str, **kw) -> PageDoc:
    base = dict(
        words=[], meta_text="", archival_code=f"J001-HT·2024-Y-{item_id:04d}", title="测试合同",
        fonds="J001", category="HT", year=2024, retention="Y", secrecy="公开", status="在库",
        date="2024-01-01", owner_id=1, department="销售部", fingerprint=f"fp{item_id}",
    )
    base.update(kw)
    return PageDoc(item_id=item_id, page_no=page_no, text=text, **base)


def test_reindex_replaces_pages_and_delete(fresh):
    fresh.index_pages([_doc(1, n, f"第{n}页 旧文本标记") for n in (1, 2, 3)])
    assert fresh.count_pages() == 3
    fresh.index_pages([_doc(1, 1, "新文本内容", fingerprint="fp1b")])
    assert fresh.count_pages() == 1
    assert ids(fresh, "旧文本") == set()
    assert ids(fresh, "新文本") == {1}
    assert fresh.indexed_items() == {1: "fp1b"}
    fresh.index_pages([_doc(2, 1, "另一件档案")])
    assert fresh.indexed_items() == {1: "fp1b", 2: "fp2"}
    assert fresh.indexed_items([2, 99]) == {2: "fp2"} and fresh.indexed_items([]) == {}
    fresh.delete_item(1)
    assert ids(fresh, "新文本") == set()
    assert fresh.indexed_items() == {2: "fp2"}
    fresh.clear()
    assert fresh.count_pages() == 0 and fresh.indexed_items() == {}
    assert search(fresh, "档案").total == 0


def test_rebuild_replaces_the_whole_index(fresh):
    """`reindex --full` goes through `rebuild` on every engine (a capability of the protocol)."""
    fresh.index_pages([_doc(1, 1, "旧的档案内容"), _doc(3, 1, "将被移除的档案")])
    loaded = fresh.rebuild(iter([_doc(1, 1, "重建后的文本"), _doc(1, 2, "第二页内容"),
                                 _doc(2, 1, "另一件重建档案")]))
    assert loaded == 3 and fresh.count_pages() == 3
    assert fresh.indexed_items() == {1: "fp1", 2: "fp2"}
    assert ids(fresh, "旧的") == set() and ids(fresh, "重建") == {1, 2}


def test_permission_change_reindexed(fresh):
    fresh.index_pages([_doc(5, 1, "变更密级的文件")])
    assert ids(fresh, "密级", STAFF) == {5}
    fresh.index_pages([_doc(5, 1, "变更密级的文件", secrecy="机密")])
    assert ids(fresh, "密级", STAFF) == set()


def test_phrase_across_punctuation_and_line_breaks(loaded):
    # OCR drops or misreads punctuation; pasted phrases often omit it
    assert ids(loaded, "二百吨违约金") == {9}
    assert ids(loaded, "有限公司本合同") >= set()  # never raises across a line break
    snip = search(loaded, "二百吨违约金").hits[0].pages[0].snippet
    assert "<mark>二百吨，违约金</mark>" in snip


# ---------------------------------------------------------------- OCR tolerance


def test_ocr_tolerant_fallback(fresh):
    fresh.index_pages([
        _doc(1, 1, "客户信息在跨部门或人员变动时无颖传递，避免信息断层。"),  # OCR read 缝 as 颖
        _doc(2, 1, "与业务无关的文本，人员变动频繁。"),
        _doc(4, 1, "绝密：人员变动时无颖传递的安排。", secrecy="绝密"),
    ])
    r = search(fresh, "变动时无缝传")
    assert r.fuzzy and {h.id for h in r.hits} == {1, 4} and r.total == 2
    assert "<mark>变动时无</mark>" in r.hits[0].pages[0].snippet
    # permissions hold in the fallback too
    r = search(fresh, "变动时无缝传", STAFF)
    assert {h.id for h in r.hits} == {1} and r.total == 1
    assert sum(r.facets["secrecy"].values()) == 1
    # with an exact hit, only exact hits (the tolerant form is a fallback)
    fresh.index_pages([_doc(3, 1, "人员变动时无缝传递。")])
    r = search(fresh, "变动时无缝传")
    assert not r.fuzzy and {h.id for h in r.hits} == {3}
    # quoted means exactly this: never relaxed
    assert ids(fresh, '"变动时无缝传"') == {3}
    fresh.delete_item(3)
    assert ids(fresh, '"变动时无缝传"') == set()
    # two misread characters, or a short word: no fallback match
    assert ids(fresh, "变动时有缝传") == set()
    assert ids(fresh, "无缝") == set()
    assert not search(fresh, "无缝").fuzzy


# ---------------------------------------------------------------- personal data


def _personal_doc(item_id: int, text: str, masked_text: str, **kw) -> PageDoc:
    d = _doc(item_id, 1, text, **kw)
    d.masked = (masked_text, catalogue_text(d.meta_text, d.archival_code, d.title))
    return d


def test_masked_numbers_cannot_be_confirmed_by_search(fresh):
    """Users who may not see personal data match pages as masked: no hit, total, facet
    or exclusion tells them whether a number (or a fragment of it) is on a page."""
    fresh.index_pages([
        _personal_doc(1, "客户身份证号110105199003078765，手机13812345678，"
                         "备用138-2345-6789，证件110105 19900307 0017。",
                      "客户身份证号110***********8765，手机138****5678，"
                      "备用138-****-6789，证件110*** ******** 0017。"),
        _doc(2, 1, "客户资料登记表，无个人号码。"),
    ])
    restricted = Visibility(secrecy=ALL.secrecy, see_all=True, personal=False)
    findable = ("110105199003078765", "13812345678", "138-2345-6789", "2345", "19900307",
                "110105 19900307", '"110105199003078765"', "110105")
    for q in (*findable, "1990030787", "1381234", "105199"):
        if q in findable:
            assert ids(fresh, q) == {1}, q  # those who may see personal data find it
        r = search(fresh, q, restricted)
        assert r.total == 0 and r.hits == [], q
        assert all(not v for v in r.facets.values()), q
    # an exclusion is no oracle either: the number is not on the page these users see
    assert ids(fresh, "客户 -13812345678", restricted) == {1, 2}
    assert ids(fresh, "客户 -13812345678") == {2}
    # what they can read still finds the page, with the masked text as the snippet
    r = search(fresh, "手机", restricted)
    assert [h.id for h in r.hits] == [1] and r.total == 1
    assert "13812345678" not in r.hits[0].pages[0].snippet
    assert "138****5678" in r.hits[0].pages[0].snippet
    assert ids(fresh, "8765", restricted) == {1}  # the visible last digits
    # one page counted once, and gone with its item
    assert fresh.count_pages() == 2
    fresh.delete_item(1)
    assert search(fresh, "手机", restricted).total == 0 and search(fresh, "手机").total == 0
    assert fresh.count_pages() == 1


def test_personal_data_removed_from_a_page_drops_its_masked_row(fresh):
    fresh.index_pages([_personal_doc(1, "联系电话13812345678。", "联系电话138****5678。")])
    restricted = Visibility(secrecy=ALL.secrecy, see_all=True, personal=False)
    fresh.index_pages([_doc(1, 1, "联系电话已删除。")])
    assert ids(fresh, "联系电话", restricted) == {1} and fresh.count_pages() == 1
    assert ids(fresh, "5678", restricted) == set()


# ---------------------------------------------------------------- numbers and identifiers

ID_NO = "320102198506151236"  # made up, with a valid GB 11643 check digit


def _number_docs() -> list[PageDoc]:
    return [
        _doc(1, 1, "客户档案登记表\n客户编号：KH-202405001 登记日期：2024年5月12日\n"
                   f"身份证号码 {ID_NO} 手机号码 139 1234 5678\n固定电话 0755-74317357"),
        _doc(2, 1, "服务合同\n合同编号：HT-2024-0012\n签订日期：2024.5.12\n"
                   "合同总金额人民币壹拾肆万壹仟伍佰捌拾元整（¥141,580.00）"),
        _doc(3, 1, "发票\n开票日期 2024/05/12 金额 ¥99,570.73 付款期限二〇二四年六月一日"),
        _doc(4, 1, "会议纪要\n会议日期：2024-06-01，讨论 2024 年度预算 510,000.00 元。"),
        _doc(5, 1, "传真件\n客户编号 KH-2O24O6OO7 （OCR 把 0 读成 O）联系人 ]3800138000"),
    ]


@pytest.mark.parametrize("q, expect", [
    ("KH-202405001", {1}), ("KH202405001", {1}), ("kh202405001", {1}), ("202405001", {1}),
    ("05001", {1}),
    ("HT-2024-0012", {2}), ("HT20240012", {2}), ("HT2024-0012", {2}), ("2024-0012", {2}),
    ("20240012", {2}),
    # the last 4-8 digits of a phone or ID number, and the whole, however grouped
    ("13912345678", {1}), ("139-1234-5678", {1}), ("12345678", {1}), ("345678", {1}),
    ("5678", {1}), ("74317357", {1}), ("075574317357", {1}), ("0755-74317357", {1}),
    (ID_NO, {1}), (ID_NO[-4:], {1}), (ID_NO[-8:], {1}), (ID_NO[-6:], {1}),
    # one date in five spellings
    ("2024年5月12日", {1, 2, 3}), ("2024-05-12", {1, 2, 3}), ("2024.5.12", {1, 2, 3}),
    ("2024/05/12", {1, 2, 3}), ("20240512", {1, 2, 3}), ("二〇二四年五月十二日", {1, 2, 3}),
    ("2024年6月1日", {3, 4}), ("2024-06-01", {3, 4}),
    # amounts: figures with or without separators, Chinese capitals
    ("141,580.00", {2}), ("141580", {2}), ("壹拾肆万壹仟伍佰捌拾元整", {2}),
    ("99,570.73", {3}), ("99570.73", {3}), ("玖万玖仟伍佰柒拾元柒角叁分", {3}),
    ("伍拾壹万元", {4}), ("510000", {4}),
    # letters OCR reads for digits: KH-2O24O6OO7 is KH-202406007
    ("KH-202406007", {5}), ("202406007", {5}),
    # 档号 (catalogue text) without its connectors, and by its tail
    ("J001HT2024Y0003", {3}), ("J001-HT-2024-Y-0003", {3}), ("Y-0003", {3}),
])
def test_numbers_found_by_the_fragments_users_type(fresh, q, expect):
    fresh.index_pages(_number_docs())
    r = search(fresh, q)
    assert {h.id for h in r.hits} == expect, q
    assert not r.fuzzy, q


def test_number_fragments_keep_their_meaning(fresh):
    fresh.index_pages(_number_docs())
    assert ids(fresh, "2024") == {1, 2, 3, 4, 5}  # a plain number: still every page with it
    assert ids(fresh, "HT-2024-0012 服务合同") == {2}  # and with other words
    assert ids(fresh, "服务合同 -HT20240012") == set()  # an excluded number, however written
    assert ids(fresh, "测试合同 -HT20240012") == {1, 3, 4, 5}  # (the catalogue title)
    assert ids(fresh, "登记表 OR HT20240012") == {1, 2}
    assert ids(fresh, "74317") == {1}  # 5 digits: a fragment too
    r = search(fresh, "74317358")  # no such number: one digit off, the fallback answers
    assert r.fuzzy and {h.id for h in r.hits} == {1}
    # a number's parts never join across two numbers on a page
    assert ids(fresh, "56780755") == set()


def test_number_highlight_marks_the_written_form(fresh):
    fresh.index_pages(_number_docs())
    snip = search(fresh, "KH202405001").hits[0].pages[0].snippet
    assert "<mark>KH-202405001</mark>" in snip
    snip = search(fresh, "2024-05-12", per_page=10).hits
    marks = {h.id: h.pages[0].snippet for h in snip}
    assert "<mark>2024年5月12日</mark>" in marks[1]
    assert "<mark>2024.5.12</mark>" in marks[2]
    assert "<mark>2024/05/12</mark>" in marks[3]
    assert "<mark>12345678</mark>" not in search(fresh, "12345678").hits[0].pages[0].snippet
    assert "<mark>1234 5678</mark>" in search(fresh, "12345678").hits[0].pages[0].snippet


def test_misread_digit_found_by_the_tolerant_fallback(fresh):
    # OCR read one digit of the ID number wrong (…0615… as …0815…)
    misread = ID_NO[:11] + "8" + ID_NO[12:]
    fresh.index_pages([_doc(1, 1, f"身份证号码 {misread}"), _doc(2, 1, "身份证号码 另一人")])
    r = search(fresh, ID_NO)
    assert r.fuzzy and {h.id for h in r.hits} == {1}
    assert ids(fresh, f'"{ID_NO}"') == set()  # quoted: exactly this


def test_id_number_fragments_and_masking(fresh):
    """Users who may not see personal data: a fragment of a number finds the page only
    where the masked page shows it (the last four digits), and the snippet is masked."""
    masked = f"身份证号码 {ID_NO[:3]}{'*' * 11}{ID_NO[-4:]} 手机 139****5678"
    fresh.index_pages([_personal_doc(1, f"身份证号码 {ID_NO} 手机 13912345678", masked)])
    restricted = Visibility(secrecy=ALL.secrecy, see_all=True, personal=False)
    for q in (ID_NO, ID_NO[-8:], ID_NO[-6:], ID_NO[6:14], "19850615", "1985-06-15",
              "13912345678", "12345678", "91234", ID_NO[:10]):
        assert ids(fresh, q) == {1}, q  # those who may see personal data
        r = search(fresh, q, restricted)
        assert r.total == 0 and r.hits == [], q
    r = search(fresh, ID_NO[-4:], restricted)
    assert [h.id for h in r.hits] == [1]
    snip = r.hits[0].pages[0].snippet
    assert ID_NO not in snip and f"<mark>{ID_NO[-4:]}</mark>" in snip and "***" in snip


# ---------------------------------------------------------------- viewing grants (issue 13)

LOANABLE = frozenset({"公开", "内部", "秘密"})


@pytest.mark.parametrize("vis,expect", [
    # a grant opens an item outside the user's scope, up to the levels a loan may open
    (Visibility(secrecy=frozenset(), granted_ids=frozenset({20, 21, 24}),
                granted_secrecy=LOANABLE), {21}),
    # grants add to what the scope opens
    (Visibility(secrecy=frozenset({"公开", "内部"}), owner_ids=frozenset({1}),
                departments=frozenset({"销售部"}), granted_ids=frozenset({21}),
                granted_secrecy=LOANABLE), {21, 22, 23}),
    # granted ids without levels open nothing
    (Visibility(secrecy=frozenset(), granted_ids=frozenset({21})), set()),
], ids=["grant-only", "scope-and-grant", "no-levels"])
def test_viewing_grants_open_items_in_hits_totals_and_facets(loaded, corpus, vis, expect):
    assert containing(corpus, "量子通信", vis) == expect
    r = search(loaded, "量子通信", vis)
    assert {h.id for h in r.hits} == expect and r.total == len(expect)
    assert r.facets == (expected_facets(corpus, expect) if expect else r.facets)
    assert sum(r.facets["secrecy"].values()) == len(expect)
    excluded = search(loaded, "量子通信 -线路", vis)  # an exclusion sees only what may open
    assert {h.id for h in excluded.hits} == expect - {22}


# ---------------------------------------------------------------- a whole result (exports)


def _all_pages(eng, q: str, vis: Visibility, sort: str, filters=None) -> list[int]:
    """The result as the search lists it, page after page."""
    out: list[int] = []
    for page in range(1, 50):
        r = eng.search(SearchRequest(q=q, visibility=vis, sort=sort, page=page, per_page=3,
                                     filters=filters or {}, facets=False))
        out += [h.id for h in r.hits]
        if not r.hits:
            return out
    raise AssertionError("more pages than the corpus has items")


@pytest.mark.parametrize("sort", ["relevance", "date_desc", "date_asc", "code"])
@pytest.mark.parametrize("vis", [ALL, STAFF], ids=["all", "staff"])
def test_iter_ids_lists_the_whole_result_once_in_its_order(loaded, corpus, vis, sort):
    """An export's cursor (SearchEngine.iter_ids): every item the search finds for this
    user, each once, in the order the search pages list them, whatever page was asked."""
    def has(word: str) -> set[int]:
        return containing(corpus, word, vis)

    expect = {"合同": has("合同"), "合同 -钢材": has("合同") - has("钢材"),
              "鑫源 OR 量子通信": has("鑫源") | has("量子通信"), SECRET_Q: has(SECRET_Q)}
    for q, items in expect.items():
        got = list(loaded.iter_ids(SearchRequest(q=q, visibility=vis, sort=sort, page=4,
                                                 per_page=1)))
        assert len(got) == len(set(got)) and set(got) == items != set(), q
        assert got == _all_pages(loaded, q, vis, sort), q


def test_iter_ids_applies_filters_and_permissions(loaded, corpus):
    got = list(loaded.iter_ids(SearchRequest(q="合同", visibility=STAFF,
                                             filters={"secrecy": ["内部"]})))
    its = corpus_items(corpus)
    assert got and {its[i].secrecy for i in got} == {"内部"}
    assert set(got) == {i for i in containing(corpus, "合同", STAFF) if its[i].secrecy == "内部"}
    assert list(loaded.iter_ids(SearchRequest(q=SECRET_Q, visibility=STAFF,
                                              filters={"secrecy": ["绝密", "机密"]}))) == []
    nobody = Visibility(secrecy=frozenset(SECRECY_LEVELS))
    assert list(loaded.iter_ids(SearchRequest(q="合同", visibility=nobody))) == []
    assert list(loaded.iter_ids(SearchRequest(q="  ", visibility=ALL))) == []


def test_iter_ids_takes_the_tolerant_fallback_as_the_search_does(fresh):
    fresh.index_pages([
        _doc(1, 1, "客户信息在跨部门或人员变动时无颖传递，避免信息断层。"),
        _doc(2, 1, "与业务无关的文本，人员变动频繁。"),
        _doc(4, 1, "绝密：人员变动时无颖传递的安排。", secrecy="绝密"),
    ])
    assert set(fresh.iter_ids(SearchRequest(q="变动时无缝传", visibility=ALL))) == {1, 4}
    assert list(fresh.iter_ids(SearchRequest(q="变动时无缝传", visibility=STAFF))) == [1]
    fresh.index_pages([_doc(3, 1, "人员变动时无缝传递。")])
    assert list(fresh.iter_ids(SearchRequest(q="变动时无缝传", visibility=ALL))) == [3]
