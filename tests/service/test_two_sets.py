"""The two sets of an item (#11): cross-references generated from one link, moves kept in
the location history, the records officer's signed checks, the queue and the rescan tasks."""

from __future__ import annotations

import pytest
from PIL import Image
from sqlalchemy import select

from service.crosscheck import (
    CHANGED,
    NEVER,
    OPEN,
    Finding,
    QueueFilters,
    check_history,
    check_queue,
    open_box,
    parse_pages,
    record_check,
    rescan_tasks,
)
from service.errors import Conflict, InvalidInput, PermissionDenied
from service.ingest import IngestRequest, ingest
from service.items import get_item, item_to_json
from service.locations import create_box, ensure_shelf, get_box, move_box
from service.models import AuditEntry, User
from service.twoset import electronic_side, move_item, paper_side, update_paper_side
from service.users import create_user
from tests.queued import QueuedPages


@pytest.fixture
def queued(archive):
    return QueuedPages(archive)


@pytest.fixture
def people(archive):
    with archive.session() as s:
        create_user(s, "officer", "password-123", role="officer", display_name="核查员老周")
        create_user(s, "arc", "password-123", role="archivist")
        create_user(s, "staff", "password-123", role="staff")
    return {"officer": "officer", "arc": "arc", "staff": "staff"}


