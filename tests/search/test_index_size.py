"""The embedded index's size against the text it indexes (#15.2: at most 3x), and the
one-character queries whose tokens that size rests on (one token per distinct character,
behind a separator, in the text fields: indexer.search.analysis)."""

from __future__ import annotations

import random
import re
import sqlite3

import pytest
from search_corpus import CLAUSES, GOODS, PARTIES
from sqlalchemy import create_engine

from indexer.search.analysis import ANALYZER_VERSION, bigram_tokens, fold, is_cjk
from indexer.search.fts_rows import _HASHED, filter_tokens
from indexer.search.identifiers import text_grams
from indexer.search.sqlite_engine import SqliteFtsEngine, create_schema, retokenize
from indexer.search.types import PageDoc, SearchRequest, Visibility
from service.vocab import SECRECY_LEVELS

ALL = Visibility(secrecy=frozenset(SECRECY_LEVELS), see_all=True)

#: sentences of the kinds an archive of contracts and office papers holds
SENTENCES = CLAUSES + [
    "经双方友好协商，根据《中华人民共和国民法典》及有关法律法规，订立本合同。",
    "甲方委托乙方完成上述工程的设计、施工及竣工验收工作，乙方同意接受委托。",
    "工程质量应符合国家现行施工及验收规范，保修期自竣工验收合格之日起计算。",
    "如因不可抗力致使本合同不能履行，遭受不可抗力的一方应及时通知对方。",
    "任何一方违反本合同约定的，应当向对方支付违约金，并赔偿由此造成的损失。",
    "本单位现将二〇二三年度档案整理工作情况报告如下，请予审阅。",
    "全年共接收文书档案一千二百余卷，照片档案三百余张，均已完成著录和上架。",
    "根据上级主管部门的通知要求，结合本单位实际，制定本实施方案。",
    "会议由办公室主任主持，各部门负责人参加，会议研究了以下事项。",
    "请各部门于本月底前将本部门年度工作总结报送办公室，逾期不报的予以通报。",
    "经研究决定，同意调整部分岗位人员，具体名单见附件，自下发之日起执行。",
    "申请人因生产经营需要，拟向贵行申请流动资金贷款，期限十二个月。",
    "借款人应按期归还贷款本息，逾期未还的，贷款人有权按规定计收罚息。",
    "保证人自愿为借款人的上述债务提供连带责任保证，保证期间为两年。",
    "兹收到贵公司交来的投标保证金，待评标结束后无息退还。",
    "本发票仅作为报销凭证，不得转让或者重复使用，遗失不补。",
    "经审计，该单位会计核算基本规范，但存在部分原始凭证不完整的问题。",
    "整改意见：加强票据管理，严格执行财务审批制度，按期清理往来款项。",
    "职工因病或者非因工负伤，在规定的医疗期内，单位不得解除劳动合同。",
    "劳动者每日工作时间不超过八小时，用人单位应当保证劳动者每周至少休息一日。",
    "租赁期间，承租人应当妥善保管租赁物，因保管不善造成损失的，应当承担赔偿责任。",
    "出租人应当按照约定将租赁物交付承租人，并在租赁期间保持租赁物符合约定的用途。",
    "货物运输过程中发生损坏的，由承运人负责赔偿，但能证明是由于不可抗力造成的除外。",
    "验收时发现数量短缺或者质量不符合约定的，需方应当在十日内书面通知供方。",
    "本协议未尽事宜，双方可另行签订补充协议，补充协议与本协议具有同等效力。",
]


