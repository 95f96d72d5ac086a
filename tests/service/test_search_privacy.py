"""Searching cannot confirm personal data a user may not see (#8.15, search part)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from service.archive import Archive
from service.config import Settings

TEXT = ("个人客户登记表：姓名张三，身份证号110105199003078764，手机+86 138 1234 5678，"
        "证件复印件一份。")


@pytest.fixture
def arc(tmp_path):
    from service.setup import init_archive
    from service.users import create_user

    a = Archive(Settings.from_env({"DANGAN_DATA": str(tmp_path / "data")}))
    init_archive(a, admin_password="admin-pass-123")
    with a.session() as s:
        staff = create_user(s, "zhang", "password-123", role="staff", department="销售部")
        create_user(s, "li", "password-123", role="archivist")
        staff_id = staff.id
    _item(a, TEXT, owner_id=staff_id)
    return a


def _item(arc, text: str, owner_id: int | None) -> int:
    """A ready item with one finished page, indexed as the pipeline indexes it."""
    from service.codes import allocate, format_code
    from service.models import ArchiveItem, Category, Fonds, Page, StoredFile
    from service.search_docs import page_docs

    with arc.session() as s:
        code = allocate(s, "J001", "ZJ", 2024, "D30", None)
        item = ArchiveItem(archival_code=format_code(code), item_no=code.item_no, year=2024,
                           fonds_id=s.scalar(select(Fonds.id).where(Fonds.code == "J001")),
                           category_id=s.scalar(select(Category.id).where(Category.code == "ZJ")),
                           retention="D30", title="个人客户登记表", secrecy="内部",
                           status="ready", owner_id=owner_id)
        s.add(item)
        s.flush()
        f = StoredFile(item_id=item.id, role="original", seq=1, key="k", sha256="0" * 64,
                       size=1, original_name="a.png", format="png", page_count=1)
        s.add(f)
        s.flush()
        s.add(Page(item_id=item.id, file_id=f.id, n=1, file_page=1, status="done", source="ocr",
                   text=text, words=[]))
        s.flush()
        arc.search.index_pages(page_docs(s, item), conn=s.connection())
        return item.id


def _search(arc, q: str, username: str) -> dict:
    from service.search import parse_search_params, run_search

    return run_search(arc, parse_search_params({"q": q}), username=username, facets=True,
                      raw=True)


@pytest.mark.parametrize("q", ["110105199003078764", "+86 138 1234 5678", "138 1234 5678",
                               "1234", "登记表 -1234"])
def test_staff_cannot_confirm_a_masked_number(arc, q):
    staff = _search(arc, q, "zhang")
    archivist = _search(arc, q, "li")
    if q.startswith("登记表 -"):  # the exclusion: the number is not on the page staff see
        assert staff.total == 1 and archivist.total == 0
        return
    assert archivist.total == 1  # who may see personal data finds it
    assert staff.total == 0 and staff.hits == []
    assert all(not values for values in staff.facets.values())


def test_staff_still_find_the_page_by_what_they_can_read(arc):
    res = _search(arc, "身份证号", "zhang")
    assert res.total == 1
    snippet = res.hits[0].pages[0].snippet
    assert "110105199003078764" not in snippet and "8764" in snippet


def test_upgrading_an_index_adds_masked_rows(arc, tmp_path):
    """Migration 0006 on an index built before audiences: the oracle is closed at once."""
    from indexer.search.sqlite_engine import _SCHEMA, add_audience, retokenize
    from service.privacy import mask_personal

    path = Path(tmp_path) / "old.sqlite3"
    eng = create_engine(f"sqlite:///{path}")
    old_page = _SCHEMA[0].replace("        audience TEXT NOT NULL DEFAULT 'all',\n", "").replace(
        "UNIQUE (item_id, page_no, audience)", "UNIQUE (item_id, page_no)")
    with eng.begin() as c:
        c.exec_driver_sql(old_page)
        for stmt in _SCHEMA[1:]:
            c.exec_driver_sql(stmt)
        cur = c.connection.dbapi_connection.cursor()
        from indexer.search.analysis import index_fields

        cur.execute("INSERT INTO search_page (id, item_id, page_no, secrecy) VALUES (1, 1, 1, '公开')")
        cur.execute("INSERT INTO search_page_text (id, text, meta_text) VALUES (1, ?, '登记表')",
                    (TEXT,))
        cur.execute("INSERT INTO search_fts (rowid, bi, uni, meta) VALUES (1, ?, ?, ?)",
                    index_fields(TEXT, "登记表"))
    with eng.begin() as c:
        assert add_audience(c, mask_personal) == 1
        assert add_audience(c, mask_personal) == 0  # idempotent
        # then the older analyzer's rows are analysed again, as on opening (search_backend)
        assert retokenize(c) == 2
        assert retokenize(c) == 0
    from indexer.search.sqlite_engine import SqliteFtsEngine
    from indexer.search.types import SearchRequest, Visibility

    engine = SqliteFtsEngine(eng)
    vis = Visibility(secrecy=frozenset({"公开"}), see_all=True)
    restricted = Visibility(secrecy=frozenset({"公开"}), see_all=True, personal=False)
    assert engine.search(SearchRequest(q="138 1234 5678", visibility=vis)).total == 1
    assert engine.search(SearchRequest(q="138 1234 5678", visibility=restricted)).total == 0
    assert engine.search(SearchRequest(q="登记表", visibility=restricted)).total == 1
    assert engine.count_pages() == 1
    eng.dispose()
    assert os.path.exists(path)


OCR_TEXT = "客户回执：手机 l39-8765-4321，证件 11O1O5198506l2OO34，经办人签字。"


@pytest.mark.parametrize("q", ["13987654321", "139-8765-4321", "98765", "110105198506120034",
                               "19850612", "0612003", "105198"])
def test_numbers_ocr_misread_are_no_oracle_either(arc, q):
    """OCR read letters for digits (l for 1, O for 0): the index folds them back, so the
    masking must hide them too, or a typed number would confirm what the page hides."""
    from sqlalchemy import select

    from service.models import User

    with arc.session() as s:
        staff_id = s.scalar(select(User.id).where(User.username == "zhang"))
    _item(arc, OCR_TEXT, owner_id=staff_id)
    assert _search(arc, q, "li").total == 1, q  # the index reads the number
    staff = _search(arc, q, "zhang")
    assert staff.total == 0 and staff.hits == [], q
    # what staff can read still finds the page, masked
    res = _search(arc, "经办人签字", "zhang")
    snippet = res.hits[0].pages[0].snippet
    assert "8765" not in snippet and "1985" not in snippet
