"""Destruction at the end of retention (#13.4): due from the end of the item's year (Y never),
appraisal, approval by the right level and not one's own, six months held apart on the
archive's clock, confirmation under a second named person, the item purged like a final
deletion, a permanent register (PDF and XLSX) and the box's 备考表 noting it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from service import clock, destruction
from service.box_paperwork import box_sheet
from service.checks import check_orphans
from service.deletion import approve_deletion, finalise_due, request_deletion
from service.destruction_register import to_pdf, to_xlsx
from service.errors import Conflict, InvalidInput, PermissionDenied
from service.items import get_item
from service.locations import create_box, put_in_box
from service.models import ArchiveItem, AuditEntry
from service.vocab import ItemStatus
from tests.service.test_deletion import _hits, _item, _keys, _user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def at():
    now = [T0]
    with clock.use_clock(lambda: now[0]):
        yield lambda **d: now.__setitem__(0, T0 + timedelta(**d))


@pytest.fixture
def people(archive):
    return {r: _user(archive, r, role) for r, role in (
        ("arc", "archivist"), ("arc2", "archivist"), ("mgr", "manager"), ("boss", "executive"),
        ("staff", "staff"))}


def _set(archive, item_id: int, **fields) -> None:
    with archive.session() as s:
        item = s.get_one(ArchiveItem, item_id)
        for k, v in fields.items():
            setattr(item, k, v)


def test_due_items_count_retention_from_the_end_of_the_year(archive, tmp_path, people, at) -> None:
    d10_due = _item(archive, tmp_path, ["old ten"], "十年到期")
    _set(archive, d10_due, retention="D10", year=2015)     # due 2026-01-01
    d10_not = _item(archive, tmp_path, ["young ten"], "十年未到期")
    _set(archive, d10_not, retention="D10", year=2016)     # due 2027-01-01
    d30_due = _item(archive, tmp_path, ["old thirty"], "三十年到期")
    _set(archive, d30_due, retention="D30", year=1995)
    forever = _item(archive, tmp_path, ["permanent"], "永久")
    _set(archive, forever, retention="Y", year=1950)
    held = _item(archive, tmp_path, ["held one"], "待删除")
    _set(archive, held, retention="D10", year=2000)
    approve_deletion(archive, people["mgr"], request_deletion(archive, people["arc"], held, "错"))

    due = [d.id for d in destruction.due_items(archive, people["arc"])]
    assert sorted(due) == sorted([d10_due, d30_due])
    with pytest.raises(PermissionDenied):
        destruction.due_items(archive, people["staff"])
    # keep: extended by N years, then off the list until then
    with pytest.raises(PermissionDenied):
        destruction.appraise(archive, people["mgr"], d30_due, "keep", "仍有参考价值", 5)
    with pytest.raises(InvalidInput):
        destruction.appraise(archive, people["arc"], d30_due, "keep", "仍有参考价值", 0)
    destruction.appraise(archive, people["arc"], d30_due, "keep", "仍有参考价值", 5)
    assert [d.id for d in destruction.due_items(archive, people["arc"])] == [d10_due]
    at(days=365 * 5 + 2)
    assert d30_due in [d.id for d in destruction.due_items(archive, people["arc"])]
    with pytest.raises(Conflict):  # not due
        destruction.appraise(archive, people["arc"], forever, "destroy", "过期")


def test_destroy_after_six_months_under_a_named_supervisor(archive, tmp_path, people, at) -> None:
    plain = _item(archive, tmp_path, ["omega5 plain"], "普通到期合同")
    secret = _item(archive, tmp_path, ["omega5 secret"], "秘密到期合同")
    other = _item(archive, tmp_path, ["omega5 other"], "其他合同")
    _set(archive, plain, retention="D10", year=2010, paper_pages=3)
    _set(archive, secret, retention="D10", year=2010, secrecy="秘密")
    with archive.session() as s:
        box = create_box(s, "BOX-D1")
        put_in_box(box, s.get_one(ArchiveItem, plain))
    keys = _keys(archive, plain)
    c1 = destruction.appraise(archive, people["arc"], plain, "destroy", "保管期满，无保存价值")
    c2 = destruction.appraise(archive, people["arc"], secret, "destroy", "保管期满")
    with pytest.raises(PermissionDenied):  # 内部: the office head, not the executive
        destruction.approve(archive, people["boss"], c1)
    with pytest.raises(PermissionDenied):  # 秘密: the executive
        destruction.approve(archive, people["mgr"], c2)
    held_until = destruction.approve(archive, people["mgr"], c1)
    destruction.approve(archive, people["boss"], c2)
    assert held_until == datetime(2026, 9, 2, 9, 0, tzinfo=UTC)

    at(days=183)  # 2026-09-01: not yet six months
    with pytest.raises(Conflict):
        destruction.confirm(archive, people["arc"], c1, "arc2")
    at(days=184)
    with pytest.raises(PermissionDenied):  # the same person as supervisor
        destruction.confirm(archive, people["arc"], c1, "arc")
    with pytest.raises(PermissionDenied):  # not an archivist
        destruction.confirm(archive, people["mgr"], c1, "arc2")
    number = destruction.confirm(archive, people["arc"], c1, "arc2")
    assert number == 1
    assert destruction.confirm(archive, people["arc"], c2, "mgr") == 2

    with archive.session() as s:
        item = get_item(s, plain)
        assert item.status == ItemStatus.DESTROYED and item.pages == [] and item.box_id is None
        actions = [a for a in s.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("destruction.%")))]
    assert actions.count("destruction.confirm") == 2 and "destruction.approve" in actions
    assert not any(archive.store.exists(k) for k in keys)
    assert _hits(archive, "omega5") == [other]
    assert check_orphans(archive)["orphans"] == []

    reg = destruction.register(archive, people["mgr"])
    assert [(r.number, r.title, r.pages, r.supervisor, r.confirmed_by, r.approved_by)
            for r in reg] == [(1, "普通到期合同", 3, "arc2", "arc", "mgr"),
                              (2, "秘密到期合同", 1, "mgr", "arc", "boss")]
    # the register survives every later purge
    at(days=400)
    finalise_due(archive)
    assert len(destruction.register(archive, None)) == 2
    text = PdfReader(io.BytesIO(to_pdf(reg))).pages[0].extract_text().replace("\x00", "")
    assert "普通到期合同" in text and "arc2" in text
    ws = load_workbook(io.BytesIO(to_xlsx(reg))).active
    assert ws.cell(2, 3).value == "普通到期合同" and ws.cell(3, 10).value == "mgr"
    with archive.session() as s:
        notes = box_sheet(s, None, "BOX-D1", lambda b: b).notes
    assert any("销毁" in n and "arc2" in n for n in notes), notes


def test_a_top_secret_item_is_destroyed_by_its_code_its_title_never_listed(
        archive, tmp_path, people, at) -> None:
    """A 绝密 paper item runs out too and goes through appraisal, the executive's approval and
    destruction, but its title is never shown electronically (the route sweep found the lists
    naming it): the due list, the cases and the register give its 档号 and withhold the title;
    the operator's register keeps it."""
    top = _item(archive, tmp_path, ["omega6 top"], "绝密到期合同")
    _set(archive, top, retention="D10", year=2010, secrecy="绝密")
    with archive.session() as s:
        code = get_item(s, top).archival_code
    due = {d.id: d for d in destruction.due_items(archive, people["arc"])}
    assert (due[top].archival_code, due[top].title) == (code, "（题名不以电子方式提供）")
    case = destruction.appraise(archive, people["arc"], top, "destroy", "保管期满")
    rows = destruction.cases(archive, people["boss"], ("appraised",))
    assert [(r.archival_code, r.title) for r in rows] == [(code, "（题名不以电子方式提供）")]
    destruction.approve(archive, people["boss"], case)
    at(days=184)
    destruction.confirm(archive, people["arc"], case, "arc2")
    reg = destruction.register(archive, people["mgr"])
    assert [(r.archival_code, r.title) for r in reg] == [(code, "（题名不以电子方式提供）")]
    assert "绝密到期合同" not in PdfReader(io.BytesIO(to_pdf(reg))).pages[0].extract_text()
    assert [r.title for r in destruction.register(archive, None)] == ["绝密到期合同"]
    assert [r.title for r in destruction.register(archive, people["mgr"])] == [
        "（题名不以电子方式提供）"]  # the withheld copy was never written back
