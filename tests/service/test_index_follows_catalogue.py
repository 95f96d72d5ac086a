"""The search index follows catalogue changes in the same unit of work (#8.2)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.archive import Archive
from service.config import Settings


@pytest.fixture
def arc(tmp_path):
    from service.setup import init_archive
    from service.users import create_user

    a = Archive(Settings.from_env({"DANGAN_DATA": str(tmp_path / "data")}))
    init_archive(a, admin_password="admin-pass-123")
    with a.session() as s:
        create_user(s, "arc", "password-123", role="archivist")
    return a


def _item_in_box(arc, barcode: str, shelf: tuple[str, str, str, str]) -> int:
    """A ready item with one finished page, in a shelved box, indexed as the pipeline does."""
    from service.codes import allocate, format_code
    from service.locations import create_box, ensure_shelf
    from service.models import ArchiveItem, Category, Fonds, Page, StoredFile
    from service.search_docs import page_docs

    with arc.session() as s:
        box = create_box(s, barcode, year=2024, retention="D30",
                         shelf=ensure_shelf(s, *shelf), actor="arc")
        code = allocate(s, "J001", "HT", 2024, "D30", None)
        item = ArchiveItem(archival_code=format_code(code), item_no=code.item_no, year=2024,
                           fonds_id=s.scalar(select(Fonds.id).where(Fonds.code == "J001")),
                           category_id=s.scalar(select(Category.id).where(Category.code == "HT")),
                           retention="D30", title="仓储合同", secrecy="内部", status="ready",
                           box_id=box.id)
        s.add(item)
        s.flush()
        f = StoredFile(item_id=item.id, role="original", seq=1, key="k", sha256="0" * 64,
                       size=1, original_name="a.png", format="png", page_count=1)
        s.add(f)
        s.flush()
        s.add(Page(item_id=item.id, file_id=f.id, n=1, file_page=1, status="done", source="ocr",
                   text="仓储方负责货物保管。", words=[]))
        s.flush()
        arc.search.index_pages(page_docs(s, item), conn=s.connection())
        return item.id


def _locations(arc, item_id: int, as_filter: str | None = None) -> dict:
    from service.search import parse_search_params, run_search

    args = {"q": "仓储"} | ({"location": as_filter} if as_filter else {})
    res = run_search(arc, parse_search_params(args), facets=True, raw=True)
    return {"ids": [h.id for h in res.hits], "facet": res.facets["location"]}


def test_moving_a_box_updates_facet_filter_and_check(arc):
    from service.browse import register_shelf, relocate_box
    from service.checks import check_index
    from service.models import User

    item_id = _item_in_box(arc, "BOX-0001", ("A", "1", "1", "1"))
    old = "A库房/1架/1节/1层/盒 BOX-0001"
    new = "A库房/2架/3节/4层/盒 BOX-0001"
    assert _locations(arc, item_id)["facet"] == {old: 1}
    with arc.session() as s:
        user = s.scalar(select(User).where(User.username == "arc"))
        shelf = register_shelf(s, user, "A", "2", "3", "4")
        relocate_box(s, user, "BOX-0001", shelf.id, note="调架")
    after = _locations(arc, item_id)
    assert after["facet"] == {new: 1}
    assert _locations(arc, item_id, new)["ids"] == [item_id]
    assert _locations(arc, item_id, old)["ids"] == []
    report = check_index(arc)
    assert report["stale"] == [] and report["missing"] == []


def test_index_update_rolls_back_with_the_catalogue(arc):
    from service.browse import register_shelf, relocate_box
    from service.checks import check_index
    from service.models import User

    item_id = _item_in_box(arc, "BOX-0002", ("B", "1", "1", "1"))
    before = _locations(arc, item_id)["facet"]
    with pytest.raises(RuntimeError), arc.session() as s:
        user = s.scalar(select(User).where(User.username == "arc"))
        shelf = register_shelf(s, user, "B", "9", "9", "9")
        relocate_box(s, user, "BOX-0002", shelf.id)
        s.flush()
        raise RuntimeError("the request failed after the move")
    assert _locations(arc, item_id)["facet"] == before
    assert check_index(arc)["stale"] == []


def test_renaming_a_room_or_putting_an_item_in_a_box_reindexes(arc):
    from service.checks import check_index
    from service.locations import create_box
    from service.models import ArchiveItem, Room

    item_id = _item_in_box(arc, "BOX-0003", ("C", "1", "1", "1"))
    with arc.session() as s:
        s.scalar(select(Room).where(Room.code == "C")).name = "C库房（新楼）"
    assert _locations(arc, item_id)["facet"] == {"C库房（新楼）/1架/1节/1层/盒 BOX-0003": 1}
    with arc.session() as s:
        box = create_box(s, "BOX-0004", year=2024, retention="D30")
        s.get(ArchiveItem, item_id).box_id = box.id
    assert _locations(arc, item_id)["facet"] == {"未上架/盒 BOX-0004": 1}
    assert check_index(arc)["stale"] == []