#: GB2312's level-1 characters (the 3,755 in everyday use), for names and places
HANZI = [c for i in range(40 * 94)
         if (c := bytes([0xB0 + i // 94, 0xA1 + i % 94]).decode("gb2312", "ignore"))]
random.Random(0).shuffle(HANZI)  # which are frequent: any, not the first by pinyin
#: Zipf weights: a few characters everywhere, most of them rare, as in real text
WEIGHTS = [1 / (k + 1) for k in range(len(HANZI))]
FIELDS = ["经办人", "联系人", "地址", "品名", "开户行", "项目名称", "收货单位", "备注"]


def _page(r: random.Random, year: int) -> str:
    """About 600 characters: a heading, sentences, registry lines (names, places, goods
    made of everyday characters) and the numbers papers carry."""
    a, b = r.choice(PARTIES)
    parts = [f"{r.choice(GOODS)}合同\n甲方：{a}\n乙方：{b}\n"]
    while sum(map(len, parts)) < 560:
        roll = r.random()
        if roll < 0.5:
            parts.append(r.choice(SENTENCES))
        elif roll < 0.8:
            name = "".join(r.choices(HANZI, WEIGHTS, k=r.randint(2, 8)))
            parts.append(f"{r.choice(FIELDS)}：{name}。")
        elif roll < 0.85:
            parts.append(f"合同编号：HT-{year}-{r.randint(1, 9999):04d}。")
        elif roll < 0.9:
            parts.append(f"金额：人民币{r.randint(1, 999) * 1000:,}.00元。")
        elif roll < 0.95:
            parts.append(f"日期：{year}年{r.randint(1, 12)}月{r.randint(1, 28)}日。")
        else:
            parts.append(f"联系电话：0{r.randint(10, 999)}-{r.randint(10_000_000, 99_999_999)}。")
    text = "".join(parts)
    return "\n".join(text[i : i + 36] for i in range(0, len(text), 36))


def corpus(n_pages: int, seed: int = 5) -> list[PageDoc]:
    """Items of 1-6 pages, dated over twenty years, like the bench's corpus in small."""
    r = random.Random(seed)
    docs: list[PageDoc] = []
    item = 0
    while len(docs) < n_pages:
        item += 1
        year = r.randint(2004, 2024)
        date = f"{year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        for page_no in range(1, min(r.randint(1, 6), n_pages - len(docs)) + 1):
            docs.append(PageDoc(
                item_id=item, page_no=page_no, text=_page(r, year), words=[],
                meta_text=f"客户编号 KH-{year}{item:05d} {r.choice(PARTIES)[1]}",
                archival_code=f"J001-HT·{year}-Y-{item:05d}", title="合同", fonds="J001",
                category="HT", year=year, retention="Y", secrecy="公开", date=date,
                owner_id=item % 7, fingerprint=f"fp{item}"))
    return docs


def _fts_bytes(path: str) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_fts%'")
                   .fetchone()[0])
    finally:
        con.close()


@pytest.fixture
def engine(tmp_path):
    eng = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    with eng.begin() as c:
        create_schema(c)
    yield eng
    eng.dispose()


def test_the_index_is_at_most_three_times_the_text(engine, tmp_path):
    """300 pages of contract text (characters and words recurring as in real papers):
    FTS5's tables at most 3x the UTF-8 bytes of the page text (one token per occurrence
    of every character, each with its position, made them 3.75x at 100k pages)."""
    docs = corpus(300)
    s = SqliteFtsEngine(engine)
    s.rebuild(docs)
    s.optimize()
    engine.dispose()
    text = sum(len(d.text.encode("utf-8")) for d in docs)
    ratio = _fts_bytes(str(tmp_path / "s.db")) / text
    assert ratio <= 3.0, f"index {ratio:.2f}x the text"


def test_one_character_queries_find_every_page_holding_the_character(engine):
    """Every character of every page, wherever it stands (inside a run, at a run's end,
    alone between numbers, only in the catalogue), finds exactly the items holding it."""
    docs = corpus(40, seed=11)
    docs[0].text += "\n型号A3型"  # 型 alone between Latin and digits, and at the end
    docs[1].meta_text += " 鑫"  # only in the catalogue text
    s = SqliteFtsEngine(engine)
    s.rebuild(docs)
    chars = sorted({ch for d in docs for ch in fold(d.text + d.meta_text) if is_cjk(ch)})
    for ch in chars:
        want = {d.item_id for d in docs if ch in fold(d.text + " " + d.meta_text)}
        r = s.search(SearchRequest(q=ch, visibility=ALL, per_page=100, facets=False))
        assert {h.id for h in r.hits} == want, ch


def test_no_phrase_runs_into_the_characters(engine):
    """The characters follow the text's tokens behind a separator: ``2024年`` must not
    match a page ending in 2024 whose first character is 年, nor can the separator be
    searched for."""
    s = SqliteFtsEngine(engine)
    s.rebuild([
        PageDoc(item_id=1, page_no=1, text="年度报告 编号2024", words=[], meta_text="",
                archival_code="A1", title="T", fonds="J001", category="HT", year=2024,
                retention="Y", secrecy="公开", fingerprint="x"),
        PageDoc(item_id=2, page_no=1, text="签订于2024年5月", words=[], meta_text="",
                archival_code="A2", title="T", fonds="J001", category="HT", year=2024,
                retention="Y", secrecy="公开", fingerprint="y"),
    ])

    def found(q: str) -> set[int]:
        return {h.id for h in s.search(SearchRequest(q=q, visibility=ALL)).hits}

    assert found("2024年") == {2}
    assert found("年") == {1, 2} and found("号2024") == {1} and found("年度") == {1}
    assert found("\ue000") == set() and found('"\ue000"') == set()


def _write_as_analyzer_3(engine, docs: list[PageDoc]) -> None:
    """Rewrite the FTS rows as analyzer version 3 wrote them: bigrams alone in ``bi`` and
    ``meta``, and ``uni`` one token per occurrence of every character, then the keys."""
    s = SqliteFtsEngine(engine)
    s.rebuild(docs)
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
        cols = ["owner_id", "year", *_HASHED]
        rows = c.exec_driver_sql(
            "SELECT p.id, t.text, t.meta_text, p.audience, p.item_id, "
            + ", ".join(f"p.{k}" for k in cols)
            + " FROM search_page p JOIN search_page_text t ON t.id = p.id").fetchall()
        for pid, text, meta, audience, item_id, *values in rows:
            t, m = fold(text), fold(meta)
            uni = [ch for ch in t if is_cjk(ch)] + [ch for ch in m if is_cjk(ch)]
            c.exec_driver_sql(
                "INSERT INTO search_fts (rowid, bi, uni, meta, f) VALUES (?, ?, ?, ?, ?)",
                (pid, " ".join(bigram_tokens(t, folded=True)),
                 " ".join(uni + text_grams(t) + text_grams(m)),
                 " ".join(bigram_tokens(m, folded=True)),
                 filter_tokens(item_id, audience, dict(zip(cols, values, strict=True)))))
        c.exec_driver_sql("UPDATE search_page SET analyzer = 3")


def test_an_index_of_analyzer_3_finds_what_it_found_after_the_upgrade(engine):
    """An index written by analyzer 3 (characters in their own column, one per
    occurrence) is re-laid by the upgrade (service.migrate and opening an index file call
    retokenize): one-character queries, identifier fragments and phrases then find what
    they found, and its rows delete cleanly under the new rules."""
    docs = corpus(30, seed=3)
    docs[0].text += "\n客户编号KH-202405001，签订日期2024年5月12日，经办人张璐。"
    words = ["璐", "张", "型", "签订日期", "违约金", "不可抗力", "5月", "档案 验收"]
    keys = ["KH202405001", "202405001", "2024-05-12"]
    plain = {d.item_id: "" for d in docs}
    for d in docs:
        plain[d.item_id] += re.sub(r"[\W_]+", "", fold(d.text + d.meta_text)) + "|"

    def found(q: str) -> set[int]:
        return {h.id for h in s.search(SearchRequest(q=q, visibility=ALL, per_page=100)).hits}

    # what version 3 found: each word on some page of the item (a scan of the text)
    want = {q: {i for i, t in plain.items() if all(w in t for w in q.split())} for q in words}
    want.update({q: {1} for q in keys})
    assert want["璐"] == {1} and want["违约金"] and want["5月"]
    _write_as_analyzer_3(engine, docs)
    s = SqliteFtsEngine(engine)
    assert all(found(q) == want[q] for q in keys)  # version 3 found these
    assert found("璐") == set()  # new rules on old rows: the upgrade must re-lay them
    with engine.begin() as c:
        assert retokenize(c) == len(docs)
        assert retokenize(c) == 0
        assert c.exec_driver_sql("SELECT DISTINCT analyzer FROM search_page").scalars().all() == [
            ANALYZER_VERSION]
    for q in words + keys:
        assert found(q) == want[q], q
    s.index_pages([d for d in docs if d.item_id == 1])  # rows delete cleanly
    s.delete_item(1)
    assert found("璐") == set() and found("KH202405001") == set()
