"""The 档号 parser fuzzed (#15.6): valid codes round-trip, anything else is refused with the
parser's own error, and a code it accepts is one the archive can write back.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from hypothesis import example, given
from hypothesis import strategies as st

from service.codes import ArchivalCode, format_code, parse_code
from service.errors import InvalidInput
from service.vocab import RETENTIONS

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
UPPER = ALNUM[:26]

codes = st.builds(
    ArchivalCode,
    fonds=st.text(ALNUM, min_size=4, max_size=4),
    category=st.text(UPPER, min_size=2, max_size=2),
    year=st.integers(1900, date.today().year),
    retention=st.sampled_from(sorted(RETENTIONS)),
    org=st.none() | st.text(UPPER, min_size=3, max_size=3),
    item_no=st.integers(1, 9999),
)


@given(codes)
def test_a_valid_code_round_trips(code: ArchivalCode) -> None:
    text = format_code(code)
    assert parse_code(text) == code
    assert format_code(parse_code(text)) == text
    assert parse_code(f"  {text}\n") == code  # pasted with spaces or a line break


@given(codes, st.sampled_from(["·", "・", "."]))
def test_the_middle_dot_may_be_typed_three_ways(code: ArchivalCode, dot: str) -> None:
    assert parse_code(format_code(code).replace("·", dot)) == code


def _canonical(text: str) -> str:
    """What a typed code means: full-width forms folded, the dot written as ·."""
    folded = unicodedata.normalize("NFKC", text).strip()
    return folded.replace("・", "·").replace(".", "·")


def _near_codes() -> st.SearchStrategy[str]:
    """Codes with one part replaced by anything: digits of other scripts, years out of range,
    wrong separators, control characters."""
    parts = st.tuples(
        st.sampled_from(["J001", "Z109", "J0O1", "j001", "ＪＯＯ１", "Ｊ００１", ""]) | st.text(max_size=5),
        st.sampled_from(["HT", "WS", "ht", "ＨＴ"]) | st.text(max_size=3),
        st.sampled_from(["·", "・", ".", "-", "･", "‧"]),
        st.sampled_from(["2024", "1900", "0000", "1899", "2999", "9999", "٢٠٢٤", "２０２４", "२०२४"])
        | st.text("0123456789", min_size=4, max_size=4),
        st.sampled_from(["Y", "D30", "D10", "D20", "y"]),
        st.sampled_from(["", "-BGS", "-bgs", "-ＢＧＳ", "-BG"]),
        st.sampled_from(["0001", "9999", "0000", "١٢٣٤", "１２３４", "12345"])
        | st.text("0123456789", min_size=4, max_size=4),
    )
    return parts.map(lambda p: f"{p[0]}-{p[1]}{p[2]}{p[3]}-{p[4]}{p[5]}-{p[6]}")


@example("J001-HT·0000-Y-0001")
@example("J001-HT·2999-Y-0001")
@example("J001-HT·٢٠٢٤-Y-0001")
@given(st.text(max_size=40) | _near_codes())
def test_the_parser_refuses_or_accepts_what_it_can_write_back(text: str) -> None:
    try:
        code = parse_code(text)
    except InvalidInput as exc:
        assert exc.message  # the expected form, said to the user
        return
    assert format_code(code) == _canonical(text)
