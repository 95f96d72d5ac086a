"""Resident ID and mobile numbers are masked for users without the right to see them,
however the scan wrote them (issue 8, finding 15)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from indexer.search.analysis import fold
from indexer.search.identifiers import id_check_digit, id_repair, text_keys
from service.models import User
from service.privacy import can_see_personal, mask_personal, text_for


@pytest.mark.parametrize("raw,masked", [
    ("身份证号：110105199003078764。", "身份证号：110***********8764。"),
    ("证件号码11010519900307101X", "证件号码110***********101X"),
    ("联系电话13812345678，", "联系电话138****5678，"),
    ("电话 +86 13812345678", "电话 +86 138****5678"),
    ("电话8613812345678", "电话86138****5678"),
    # hostile formats: separators, spacing, full-width digits, neighbouring letters
    ("电话 138-1234-5678", "电话 138-****-5678"),
    ("电话 138 1234 5678", "电话 138 **** 5678"),
    ("Tel +86 138 1234 5678.", "Tel +86 138 **** 5678."),
    ("手机：(+86)138.1234.5678", "手机：(+86)138.****.5678"),
    ("1 3 8 1 2 3 4 5 6 7 8", "1 3 8 * * * * 5 6 7 8"),
    ("电话１３８１２３４５６７８", "电话１３８****５６７８"),
    ("电话１３８－１２３４－５６７８", "电话１３８－****－５６７８"),
    ("Mobile13812345678ext", "Mobile138****5678ext"),
    ("身份证 110105 19900307 0017", "身份证 110*** ******** 0017"),
    ("110105-19900307-101X", "110***-********-101X"),
    ("1 1 0 1 0 5 1 9 9 0 0 3 0 7 8 7 6 4", "1 1 0 * * * * * * * * * * * 8 7 6 4"),
    ("１１０１０５１９９００３０７８７６４", "１１０***********８７６４"),
    # broken over lines, OCR's letters for digits inside a group with real digits
    ("身份证号 11010519\n9003078764 止", "身份证号 110*****\n******8764 止"),
    ("身份证号 110105\r\n19900307\r\n8764", "身份证号 110***\r\n********\r\n8764"),
    ("11O1O5199OO3O78764", "11O***********8764"),
    ("身份证 l10105l99003078764", "身份证 l10***********8764"),
    ("电话 l38 l234 5678", "电话 l38 **** 5678"),
    ("电话 138I2345678", "电话 138****5678"),
    ("手机 13B 1234 S678", "手机 13B **** S678"),
    ("Tel13812345678", "Tel138****5678"),
    ("No110105199003078764", "No110***********8764"),
    ("证件 11010519900307101×", "证件 110***********101×"),
    ("证件 １１０１０５１９９００３０７１０１Ｘ", "证件 １１０***********１０１Ｘ"),
    ("电话13812345678x123", "电话138****5678x123"),
    ("ID110105199003078764abc", "ID110***********8764abc"),
    ("No.110105199003078764", "No.110***********8764"),
    ("旧身份证 110105900307001 号", "旧身份证 110********7001 号"),
    ("电话 138 1234 5678 2024年", "电话 138 **** 5678 2024年"),
    ("证件 11010519900307101x；电话13912345678",
     "证件 110***********101x；电话139****5678"),
    ("手机：(138)1234-5678", "手机：(138)****-5678"),
    ("备用 +86(139)8764 4321", "备用 +86(139)**** 4321"),
    ("电话（１３８）１２３４ ５６７８", "电话（１３８）**** ５６７８"),
    ("+86 (0) 138 1234 5678", "+86 (0) 138 **** 5678"),
    # not personal data: stays as it is
    ("座机 (010) 6512-3456", "座机 (010) 6512-3456"),
    ("合同金额 1234567890123 元", "合同金额 1234567890123 元"),
    ("编号 HT-2024-0031", "编号 HT-2024-0031"),
    ("档号 Z109-WS·2011-Y-BGS-0001", "档号 Z109-WS·2011-Y-BGS-0001"),
    ("金额 12 345 678 元，日期 2024-05-01", "金额 12 345 678 元，日期 2024-05-01"),
    ("订单 113812345678901234567", "订单 113812345678901234567"),
    # wrong check digit (no single OCR confusion repairs it): a number, not an ID
    ("编号 110105199003078765", "编号 110105199003078765"),
    ("编号 11010519900307876X", "编号 11010519900307876X"),
    # ID-shaped but no real birth date
    ("编号 110105199002308766", "编号 110105199002308766"),
    ("旧号 110105900230001", "旧号 110105900230001"),
    # words made of OCR look-alike letters stay words
    ("BOSS SOIL LOSS lOl Bill ZOO", "BOSS SOIL LOSS lOl Bill ZOO"),
    ("合同编号 HT20240031138123456789", "合同编号 HT20240031138123456789"),
    ("金额 ¥1,380,000.00 元", "金额 ¥1,380,000.00 元"),
    ("金额 13812345678901.00 元", "金额 13812345678901.00 元"),
    ("座机 010-12345678", "座机 010-12345678"),
    ("邮编 100000，传真 021 6512 3456", "邮编 100000，传真 021 6512 3456"),
    ("银行卡 6222 0212 3456 7890 123", "银行卡 6222 0212 3456 7890 123"),
])
def test_mask_personal(raw: str, masked: str) -> None:
    out = mask_personal(raw)
    assert out == masked
    assert len(out) == len(raw)  # one for one: offsets into the text stay valid
    assert [i for i, c in enumerate(out) if c != raw[i]] == [i for i, c in enumerate(out)
                                                             if c == "*" and raw[i] != "*"]


def test_who_sees_what() -> None:
    staff, archivist = User(role="staff"), User(role="archivist")
    assert not can_see_personal(staff) and can_see_personal(archivist)
    assert text_for(staff, "138 1234 5678") == "138 **** 5678"
    assert text_for(archivist, "13812345678") == "13812345678"
    assert text_for(None, None) is None
    assert text_for(None, "13812345678") == "13812345678"  # the operator at the command line


def test_a_masked_value_written_back_keeps_its_numbers() -> None:
    """What a user without the privacy right sends back from a masked form or sheet: the
    numbers they were shown masked keep their digits, whatever else they changed; a user
    with the right (or the operator) writes what they send."""
    from service.privacy import written_back

    staff, archivist = User(role="staff"), User(role="archivist")
    current = "联系人王五 138-1234-5678，身份证110105199003078764。"
    shown = text_for(staff, current)
    assert shown == "联系人王五 138-****-5678，身份证110***********8764。"
    assert written_back(staff, shown, current) == current
    edited = shown.replace("王五", "王五（已离职）")
    assert written_back(staff, edited, current) == current.replace("王五", "王五（已离职）")
    assert written_back(staff, "联系人另换", current) == "联系人另换"
    assert written_back(archivist, shown, current) == shown
    assert written_back(None, shown, current) == shown
    assert written_back(staff, None, current) is None


# ----------------------------------------------------------------- generated numbers

_FULL = str.maketrans("0123456789", "０１２３４５６７８９")
_LOOK = {"0": "O", "1": "l", "2": "Z", "5": "S", "8": "B"}
_SEPS = [" ", "-", "\n", " - ", "－", "  ", "\r\n", ".", "·"]


@st.composite
def resident_ids(draw) -> str:
    region = draw(st.integers(110000, 659999))
    born = date(1920, 1, 1) + timedelta(days=draw(st.integers(0, 36500)))
    seq = draw(st.integers(0, 999))
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17).upper()


@st.composite
def mobiles(draw) -> str:
    return f"1{draw(st.sampled_from('3456789'))}{draw(st.integers(0, 10**9 - 1)):09d}"


@st.composite
def as_written(draw, number: str) -> tuple[str, list[int]]:
    """The number as a scan or a typist writes it: split into groups by separators, some
    digits full-width, some read as look-alike letters (never a group's first character);
    returns the text and the positions of the number's characters in it."""
    cuts = sorted(draw(st.sets(st.integers(2, len(number) - 2), max_size=4)))
    cuts = [c for k, c in enumerate(cuts) if k == 0 or c - cuts[k - 1] >= 2]
    bounds = [0, *cuts, len(number)]
    text, positions = "", []
    full = draw(st.booleans())
    for k in range(len(bounds) - 1):
        if k:
            last_two = k == len(bounds) - 2 and bounds[k + 1] - bounds[k] <= 2
            # a point before the last two digits writes an amount's decimals, not a number
            text += draw(st.sampled_from([s for s in _SEPS if not (last_two and "." in s)]))
        for m in range(bounds[k], bounds[k + 1]):
            ch = number[m]
            if m > bounds[k] and ch in _LOOK and draw(st.integers(0, 5)) == 0:
                ch = _LOOK[ch]
            elif full:
                ch = ch.translate(_FULL)
            positions.append(len(text))
            text += ch
    return text, positions


_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_BEFORE = st.sampled_from(["身份证号：", "证件号码 ", "ID", "联系电话", "No.", "", "客户（"])
_AFTER = st.sampled_from(["。", "，签字", "", " 号", "）", "abc"])


def _expect_masked(before: str, written: str, positions: list[int], after: str,
                   hidden: range) -> None:
    text = before + written + after
    out = mask_personal(text)
    offset = len(before)
    want = {offset + positions[k] for k in hidden}
    assert len(out) == len(text)
    assert {i for i, c in enumerate(out) if c != text[i]} == want, (text, out)
    # the search index keys the masked number only by its visible ends (3 and 4 characters)
    keys = text_keys(fold(out[offset:offset + len(written)]))
    assert all(len(k) <= 4 for k in keys), keys


@_SETTINGS
@given(data=st.data(), number=resident_ids(), before=_BEFORE, after=_AFTER)
def test_generated_resident_ids_are_masked(data, number, before, after) -> None:
    written, positions = data.draw(as_written(number))
    _expect_masked(before, written, positions, after, range(3, 14))


@_SETTINGS
@given(data=st.data(), number=mobiles(), before=_BEFORE, after=_AFTER)
def test_generated_mobiles_are_masked(data, number, before, after) -> None:
    written, positions = data.draw(as_written(number))
    _expect_masked(before, written, positions, after, range(3, 7))


@_SETTINGS
@given(number=resident_ids())
def test_old_fifteen_digit_ids_are_masked(number) -> None:
    old = number[:6] + number[8:17]  # the pre-1999 form: YYMMDD, no check digit
    assert mask_personal(f"旧证 {old}。") == f"旧证 {old[:3]}{'*' * 8}{old[-4:]}。"


@_SETTINGS
@given(number=resident_ids(), wrong=st.sampled_from("0123456789X"))
def test_a_wrong_check_digit_is_not_an_id(number, wrong) -> None:
    assume(wrong != number[-1])
    bad = number[:17] + wrong
    masked = mask_personal(f"编号 {bad}。")
    if id_repair(bad.lower()) is None:
        assert masked == f"编号 {bad}。"
    else:  # one OCR-typical confusion makes it valid: the index keys it, so it is masked
        assert masked == f"编号 {bad[:3]}{'*' * 11}{bad[-4:]}。"


@_SETTINGS
@given(digits=st.text("0123456789", min_size=19, max_size=30),
       before=st.sampled_from(["金额 ", "合同编号 HT", "订单号：", "ZH"]))
def test_long_digit_runs_are_left_alone(digits, before) -> None:
    """An amount, an order or contract number longer than any personal number."""
    assert mask_personal(f"{before}{digits} 元") == f"{before}{digits} 元"


@_SETTINGS
@given(yuan=st.integers(0, 10**12), fen=st.integers(0, 99))
def test_amounts_are_left_alone(yuan, fen) -> None:
    """With thousands separators, or plain below ten billion (11 plain digits starting
    13-19 cannot be told from a mobile number)."""
    plain = f"（{yuan}.{fen:02d}）" if yuan < 10**10 else ""
    text = f"合同金额 ¥{yuan:,}.{fen:02d} 元{plain}"
    assert mask_personal(text) == text


@_SETTINGS
@given(number=st.integers(10**10, 10**11 - 1))
def test_eleven_digits_that_are_no_mobile_stay(number) -> None:
    s = str(number)
    assume(not (s[0] == "1" and s[1] in "3456789"))
    assert mask_personal(f"编号 {s}") == f"编号 {s}"


@_SETTINGS
@given(words=st.lists(st.text("OoIlZzSsBb", min_size=1, max_size=8), min_size=1, max_size=6))
def test_look_alike_words_are_not_numbers(words) -> None:
    text = " ".join(words) + " 13812345678"
    assert mask_personal(text)[: -len(" 13812345678")] == " ".join(words)
