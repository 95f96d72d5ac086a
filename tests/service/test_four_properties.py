"""四性检测 (#14.6, #14.7): faults of each kind planted in items that went through the real
pipeline (rendered scans, Tesseract, derived files, the searchable PDF) are each reported
under the right property with the right code; a clean item passes all four; the check at
ingest records what it finds without failing the ingest; `dangan check --four-properties`
exits 1 when anything fails and keeps each result."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelp import dangan, dangan_json
from scanfactory import render_page, write_png
from sqlalchemy import delete, select

from service.audit_actions import AuditAction
from service.backup import backup
from service.fourprops import Code, check_item, latest_check, text_similarity
from service.ingest import IngestRequest, ingest
from service.jobs.pipeline import run_page, searchable_pdf_through
from service.models import ArchiveItem, AuditEntry, FourPropertyCheck, Page, StoredFile
from service.users import create_user
from tests.queued import QueuedPages

#: The faults, each planted in its own item: (name, the code it must be reported under).
FAULTS = {
    "altered_object": Code.CHECKSUM,
    "missing_derived": Code.DERIVED_MISSING,
    "missing_audit": Code.INGEST_AUDIT,
    "page_without_text": Code.PAGE_NO_TEXT,
    "field_emptied": Code.FIELD_EMPTY,
    "pages_declared": Code.PAGES_MISSING,
    "corrupt_original": Code.ORIGINAL_UNREADABLE,
    "text_layer_differs": Code.TEXT_LAYER,
    "no_access_rules": Code.ACCESS_RULES,
    "not_in_backup": Code.NOT_IN_BACKUP,
}


def _ingest(archive, tmp_path: Path, queued: QueuedPages, owner, name: str, **kw) -> int:
    words = [f"{name} 合同", "甲方 深圳市某某公司", "乙方 张三"]
    scan = write_png(tmp_path / f"{name}.png", render_page(words, size=(620, 360)))
    res = ingest(archive, IngestRequest(files=[scan], fonds="J001", category="HT", year=2024,
                                        retention="D30", secrecy="内部", title=f"{name} 合同",
                                        uploader=owner, actor=owner.username, **kw))
    while len(queued):
        assert run_page(archive, queued.pop()) == "done"
    return res.id


def _object_path(archive, key: str) -> Path:
    path = archive.store.local_path(key)
    assert path is not None and path.exists()
    os.chmod(path, 0o644)
    return path


@pytest.fixture
def world(archive, tmp_path: Path):
    """Eleven one-page items by a staff member of 销售部 (so each has an owner and a
    department), a backup of all but the last, then each fault planted in its own item."""
    queued = QueuedPages(archive)
    with archive.session() as s:
        owner = create_user(s, "zhang", "password-123", role="staff", department="销售部")
        s.flush()
        s.expunge(owner)
    ids = {name: _ingest(archive, tmp_path, queued, owner, name)
           for name in ["clean", *FAULTS] if name != "not_in_backup"}

    def original(s, name: str) -> StoredFile:
        return s.scalars(select(StoredFile).where(StoredFile.item_id == ids[name],
                                                  StoredFile.role == "original")).one()

    def page(s, name: str) -> Page:
        return s.scalars(select(Page).where(Page.item_id == ids[name])).one()

    # what the catalogue says, changed before the backup (so the backup holds it as it is)
    with archive.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.target == f"item:{ids['missing_audit']}",
                                           AuditEntry.action == AuditAction.ITEM_INGEST))
        page(s, "page_without_text").text = ""
        s.get_one(ArchiveItem, ids["field_emptied"]).title = ""
        s.get_one(ArchiveItem, ids["pages_declared"]).paper_pages = 3
        no_rules = s.get_one(ArchiveItem, ids["no_access_rules"])
        no_rules.owner_id, no_rules.department = None, None
    # a searchable PDF whose text layer says something else (its checksum recorded anew,
    # so only what it says is wrong)
    other = searchable_pdf_through(archive, ids["text_layer_differs"],
                                   lambda t: "".join("某" if not c.isspace() else c for c in t))
    assert other is not None
    with archive.session() as s:
        spdf = s.scalars(select(StoredFile).where(StoredFile.item_id == ids["text_layer_differs"],
                                                  StoredFile.role == "searchable_pdf")).one()
        obj = archive.store.put_bytes(other, key=spdf.key, content_type="application/pdf")
        spdf.sha256, spdf.size = obj.sha256, obj.size
    backup(archive, tmp_path / "bag")
    ids["not_in_backup"] = _ingest(archive, tmp_path, queued, owner, "not_in_backup")
    # the stored objects, damaged after the backup (as bit rot or a careless hand would)
    with archive.session() as s:
        path = _object_path(archive, original(s, "altered_object").key)
        path.write_bytes(path.read_bytes() + b"\0")  # still a PNG that opens, altered
        archive.store.delete(page(s, "missing_derived").thumb_key)
        path = _object_path(archive, original(s, "corrupt_original").key)
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    return ids


@pytest.mark.slow
def test_each_planted_fault_is_reported_under_its_property(archive, archive_env, world) -> None:
    run = dangan(archive_env, "check", "--four-properties", "--json", check=False)
    assert run.returncode == 1, run.stderr
    import json

    report = json.loads(run.stdout)["four_properties"]
    by_item = {i["item_id"]: i for i in report["items"]}
    assert report["checked"] == len(world) and report["skipped"] == []
    clean = by_item[world["clean"]]
    assert clean["passed"] and clean["findings"] == [], clean
    assert all(clean[p] for p in ("authenticity", "integrity", "usability", "security"))
    for name, code in FAULTS.items():
        result = by_item[world[name]]
        codes = {f["code"] for f in result["findings"]}
        assert str(code) in codes, (name, result["findings"])
        assert result[code.property] is False, name
        assert not result["passed"]
        finding = next(f for f in result["findings"] if f["code"] == code)
        assert finding["property"] == code.property and finding["message"]
    # faults that touch nothing else stay under their one property
    only = {"altered_object": "authenticity", "missing_derived": "integrity",
            "missing_audit": "authenticity", "field_emptied": "integrity",
            "pages_declared": "integrity", "text_layer_differs": "usability",
            "no_access_rules": "security", "not_in_backup": "security"}
    for name, prop in only.items():
        failed = {p for p in ("authenticity", "integrity", "usability", "security")
                  if not by_item[world[name]][p]}
        assert failed == {prop}, (name, by_item[world[name]]["findings"])
    assert "第 1 页" in next(f["message"] for f in by_item[world["page_without_text"]]["findings"]
                            if f["code"] == Code.PAGE_NO_TEXT)
    # every result is kept (the web shows the latest), and the run is audited
    with archive.session() as s:
        latest = latest_check(s, world["corrupt_original"])
        assert latest is not None and latest.scope == "full" and latest.checked_by == "cli"
        assert not latest.usability and not latest.authenticity
        entry = s.scalars(select(AuditEntry).where(
            AuditEntry.action == AuditAction.PRESERVATION_CHECK)).one()
        assert entry.target == "archive" and entry.detail["checked"] == len(world)
        assert entry.detail["failed"]["security"] == 2

    one = dangan_json(archive_env, "check", "--four-properties", "--item", str(world["clean"]))
    assert one["four_properties"]["passed"] and one["four_properties"]["checked"] == 1


def test_the_check_at_ingest_records_without_failing_the_ingest(archive, tmp_path: Path,
                                                                 monkeypatch) -> None:
    """At finalisation: a declared page count the scans do not reach is recorded (no backup
    check yet); a check that breaks is logged and the item is still finished."""
    queued = QueuedPages(archive)
    with archive.session() as s:
        owner = create_user(s, "li", "password-123", role="staff", department="财务部")
        s.flush()
        s.expunge(owner)
    short = _ingest(archive, tmp_path, queued, owner, "short", paper_pages=4)
    with archive.session() as s:
        item = s.get_one(ArchiveItem, short)
        assert item.status == "ready"
        row = latest_check(s, short)
        assert row is not None and row.scope == "ingest" and row.checked_by == "system"
        assert [f["code"] for f in row.findings] == [Code.PAGES_MISSING]
        assert row.findings[0]["facts"] == {"declared": 4, "scanned": 1}
        assert not row.integrity and row.authenticity and row.usability and row.security

    import service.fourprops as fourprops

    def broken(*_a, **_k):
        raise RuntimeError("the check itself broke")

    monkeypatch.setattr(fourprops, "check_item", broken)
    fine = _ingest(archive, tmp_path, queued, owner, "fine")
    with archive.session() as s:
        assert s.get_one(ArchiveItem, fine).status == "ready"
        assert s.scalar(select(FourPropertyCheck).where(FourPropertyCheck.item_id == fine)) is None
    monkeypatch.undo()
    # on demand, the same item without a backup: the security property says so
    row = check_item(archive, fine, scope="full", actor="cli")
    assert [f["code"] for f in row.findings] == [Code.NO_BACKUP] and not row.security


def test_text_similarity_tolerates_spacing_and_width_not_other_words() -> None:
    assert text_similarity("甲方 深圳市某某公司\n合同", "甲 方深圳市某某公司 合同") == 1.0
    assert text_similarity("ＡＢＣ合同", "ABC合同") == 1.0
    assert text_similarity("房屋租赁合同甲方深圳市某某公司", "房屋租赁合同甲方深圳市某某公可") > 0.9
    assert text_similarity("房屋租赁合同甲方深圳市某某公司", "借款协议乙方张三") < 0.5
