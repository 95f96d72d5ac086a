"""Split, merge and arrange items over unaltered originals; edits with their history (#12.2, #12.3).

Pages run in-process from the archive's queue; the scans are small text-layer PDFs, so no
OCR is needed and a 300-page volume stays fast (a turned page is read by real Tesseract).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from scanfactory import text_pdf_bytes
from sqlalchemy import select

from service.arrange import arrange_pages, counted_pages, merge_items, parse_ranges, split_item
from service.catalogue import create_customer
from service.changes import approve_change, request_change
from service.edits import history
from service.errors import Conflict, InvalidInput, PermissionDenied
from service.ingest import IngestRequest, ingest
from service.items import get_item, item_to_json
from service.jobs.pipeline import run_page
from service.models import ArchiveItem, AuditEntry, StoredFile, User
from service.search import run_search
from service.users import create_user
from tests.queued import QueuedPages


def _run(archive, queued: QueuedPages) -> None:
    while len(queued):
        run_page(archive, queued.pop(0))


def _user(archive, name: str, role: str) -> User:
    with archive.session() as s:
        create_user(s, name, "password-123", role=role)
    with archive.session() as s:
        u = s.scalar(select(User).where(User.username == name))
        s.expunge(u)
        return u


def _volume(archive, tmp_path: Path, pages: list[str], title: str = "合同卷") -> int:
    """One scanned volume: a small text-layer PDF, one line per page, processed."""
    pdf = tmp_path / f"{title}.pdf"
    pdf.write_bytes(text_pdf_bytes([[t] for t in pages], media_box=(200, 100)))
    queued = QueuedPages(archive)
    res = ingest(archive, IngestRequest(files=[pdf], fonds="J001", category="HT", year=2024,
                                        retention="D30", secrecy="内部", title=title))
    _run(archive, queued)
    return res.id


def _shown(archive, item_id: int) -> dict:
    with archive.session() as s:
        return item_to_json(get_item(s, item_id))


def test_parse_ranges_must_cover_every_page_once() -> None:
    assert parse_ranges("1-3, 4-10，11～12", 12) == [(1, 3), (4, 10), (11, 12)]
    assert parse_ranges("1-2 3 4-5", 5) == [(1, 2), (3, 3), (4, 5)]
    for bad in ("1-3, 3-5", "1-3, 5-5", "2-5", "1-4", "1-5", "a-b", "1-3, 4-9"):
        with pytest.raises(InvalidInput):
            parse_ranges(bad, 5 if bad != "1-4" else 5)


@pytest.mark.slow
def test_a_300_page_volume_splits_into_items_by_page_ranges(archive, tmp_path) -> None:
    texts = [f"volume page {i:03d} marker{i:03d}x" for i in range(1, 301)]
    vol = _volume(archive, tmp_path, texts)
    arc = _user(archive, "arc", "archivist")
    with archive.session() as s:
        item = get_item(s, vol)
        original = [(f.key, f.sha256) for f in item.files if f.role == "original"]
        code = item.archival_code

    ids = split_item(archive, arc, vol, "1-100, 101-250, 251-300", ["第二份合同", ""], "按合同拆分")

    assert len(ids) == 3 and ids[0] == vol
    first, second, third = (_shown(archive, i) for i in ids)
    assert first["archival_code"] == code
    assert [len(x["pages"]) for x in (first, second, third)] == [100, 150, 50]
    assert second["pages"][0]["text"] == texts[100] and third["pages"][-1]["text"] == texts[299]
    assert second["title"] == "第二份合同" and third["title"] == "合同卷（第 251-300 页）"
    assert len({first["archival_code"], second["archival_code"], third["archival_code"]}) == 3
    assert all(x["status"] == "ready" for x in (first, second, third))
    # the original is untouched and still the source of every page
    with archive.session() as s:
        item = get_item(s, vol)
        assert [(f.key, f.sha256) for f in item.files if f.role == "original"] == original
        assert archive.store.stat(original[0][0]).size > 0
        moved = get_item(s, ids[2])
        assert {p.file.key for p in moved.pages} == {original[0][0]}
        assert [p.file_page for p in moved.pages] == list(range(251, 301))
        pdf = s.scalar(select(StoredFile).where(StoredFile.item_id == ids[1],
                                                StoredFile.role == "searchable_pdf"))
        assert pdf is not None and pdf.page_count == 150
    # the search index followed: a page's text finds its new item, at its new page number
    hit = run_search(archive, "marker260x")["hits"]
    assert [(h["id"], h["page"]) for h in hit] == [(ids[2], 10)]
    assert [h["id"] for h in run_search(archive, "marker050x")["hits"]] == [vol]
    with archive.session() as s:
        kinds = [(c.kind, c.actor, c.reason) for c in history(s, vol)]
        assert kinds == [("split", "arc", "按合同拆分")]


def test_merge_moves_pages_and_keeps_the_emptied_code(archive, tmp_path) -> None:
    a = _volume(archive, tmp_path, ["alpha one", "alpha two"], "甲")
    b = _volume(archive, tmp_path, ["bravo one zulu"], "乙")
    arc = _user(archive, "arc", "archivist")
    merge_items(archive, arc, a, [b], "同一合同")
    shown, gone = _shown(archive, a), _shown(archive, b)
    assert [p["text"] for p in shown["pages"]] == ["alpha one", "alpha two", "bravo one zulu"]
    assert gone["status"] == "merged" and gone["pages"] == [] and gone["archival_code"]
    assert [h["id"] for h in run_search(archive, "zulu")["hits"]] == [a]
    with pytest.raises(Conflict):
        merge_items(archive, arc, a, [b], "again")


def test_order_turn_and_blank_pages(archive, tmp_path) -> None:
    vid = _volume(archive, tmp_path, ["page one", "page two", "page three"])
    arc = _user(archive, "arc", "archivist")
    queued = arrange_pages(archive, arc, vid, [3, 1, 2], {}, {2}, "倒序扫描")
    assert queued == 0
    shown = _shown(archive, vid)
    assert [p["text"] for p in shown["pages"]] == ["page three", "page one", "page two"]
    assert [(p["file_page"], p["blank"]) for p in shown["pages"]] == [(3, False), (1, False),
                                                                       (2, True)]
    with archive.session() as s:
        item = get_item(s, vid)
        assert counted_pages(item) == 2 and [p.blank for p in item.pages] == [False, False, True]
    with pytest.raises(InvalidInput):
        arrange_pages(archive, arc, vid, [1, 1, 2], {}, set(), "bad")
    with pytest.raises(InvalidInput):
        arrange_pages(archive, arc, vid, [1, 2, 3], {1: 45}, set(), "bad")
    staff = _user(archive, "bob", "staff")
    with pytest.raises(PermissionDenied):
        arrange_pages(archive, staff, vid, [1, 2, 3], {}, set(), "x")


def test_a_turned_page_is_drawn_again_turned_over_the_original(archive, tmp_path) -> None:
    vid = _volume(archive, tmp_path, ["sideways page", "upright page"])
    arc = _user(archive, "arc", "archivist")
    with archive.session() as s:
        page = get_item(s, vid).pages[0]
        size, original = (page.width, page.height), page.file.sha256
    assert size[0] > size[1]  # the small test page is landscape
    queued = QueuedPages(archive)
    assert arrange_pages(archive, arc, vid, [1, 2], {1: 90}, set(), "横放扫描") == 1
    assert _shown(archive, vid)["status"] == "processing"
    _run(archive, queued)
    shown = _shown(archive, vid)
    assert shown["status"] == "ready" and shown["pages"][0]["text"] == "sideways page"
    with archive.session() as s:
        page = get_item(s, vid).pages[0]
        assert (page.width, page.height) == (size[1], size[0]) and page.turn == 90
        assert page.file.sha256 == original  # the original is not altered
        pdf = s.scalar(select(StoredFile).where(StoredFile.item_id == vid,
                                                StoredFile.role == "searchable_pdf"))
        reader = PdfReader(io.BytesIO(archive.store.read_bytes(pdf.key)))
        assert [p.rotation for p in reader.pages] == [90, 0]


def test_edit_records_who_when_why_and_previous_values(archive, tmp_path) -> None:
    """An edit is a change request; once the archive manager approves it (service.changes,
    tested in tests/service/test_change_requests.py) it is in the record and its history."""
    vid = _volume(archive, tmp_path, ["edit me"], "旧题名")
    arc = _user(archive, "arc", "archivist")
    boss = _user(archive, "boss", "manager")
    with archive.session() as s:
        create_customer(s, "KH-202405001", "华东贸易")
    with archive.session() as s:
        rid = request_change(s, arc, vid, {"title": "新题名 lease", "date": "2024-05-06",
                                           "customer": "KH-202405001", "paper_pages": "3"},
                             "题名有误").id
    assert _shown(archive, vid)["title"] == "旧题名"  # not before the approval
    with archive.session() as s:
        approve_change(s, boss, rid)
    shown = _shown(archive, vid)
    assert shown["title"] == "新题名 lease" and shown["date"] == "2024-05-06"
    assert shown["customer"]["number"] == "KH-202405001" and shown["paper_pages"] == 3
    with archive.session() as s:
        (change,) = history(s, vid)
        assert change.actor == "arc" and change.reason == "题名有误" and change.at is not None
        assert change.approved_by == "boss"
        assert change.changes["title"] == ["旧题名", "新题名 lease"]
        assert change.changes["customer"] == ["", "KH-202405001"]
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "change.approve")) is not None
    # the index follows the new title
    assert [h["id"] for h in run_search(archive, "新题名")["hits"]] == [vid]
    for values, reason in (({"title": " "}, "x"), ({"date": "2023-01-01"}, "x"),
                           ({"secrecy": "绝密"}, "x"), ({"paper_pages": "-1"}, "x"),
                           ({"title": "another"}, " "), ({"archival_code": "x"}, "x"),
                           ({"customer": "KH-209901001"}, "x"), ({"title": "新题名 lease"}, "x")):
        with archive.session() as s, pytest.raises((InvalidInput, PermissionDenied, Exception)) as e:
            request_change(s, arc, vid, values, reason)
        assert e.type is not Exception
    with archive.session() as s:
        assert len(history(s, vid)) == 1
        assert s.get(ArchiveItem, vid).title == "新题名 lease"
    staff = _user(archive, "bob", "staff")
    with archive.session() as s, pytest.raises(PermissionDenied):
        request_change(s, staff, vid, {"title": "x"}, "y")
