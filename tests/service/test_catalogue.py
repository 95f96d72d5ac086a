"""The catalogue schema and its reference records on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from service.catalogue import (
    create_customer,
    create_fonds,
    get_category,
    get_fonds,
    upsert_category,
)
from service.db import get_engine, session_scope
from service.errors import Conflict, InvalidInput, NotFound
from service.locations import box_path, check_box_fits, create_box, ensure_shelf, move_box
from service.migrate import upgrade
from service.models import ArchiveItem, Box, Page, StoredFile
from service.users import authenticate, create_user, issue_token, user_for_token


@pytest.fixture
def engine(db_url: str):
    eng = get_engine(db_url)
    upgrade(eng)
    return eng


def test_migrations_create_every_table_and_are_idempotent(engine) -> None:
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"fonds", "category", "archive_item", "customer", "room", "rack", "section", "shelf",
            "box", "box_move", "stored_file", "page", "app_user", "audit_entry",
            "archival_code_counter", "alembic_version"} <= tables
    cols = {c["name"] for c in inspect(engine).get_columns("archive_item")}
    assert {"archival_code", "title", "doc_number", "responsible", "doc_date", "category_id",
            "retention", "secrecy", "paper_pages", "remarks", "customer_id", "status"} <= cols


def test_fonds_and_categories(engine) -> None:
    with session_scope(engine) as s:
        create_fonds(s, "Z109", "某公司")
        upsert_category(s, "HT", "合同协议")
    with session_scope(engine) as s:
        assert get_fonds(s, "Z109").name == "某公司"
        assert get_category(s, "HT").name == "合同协议"
        with pytest.raises(NotFound, match="X999"):
            get_fonds(s, "X999")
        with pytest.raises(NotFound, match="HT（合同协议）"):
            get_category(s, "QQ")
        with pytest.raises(Conflict):
            create_fonds(s, "Z109", "again")
        with pytest.raises(InvalidInput):
            create_fonds(s, "z1", "bad")


def test_customers_validate_their_number(engine) -> None:
    with session_scope(engine) as s:
        owner = create_user(s, "zhang", "password-1", role="staff", department="销售部")
        c = create_customer(s, "KH-202405001", "上海某某贸易有限公司", grade="重点", owner=owner)
        assert c.department == "销售部"
        for bad in ("KH-2024-05-001", "202405001", "KH-20240"):
            with pytest.raises(InvalidInput, match="KH-202405001"):
                create_customer(s, bad, "x")
        with pytest.raises(InvalidInput):
            create_customer(s, "KH-202405002", "x", grade="VIP")


def test_box_location_history(engine) -> None:
    with session_scope(engine) as s:
        a = ensure_shelf(s, "A", "3", "2", "4", room_name="一号库房")
        b = ensure_shelf(s, "A", "3", "2", "5")
        assert ensure_shelf(s, "A", "3", "2", "4").id == a.id
        box = create_box(s, "BOX-0001", year=2024, retention="D30", shelf=a, actor="li")
        move_box(s, box, b, actor="wang", note="调架")
    with session_scope(engine) as s:
        box = s.scalar(select(Box).where(Box.barcode == "BOX-0001"))
        assert box_path(box) == "一号库房/3架/2节/5层/盒 BOX-0001"
        assert [m.shelf.code for m in sorted(box.moves, key=lambda m: m.id)] == ["4", "5"]
        check_box_fits(box, 2024, "D30", None)
        with pytest.raises(InvalidInput, match="年度 2024"):
            check_box_fits(box, 2023, "D30", None)
        with pytest.raises(Conflict):
            create_box(s, "BOX-0001")
        with pytest.raises(InvalidInput):
            create_box(s, "../etc/passwd")


def test_users_passwords_and_tokens(engine) -> None:
    with session_scope(engine) as s:
        u = create_user(s, "li", "correct horse", role="archivist")
        token = issue_token(u)
    with session_scope(engine) as s:
        assert authenticate(s, "li", "correct horse") is not None
        assert authenticate(s, "li", "wrong password") is None
        assert authenticate(s, "nobody", "correct horse") is None
        assert user_for_token(s, token).username == "li"
        assert user_for_token(s, token + "x") is None
        with pytest.raises(InvalidInput):
            create_user(s, "x", "short")
        with pytest.raises(InvalidInput):
            create_user(s, "y", "long enough", role="god")


def test_archival_code_is_unique_in_the_schema(engine) -> None:
    from sqlalchemy.exc import IntegrityError

    with session_scope(engine) as s:
        f = create_fonds(s, "J001", "x")
        c = upsert_category(s, "HT", "合同")
        fields = dict(fonds_id=f.id, category_id=c.id, year=2024, retention="D30", item_no=1,
                      title="t", secrecy="内部", archival_code="J001-HT·2024-D30-0001")
        s.add(ArchiveItem(**fields))
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(ArchiveItem(**fields))
        s.flush()


def test_page_numbers_are_unique_per_item(engine) -> None:
    from sqlalchemy.exc import IntegrityError

    with session_scope(engine) as s:
        f = create_fonds(s, "J001", "x")
        c = upsert_category(s, "HT", "合同")
        item = ArchiveItem(fonds_id=f.id, category_id=c.id, year=2024, retention="D30", item_no=1,
                           title="t", secrecy="内部", archival_code="J001-HT·2024-D30-0001")
        s.add(item)
        s.flush()
        sf = StoredFile(item_id=item.id, key="k", sha256="0" * 64, size=1)
        s.add(sf)
        s.flush()
        s.add(Page(item_id=item.id, file_id=sf.id, n=1, file_page=1))
        ids = (item.id, sf.id)
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(Page(item_id=ids[0], file_id=ids[1], n=1, file_page=1))
        s.flush()


@pytest.mark.parametrize("make", [
    lambda s: create_customer(s, "KH-202401003", "丙\x00公司"),
    lambda s: create_customer(s, "KH-202401004", "名" * 201),
    lambda s: create_customer(s, "KH-202401005", "丁公司", industry="业" * 101),
    lambda s: create_customer(s, "KH-202401006", "戊公司", contacts="王\x00五"),
    lambda s: create_customer(s, "KH-202401007", "  "),
    lambda s: ensure_shelf(s, "A", "1\x00", "1", "1"),
    lambda s: ensure_shelf(s, "A", "1", "1", "1", room_name="库" * 101),
], ids=["nul-name", "long-name", "long-industry", "nul-contacts", "blank-name", "nul-rack",
        "long-room-name"])
def test_text_that_one_database_would_refuse_is_refused_on_both(engine, make) -> None:
    """SQLite stores NUL and over-long text, PostgreSQL answers a DataError (a 500): both
    get the same message before the write."""
    with session_scope(engine) as s, pytest.raises(InvalidInput):
        make(s)
    with session_scope(engine) as s:  # at the column's length it fits
        create_customer(s, "KH-202401008", "名" * 200, industry="业" * 100, contacts="王五\n电话")
        ensure_shelf(s, "A", "1", "1", "1", room_name="库" * 100)
