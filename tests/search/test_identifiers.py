"""Keys of numbers, dates, amounts and identifiers (indexer.search.identifiers): the one
rule the index side and the query side share."""

from __future__ import annotations

import pytest

from indexer.search.analysis import fold, index_fields
from indexer.search.identifiers import (
    grams,
    id_check_digit,
    id_repair,
    id_valid,
    query_key,
    text_keys,
)

ID_NO = "320102198506151236"


@pytest.mark.parametrize("written", [
    "2024年5月12日", "2024年05月12日", "2024 年 5 月 12 日", "2024-05-12", "2024.5.12",
    "2024/05/12", "2024-5-12", "二〇二四年五月十二日", "2024年5月12号",
])
def test_one_date_one_key(written):
    assert query_key(fold(written)) == ("20240512", "date")
    assert "20240512" in text_keys(fold(f"签订日期：{written}。"))


def test_date_ocr_lookalikes_and_bad_dates():
    assert "20240118" in text_keys(fold("填表日期：2024年]月18日"))  # ] read for 1
    assert "20241231" in text_keys(fold("二〇二四年十二月三十一日"))
    assert text_keys(fold("2024年13月40日")) == ["2024"]  # no date key
    assert query_key(fold("2024-13-01")) == ("20241301", "id")  # not a date: a number
    assert query_key(fold("2024年5月")) == ("202405", "date")


@pytest.mark.parametrize("written, key", [
    ("壹拾肆万壹仟伍佰捌拾元整", "14158000"), ("伍拾壹万元整", "51000000"),
    ("玖万玖仟伍佰柒拾元柒角叁分", "9957073"), ("贰拾万肆仟元整", "20400000"),
    ("壹亿贰仟万元整", "12000000000"), ("叁元零伍分", "305"),
])
def test_capital_amounts(written, key):
    assert key in text_keys(fold(f"金额人民币{written}（大写）"))


def test_amount_query_keys_match_figures():
    assert query_key(fold("伍拾壹万元")) == ("510000", "amount")  # yuan only: ¥510,000 too
    assert query_key(fold("玖万玖仟伍佰柒拾元柒角叁分")) == ("9957073", "amount")
    assert query_key(fold("99,570.73")) == ("9957073", "id")
    assert "9957073" in text_keys(fold("（¥99,570.73）"))
    assert "51000000" in text_keys(fold("¥510,000.00"))


def test_identifier_keys_fold_connectors_and_lookalikes():
    assert query_key(fold("KH-202405001")) == query_key(fold("KH202405001")) == (
        "kh202405001", "id")
    assert query_key(fold("ＨＴ－２０２４－００１２")) == ("ht20240012", "id")
    assert text_keys(fold("客户编号 KH-2O24O5OO1 号")) == ["kh202405001"]
    assert text_keys(fold("电话 (0755)7431-7357，手机 139 1234 5678")) == [
        "075574317357", "13912345678"]
    assert query_key(fold("KH")) is None and query_key(fold("abcd")) is None
    assert query_key(fold("123")) is None  # under 4 characters: an ordinary word
    assert query_key(fold("合同")) is None


def test_keys_only_for_runs_with_digits():
    assert text_keys(fold("VIP 文档 CRM system")) == []
    assert text_keys(fold("第 1 页 共 2 页")) == []  # too short to key


def test_gb11643_check_digit():
    assert id_check_digit(ID_NO[:17]) == ID_NO[17] and id_valid(ID_NO)
    assert id_check_digit("11010519491231002") == "x"
    assert not id_valid(ID_NO[:17] + "9")
    assert not id_valid("12345678901234567")


def test_id_repair_only_when_unambiguous():
    assert id_repair(ID_NO) is None  # valid already
    assert id_repair("abc") is None
    # each candidate it proposes is valid and one OCR-typical digit away; never two
    n = 0
    for i in range(17):
        for d in "0123456789":
            misread = ID_NO[:i] + d + ID_NO[i + 1:]
            fixed = id_repair(misread)
            if fixed is not None:
                n += 1
                assert id_valid(fixed)
                assert sum(a != b for a, b in zip(fixed, misread, strict=True)) == 1
    assert n < 60


def test_key_trigrams_are_indexed_in_uni():
    _bi, uni, _meta = index_fields("合同编号：HT-2024-0012", "客户编号 KH-202405001")
    toks = uni.split()
    assert grams("ht20240012") == toks[toks.index("ht2"): toks.index("ht2") + 8]
    assert "kh2" in toks and "x" in toks
    assert grams("12") == [] and grams("123") == ["123"]


def test_numbers_on_two_lines_never_join():
    assert text_keys(fold("手机 13912345678\n2024-05-12 签订")) == ["13912345678", "20240512"]
