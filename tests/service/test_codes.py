"""档号 format/parse and gap-free allocation, including concurrent writers on both databases."""

from __future__ import annotations

import multiprocessing as mp

import pytest
from sqlalchemy import select

from service.codes import ArchivalCode, allocate, format_code, parse_code, preview
from service.db import get_engine, session_scope
from service.errors import InvalidInput
from service.migrate import upgrade
from service.models import ArchivalCodeCounter
from web.i18n import bilingual


@pytest.mark.parametrize("text,parts", [
    ("Z109-WS·2011-Y-BGS-0001", ("Z109", "WS", 2011, "Y", "BGS", 1)),
    ("J001-HT·2024-D30-0031", ("J001", "HT", 2024, "D30", None, 31)),
    ("J001-ZJ·1999-D10-ABC-9999", ("J001", "ZJ", 1999, "D10", "ABC", 9999)),
])
def test_format_and_parse_round_trip(text: str, parts: tuple) -> None:
    code = parse_code(text)
    assert (code.fonds, code.category, code.year, code.retention, code.org, code.item_no) == parts
    assert format_code(code) == text
    assert str(ArchivalCode(*parts)) == text


@pytest.mark.parametrize("bad", [
    "", "J001", "J001-HT-2024-D30-0001", "J001-HT·2024-D20-0001", "J001-HT·2024-D30-1",
    "J001-HT·2024-D30-0000", "J01-HT·2024-D30-0001", "J001-ht·2024-D30-0001",
    "J001-HT·2024-D30-BG-0001", "J001-HT·24-D30-0001", "J001-HT·2024-D30-0001; DROP TABLE x",
])
def test_malformed_codes_are_rejected_with_the_expected_form(bad: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_code(bad)
    assert "Z109-WS·2011-Y-BGS-0001" in exc.value.message


@pytest.mark.parametrize("parts,word", [
    (("J1", "HT", 2024, "D30", None), "fonds"),
    (("J001", "H", 2024, "D30", None), "category"),
    (("J001", "HT", 24, "D30", None), "year"),
    (("J001", "HT", 2024, "D20", None), "retention"),
    (("J001", "HT", 2024, "D30", "AB1"), "organisation"),
])
def test_allocation_validates_each_part(db_url: str, parts: tuple, word: str) -> None:
    engine = get_engine(db_url)
    upgrade(engine)
    with pytest.raises(InvalidInput) as exc, session_scope(engine) as s:
        allocate(s, *parts)
    assert word in bilingual(exc.value.msg)  # the English half, from the catalogue


def test_sequential_allocation_is_per_group_and_never_reused(db_url: str) -> None:
    engine = get_engine(db_url)
    upgrade(engine)
    with session_scope(engine) as s:
        a = [str(allocate(s, "J001", "HT", 2024, "D30", None)) for _ in range(3)]
        b = str(allocate(s, "J001", "HT", 2024, "D30", "BGS"))
        c = str(allocate(s, "J001", "HT", 2025, "D30", None))
    assert a == ["J001-HT·2024-D30-0001", "J001-HT·2024-D30-0002", "J001-HT·2024-D30-0003"]
    assert b == "J001-HT·2024-D30-BGS-0001"
    assert c == "J001-HT·2025-D30-0001"
    # the preview checks the parts and leaves the 件号 to registration
    assert preview("J001", "HT", 2024, "D30", None) == "J001-HT·2024-D30-NNNN"


def test_rolled_back_allocation_leaves_no_gap(db_url: str) -> None:
    engine = get_engine(db_url)
    upgrade(engine)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        allocate(s, "J001", "WS", 2024, "Y", None)
        raise RuntimeError("registration failed after allocation")
    with session_scope(engine) as s:
        assert allocate(s, "J001", "WS", 2024, "Y", None).item_no == 1


def _allocate_many(url: str, count: int, queue: mp.Queue) -> None:
    from service.db import dispose_all

    dispose_all()
    engine = get_engine(url)
    got = []
    for _ in range(count):
        with session_scope(engine) as s:
            got.append(allocate(s, "J001", "HT", 2024, "D30", None).item_no)
    queue.put(got)


def test_concurrent_processes_get_distinct_gap_free_numbers(db_url: str) -> None:
    engine = get_engine(db_url)
    upgrade(engine)
    ctx = mp.get_context("fork")
    queue: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=_allocate_many, args=(db_url, 15, queue)) for _ in range(4)]
    for p in procs:
        p.start()
    numbers = []
    for _ in procs:
        numbers += queue.get(timeout=120)
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert sorted(numbers) == list(range(1, 61))
    with session_scope(engine) as s:
        assert s.scalar(select(ArchivalCodeCounter.last_no)) == 60