def _user(s, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


def _scan(tmp_path, n: int):
    path = tmp_path / f"scan-{n}.png"
    Image.new("L", (60 + n, 80), 255).save(path)
    return path


def _ingest(archive, tmp_path, n: int, **kw) -> int:
    fields = {"fonds": "J001", "category": "HT", "year": 2024, "retention": "D30",
              "secrecy": "内部", "title": f"合同 {n}", "box": "BOX-1", "paper_pages": 1}
    fields.update(kw)
    return ingest(archive, IngestRequest(files=[_scan(tmp_path, n)], **fields)).id


def test_cross_references_follow_the_one_link(archive, tmp_path, queued, people):
    with archive.session() as s:
        shelf = ensure_shelf(s, "A", "3", "2", "4")
        create_box(s, "BOX-1", shelf=shelf)
        create_box(s, "BOX-2", shelf=ensure_shelf(s, "B", "1", "1", "1"))
    first, second = _ingest(archive, tmp_path, 1), _ingest(archive, tmp_path, 2)
    with archive.session() as s:
        item = get_item(s, second)
        paper, scans = paper_side(s, item), electronic_side(item)
        assert (paper.box, paper.position, paper.declared_pages, paper.condition) == (
            "BOX-1", 2, 1, "intact")
        assert paper.path == "A库房/3架/2节/4层/盒 BOX-1"
        assert (paper.room, paper.rack, paper.section, paper.shelf) == ("A库房", "3", "2", "4")
        # the electronic catalogue shows the paper 档号 and physical path …
        assert item.archival_code in paper.reference and paper.path in paper.reference
        assert "第 2 件" in paper.reference
        # … the paper side shows the electronic identifier, storage address and checksum
        f = item.files[0]
        assert scans.identifier in scans.reference
        assert f.key in scans.reference and f.sha256 in scans.reference
        assert scans.scanned_pages == 1
        assert get_item(s, first).box_position == 1
        data = item_to_json(item)
        assert data["two_sets"]["paper"]["reference"] == paper.reference
        assert data["two_sets"]["electronic"]["files"][0]["sha256"] == f.sha256

    # moving the box changes both references at once (nothing typed to update)
    with archive.session() as s:
        move_box(s, get_box(s, "BOX-1"), ensure_shelf(s, "A", "9", "9", "9"), actor="arc")
    with archive.session() as s:
        paper = paper_side(s, get_item(s, second))
        assert paper.path == "A库房/9架/9节/9层/盒 BOX-1" and paper.path in paper.reference
        assert [h["kind"] for h in paper.history] == ["box", "box"]

    # moving the item: position checked, history kept, both sides follow, queue again
    with archive.session() as s:
        arc, item = _user(s, "arc"), get_item(s, second)
        with pytest.raises(PermissionDenied):
            move_item(s, _user(s, "officer"), item, "BOX-2")
        with pytest.raises(Conflict, match="第 1 件"):
            move_item(s, arc, item, "BOX-1", 1)
        move_item(s, arc, item, "BOX-2", note="整理调整")
    with archive.session() as s:
        item = get_item(s, second)
        paper = paper_side(s, item)
        assert (paper.box, paper.position) == ("BOX-2", 1)
        assert paper.path == "B库房/1架/1节/1层/盒 BOX-2" and paper.path in paper.reference
        moves = [h for h in paper.history if h["kind"] == "item"]
        assert moves == [{"at": moves[0]["at"], "by": "arc", "kind": "item",
                          "from": "A库房/9架/9节/9层/盒 BOX-1", "from_position": 2,
                          "to": "B库房/1架/1节/1层/盒 BOX-2", "to_position": 1,
                          "note": "整理调整"}]
        assert item.sets_changed_at is not None


def test_paper_side_is_checked(archive, tmp_path, queued, people):
    with archive.session() as s:
        create_box(s, "BOX-1")
    item_id = _ingest(archive, tmp_path, 1)
    with archive.session() as s:
        arc, item = _user(s, "arc"), get_item(s, item_id)
        for kw, match in (({"declared_pages": 0}, "纸质页数"),
                          ({"condition": "burnt"}, "纸质状况"),
                          ({"remarks": "a\x00b"}, "控制字符")):
            args = {"declared_pages": 3, "condition": "damaged", "remarks": "右下角破损"} | kw
            with pytest.raises(InvalidInput, match=match):
                update_paper_side(s, arc, item, **args)
        with pytest.raises(PermissionDenied):
            update_paper_side(s, _user(s, "staff"), item, declared_pages=3,
                              condition="damaged", remarks=None)
        assert update_paper_side(s, arc, item, declared_pages=3, condition="damaged",
                                 remarks=" 右下角破损 ")
        assert not update_paper_side(s, arc, item, declared_pages=3, condition="damaged",
                                     remarks="右下角破损")
    with archive.session() as s:
        paper = paper_side(s, get_item(s, item_id))
        assert (paper.declared_pages, paper.condition, paper.remarks) == (3, "damaged", "右下角破损")


def test_parse_pages() -> None:
    assert parse_pages("3, 5-7、9，2至3") == [2, 3, 5, 6, 7, 9]
    assert parse_pages("") == []
    for bad in ("0", "x", "7-5", "1-2-3"):
        with pytest.raises(InvalidInput):
            parse_pages(bad)


def test_checks_queue_and_rescan_tasks(archive, tmp_path, queued, people):
    with archive.session() as s:
        create_box(s, "BOX-1")
        create_box(s, "BOX-2")
    a = _ingest(archive, tmp_path, 1, paper_pages=2)
    b = _ingest(archive, tmp_path, 2)
    c = _ingest(archive, tmp_path, 3, box="BOX-2", category="ZJ", year=2023)

    def queue(**f):
        with archive.session() as s:
            return {r.item.id: r.reason for r in check_queue(s, _user(s, "officer"),
                                                             QueueFilters(**f))}

    assert queue() == {a: NEVER, b: NEVER, c: NEVER}
    assert queue(box="BOX-2") == {c: NEVER}
    assert queue(year=2024) == queue(category="HT") == {a: NEVER, b: NEVER}
    assert queue(fonds="J001", box="BOX-1", year=2023) == {}

    with archive.session() as s:
        officer = _user(s, "officer")
        for result, findings, match in (
                ("agrees", [Finding("illegible", [1])], "一致"),
                ("discrepancy", [], "差异类型"),
                ("discrepancy", [Finding("smudge", [1])], "差异类型"),
                ("discrepancy", [Finding("missing_scan", [3])], "页码 3"),
                ("maybe", [], "核对结果")):
            with pytest.raises(InvalidInput, match=match):
                record_check(s, officer, a, result, findings)
        for who in ("staff", "arc"):
            with pytest.raises(PermissionDenied):
                record_check(s, _user(s, who), b, "agrees")
        record_check(s, officer, b, "agrees")
        chk = record_check(s, officer, a, "discrepancy",
                           [Finding("missing_scan", [2], "第2页未扫描")], note="纸质2页，扫描1页")
        assert (chk.officer, chk.officer_name, chk.paper_pages, chk.scanned_pages) == (
            "officer", "核查员老周", 2, 1)
    assert queue() == {a: OPEN, c: NEVER}
    with archive.session() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "item.crosscheck")).all()
        assert [(e.actor, e.detail["result"]) for e in audit] == [
            ("officer", "agrees"), ("officer", "discrepancy")]
        tasks = rescan_tasks(s, _user(s, "arc"))
        assert [(t.item.id, t.check.findings[0].kind, t.check.findings[0].pages)
                for t in tasks] == [(a, "missing_scan", [2])]
        with pytest.raises(PermissionDenied):
            rescan_tasks(s, _user(s, "officer"))
        box, rows = open_box(s, _user(s, "officer"), "BOX-1")
        assert [(i.id, why, last.result if last else None) for i, why, last in rows] == [
            (a, OPEN, "discrepancy"), (b, None, "agrees")]

    # a change to the paper side after the check: back in the queue; the task is answered
    with archive.session() as s:
        update_paper_side(s, _user(s, "arc"), get_item(s, b), declared_pages=1,
                          condition="damaged", remarks=None)
        update_paper_side(s, _user(s, "arc"), get_item(s, a), declared_pages=1,
                          condition="intact", remarks="经核实原件为1页")
    assert queue() == {a: CHANGED, b: CHANGED, c: NEVER}
    with archive.session() as s:
        assert rescan_tasks(s, _user(s, "arc")) == []
        officer = _user(s, "officer")
        record_check(s, officer, a, "agrees")
        record_check(s, officer, b, "agrees")
        assert [x.result for x in check_history(s, a)] == ["agrees", "discrepancy"]
    assert queue() == {c: NEVER}
