"""Catalogue changes wait for the archive manager's approval (#13.3): a request with the
previous and proposed values, approved (written, indexed, kept in the history with who asked
and who approved) or rejected with a reason, never by its own requester, never over a
change that landed first."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanfactory import text_pdf_bytes
from sqlalchemy import func, select

from service.changes import (
    approve_change,
    change_queue,
    pending_changes,
    reject_change,
    request_change,
    withdraw_change,
)
from service.edits import history
from service.errors import Conflict, InvalidInput, PermissionDenied
from service.ingest import IngestRequest, ingest
from service.jobs.pipeline import run_page
from service.models import ArchiveItem, AuditEntry, ChangeRequest, User
from service.search import run_search
from service.users import create_user
from tests.queued import QueuedPages


def _user(archive, name: str, role: str) -> User:
    with archive.session() as s:
        create_user(s, name, "password-123", role=role)
    with archive.session() as s:
        u = s.scalar(select(User).where(User.username == name))
        s.expunge(u)
        return u


def _item(archive, tmp_path: Path, title: str) -> int:
    pdf = tmp_path / f"{title}.pdf"
    pdf.write_bytes(text_pdf_bytes([["lease text page"]], media_box=(200, 100)))
    queued = QueuedPages(archive)
    res = ingest(archive, IngestRequest(files=[pdf], fonds="J001", category="HT", year=2024,
                                        retention="D30", secrecy="内部", title=title))
    while len(queued):
        run_page(archive, queued.pop(0))
    return res.id


@pytest.fixture
def people(archive):
    return {name: _user(archive, name, role) for name, role in (
        ("arc", "archivist"), ("boss", "manager"), ("boss2", "manager"), ("root2", "admin"),
        ("exec", "executive"))}


def _request(archive, user: User, item_id: int, values: dict, reason: str = "题名录错") -> int:
    with archive.session() as s:
        return request_change(s, user, item_id, values, reason).id


def _audits(archive, action: str) -> list[AuditEntry]:
    with archive.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _hits(archive, q: str) -> list[int]:
    return [h["id"] for h in run_search(archive, q)["hits"]]


def test_an_edit_waits_and_the_approval_applies_it_with_history_and_index(archive, tmp_path,
                                                                          people):
    vid = _item(archive, tmp_path, "旧题名")
    rid = _request(archive, people["arc"], vid, {"title": "新题名 quittance", "date": "2024-05-06",
                                                  "remarks": "补记"})
    with archive.session() as s:
        item = s.get(ArchiveItem, vid)
        assert item.title == "旧题名" and item.doc_date is None and item.remarks is None
        assert history(s, vid) == []
        (req,) = pending_changes(s, vid)
        assert (req.requested_by, req.reason, req.source, req.status) == (
            "arc", "题名录错", "edit", "pending")
        assert req.changes == {"title": ["旧题名", "新题名 quittance"], "date": ["", "2024-05-06"],
                               "remarks": ["", "补记"]}
    assert _hits(archive, "quittance") == []
    (asked,) = _audits(archive, "change.request")
    assert asked.actor == "arc" and asked.detail["request"] == rid
    assert asked.detail["changes"]["title"] == ["旧题名", "新题名 quittance"]

    with archive.session() as s:
        approve_change(s, people["boss"], rid, "核对原件无误")
    with archive.session() as s:
        item = s.get(ArchiveItem, vid)
        assert item.title == "新题名 quittance" and item.doc_date.isoformat() == "2024-05-06"
        (change,) = history(s, vid)
        assert (change.actor, change.approved_by, change.reason, change.request_id) == (
            "arc", "boss", "题名录错", rid)
        assert change.changes["title"] == ["旧题名", "新题名 quittance"] and change.at is not None
        req = s.get(ChangeRequest, rid)
        assert (req.status, req.decided_by, req.decision_note) == ("approved", "boss", "核对原件无误")
        assert req.decided_at is not None and pending_changes(s, vid) == []
    (approved,) = _audits(archive, "change.approve")
    assert approved.actor == "boss" and approved.detail["requested_by"] == "arc"
    assert approved.detail["changes"]["title"] == ["旧题名", "新题名 quittance"]
    # the index follows the approved title
    assert _hits(archive, "quittance") == [vid]
    # an approved request is not decided twice
    with archive.session() as s, pytest.raises(Conflict, match="已处理"):
        approve_change(s, people["boss2"], rid)


def test_a_rejection_needs_a_reason_and_leaves_the_record(archive, tmp_path, people):
    vid = _item(archive, tmp_path, "原题名")
    rid = _request(archive, people["arc"], vid, {"title": "错误题名"})
    with archive.session() as s, pytest.raises(InvalidInput, match="理由"):
        reject_change(s, people["boss"], rid, "  ")
    with archive.session() as s:
        reject_change(s, people["boss"], rid, "与原件不符")
    with archive.session() as s:
        req = s.get(ChangeRequest, rid)
        assert (req.status, req.decided_by, req.decision_note) == ("rejected", "boss", "与原件不符")
        assert s.get(ArchiveItem, vid).title == "原题名" and history(s, vid) == []
    (rejected,) = _audits(archive, "change.reject")
    assert rejected.actor == "boss" and rejected.detail["note"] == "与原件不符"
    with archive.session() as s, pytest.raises(Conflict):
        approve_change(s, people["boss"], rid)


def test_only_another_archive_manager_decides(archive, tmp_path, people):
    vid = _item(archive, tmp_path, "审批题名")
    rid = _request(archive, people["arc"], vid, {"remarks": "装订松散"})
    for who in ("arc", "root2", "exec"):
        with archive.session() as s, pytest.raises(PermissionDenied, match="档案室主任"):
            approve_change(s, people[who], rid)
        with archive.session() as s, pytest.raises(PermissionDenied):
            reject_change(s, people[who], rid, "不同意")
    # the manager's own edit is a request like anyone's: another manager decides it
    own = _request(archive, people["boss"], vid, {"title": "主任改的题名"}, "主任核对")
    with archive.session() as s, pytest.raises(PermissionDenied, match="自己"):
        approve_change(s, people["boss"], own)
    with archive.session() as s, pytest.raises(PermissionDenied, match="自己"):
        reject_change(s, people["boss"], own, "x")
    # only the requester withdraws
    with archive.session() as s, pytest.raises(PermissionDenied, match="申请人"):
        withdraw_change(s, people["boss2"], rid)
    with archive.session() as s:
        withdraw_change(s, people["arc"], rid)
    with archive.session() as s:
        approve_change(s, people["boss2"], own)
    with archive.session() as s:
        assert s.get(ChangeRequest, rid).status == "withdrawn"
        item = s.get(ArchiveItem, vid)
        assert item.title == "主任改的题名" and item.remarks is None
        (change,) = history(s, vid)
        assert (change.actor, change.approved_by) == ("boss", "boss2")
    assert [a.actor for a in _audits(archive, "change.withdraw")] == ["arc"]
    assert not [a for a in _audits(archive, "change.approve") if a.actor == a.detail["requested_by"]]


def test_two_waiting_requests_and_the_stale_one_is_refused(archive, tmp_path, people):
    vid = _item(archive, tmp_path, "并发题名")
    first = _request(archive, people["arc"], vid, {"title": "甲的题名"}, "甲")
    second = _request(archive, people["boss"], vid, {"title": "乙的题名"}, "乙")
    other_field = _request(archive, people["arc"], vid, {"responsible": "办公室"}, "补责任者")
    with archive.session() as s:
        assert [r.id for r in pending_changes(s, vid)] == [first, second, other_field]
        queue = change_queue(s, people["boss2"])
        assert [r.id for r, _item, _now in queue] == [first, second, other_field]
        with pytest.raises(PermissionDenied):
            change_queue(s, people["exec"])
    with archive.session() as s:
        approve_change(s, people["boss2"], first)
    with archive.session() as s, pytest.raises(Conflict) as e:
        approve_change(s, people["boss2"], second)
    assert "题名：申请时为“并发题名”，现为“甲的题名”" in str(e.value)
    with archive.session() as s:
        approve_change(s, people["boss"], other_field)  # a different field: no conflict
    with archive.session() as s:
        item = s.get(ArchiveItem, vid)
        assert (item.title, item.responsible) == ("甲的题名", "办公室")
        assert s.get(ChangeRequest, second).status == "pending"
        assert [c.reason for c in history(s, vid)] == ["补责任者", "甲"]


def test_a_request_is_checked_when_asked_and_the_code_never_changes(archive, tmp_path, people):
    vid = _item(archive, tmp_path, "校验题名")
    for values, reason in (({"title": " "}, "x"), ({"date": "2023-01-01"}, "x"),
                           ({"secrecy": "绝密"}, "x"), ({"paper_pages": "-1"}, "x"),
                           ({"title": "another"}, " "), ({"year": "2020"}, "x"),
                           ({"item_no": "9"}, "x"), ({"customer": "KH-209901001"}, "x"),
                           ({"title": "校验题名"}, "x")):
        with archive.session() as s, pytest.raises((InvalidInput, PermissionDenied, Exception)) as e:
            request_change(s, people["arc"], vid, values, reason)
        assert e.type is not Exception
    staff = _user(archive, "bob", "staff")
    with archive.session() as s, pytest.raises(PermissionDenied):
        request_change(s, staff, vid, {"title": "x"}, "y")
    with archive.session() as s:
        assert s.scalar(select(func.count(ChangeRequest.id))) == 0
        assert not _audits(archive, "change.request")


@pytest.fixture
def any_db_archive(db_url: str, tmp_path):
    """An archive on SQLite and on PostgreSQL (the migration, the locks, the JSON values)."""
    from service.archive import Archive
    from service.config import Settings
    from service.db import dispose_all
    from service.setup import init_archive

    archive = Archive(Settings.from_env({"DANGAN_DATA": str(tmp_path / "data"),
                                         "DANGAN_DATABASE_URL": db_url}))
    init_archive(archive, admin_password="admin-password")
    yield archive
    dispose_all()


def test_requests_on_each_database(any_db_archive, tmp_path):
    archive = any_db_archive
    arc, boss = _user(archive, "arc", "archivist"), _user(archive, "boss", "manager")
    vid = _item(archive, tmp_path, "数据库题名")
    first = _request(archive, arc, vid, {"title": "第一", "paper_pages": "2"})
    second = _request(archive, arc, vid, {"title": "第二"})
    with archive.session() as s:
        approve_change(s, boss, first, "")
    with archive.session() as s, pytest.raises(Conflict):
        approve_change(s, boss, second)
    with archive.session() as s:
        reject_change(s, boss, second, "原值已变")
    with archive.session() as s:
        item = s.get(ArchiveItem, vid)
        assert (item.title, item.paper_pages) == ("第一", 2)
        (change,) = history(s, vid)
        assert change.changes == {"title": ["数据库题名", "第一"], "paper_pages": ["", "2"]}
        assert [r.status for r in s.scalars(select(ChangeRequest).order_by(ChangeRequest.id))] == [
            "approved", "rejected"]


def test_an_item_in_disposal_keeps_its_record(archive, tmp_path, people):
    from service.deletion import approve_deletion, request_deletion

    vid = _item(archive, tmp_path, "待删题名")
    rid = _request(archive, people["arc"], vid, {"title": "删前改名"})
    approve_deletion(archive, people["boss"], request_deletion(archive, people["arc"], vid, "重复登记"))
    with archive.session() as s, pytest.raises(Conflict, match="删除"):
        approve_change(s, people["boss2"], rid)
    with archive.session() as s, pytest.raises(Conflict, match="删除"):
        request_change(s, people["arc"], vid, {"title": "再改"}, "x")
    with archive.session() as s:
        assert s.get(ArchiveItem, vid).title == "待删题名"


def test_a_sheet_moving_an_item_to_a_box_waits_and_the_approval_files_it(archive, tmp_path,
                                                                         people):
    from service.batch import register_batch
    from service.export import export_sheet
    from service.locations import create_box
    from service.search import SearchParams
    from service.sheet_columns import HEADERS
    from service.sheets import SheetWriter, read_rows

    vid = _item(archive, tmp_path, "入盒题名")
    with archive.session() as s:
        create_box(s, "BOX-CH-1")
    out = tmp_path / "export.xlsx"
    export_sheet(archive, None, SearchParams(filters={}), out)
    rows = [v for _, v in read_rows(out)]
    rows[0]["盒号"] = "BOX-CH-1"
    sheet = tmp_path / "入盒.xlsx"
    w = SheetWriter(sheet, HEADERS)
    for r in rows:
        w.append([r.get(h) for h in HEADERS])
    w.close()
    result = register_batch(archive, people["arc"], sheet, None)
    assert [u["id"] for u in result.submitted] == [vid] and not result.failed
    with archive.session() as s:
        assert s.get(ArchiveItem, vid).box_id is None
        (req,) = pending_changes(s, vid)
        assert (req.changes, req.sheet, req.sheet_row) == ({"box": ["", "BOX-CH-1"]}, "入盒.xlsx", 2)
    with archive.session() as s:
        approve_change(s, people["boss"], req.id)
    with archive.session() as s:
        item = s.get(ArchiveItem, vid)
        assert item.box.barcode == "BOX-CH-1" and item.box_position == 1
        assert history(s, vid)[0].changes == {"box": ["", "BOX-CH-1"]}
