"""Deletion with a 30-day hold (#13.4): request with a reason, the archive manager's approval
(not one's own), hidden while held, undone exactly, made final after 30 days by the
scheduled purge: a tombstone with its history, and only the objects nothing else uses
removed. The archive's clock is moved, never slept on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scanfactory import text_pdf_bytes
from sqlalchemy import select

from service import clock
from service.arrange import split_item
from service.checks import check_fixity, check_index, check_orphans
from service.crosscheck import check_queue
from service.deletion import (
    approve_deletion,
    deletions,
    finalise_due,
    reject_deletion,
    request_deletion,
    undo_deletion,
)
from service.edits import history
from service.errors import Conflict, InvalidInput, PermissionDenied
from service.ingest import IngestRequest, ingest
from service.items import get_item
from service.jobs.pipeline import run_page
from service.models import ArchiveItem, AuditEntry, DeletionRequest, PendingPurge, StoredFile, User
from service.search import SearchParams, run_search
from service.twoset_report import two_set_report
from service.users import create_user
from service.vocab import ItemStatus
from tests.queued import QueuedPages

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def at():
    """Move the archive's clock: at(days) sets it to T0 + days."""
    now = [T0]
    with clock.use_clock(lambda: now[0]):
        yield lambda days: now.__setitem__(0, T0 + timedelta(days=days))


def _user(archive, name: str, role: str) -> User:
    with archive.session() as s:
        create_user(s, name, "password-123", role=role)
    with archive.session() as s:
        u = s.scalar(select(User).where(User.username == name))
        s.expunge(u)
        return u


def _item(archive, tmp_path: Path, words: list[str], title: str, owner: User | None = None) -> int:
    pdf = tmp_path / f"{title}.pdf"
    pdf.write_bytes(text_pdf_bytes([[w] for w in words], media_box=(200, 100)))
    queued = QueuedPages(archive)
    res = ingest(archive, IngestRequest(files=[pdf], fonds="J001", category="HT", year=2024,
                                        retention="D30", secrecy="内部", title=title))
    while len(queued):
        run_page(archive, queued.pop(0))
    if owner is not None:
        with archive.session() as s:
            s.get_one(ArchiveItem, res.id).owner_id = owner.id
    return res.id


def _hits(archive, q: str, user: User | None = None) -> list[int]:
    return [h["id"] for h in run_search(archive, q, user=user)["hits"]]


def _listed(archive, user: User) -> list[int]:
    return [h["id"] for h in run_search(archive, SearchParams(filters={}), user=user)["hits"]]


@pytest.fixture
def people(archive):
    return {"arc": _user(archive, "arc", "archivist"), "mgr": _user(archive, "mgr", "manager"),
            "mgr2": _user(archive, "mgr2", "manager"), "staff": _user(archive, "staff", "staff"),
            "exec": _user(archive, "boss", "executive")}


def _keys(archive, item_id: int) -> set[str]:
    with archive.session() as s:
        item = get_item(s, item_id)
        keys = {f.key for f in item.files}
        for p in item.pages:
            keys.update(k for k in (p.image_key, p.thumb_key, p.pdf_key) if k)
        return keys


def test_request_needs_a_reason_and_the_archive_manager_approves_not_their_own(
        archive, tmp_path, people, at) -> None:
    item = _item(archive, tmp_path, ["alpha7 contract"], "甲合同")
    with pytest.raises(InvalidInput):
        request_deletion(archive, people["arc"], item, "  ")
    with pytest.raises(PermissionDenied):
        request_deletion(archive, people["staff"], item, "登记错误")
    rid = request_deletion(archive, people["mgr"], item, "重复登记")
    with pytest.raises(Conflict):  # one at a time
        request_deletion(archive, people["arc"], item, "又一次")
    for wrong in (people["arc"], people["exec"], people["staff"], people["mgr"]):
        with pytest.raises(PermissionDenied):  # not the manager role, or their own request
            approve_deletion(archive, wrong, rid)
    due = approve_deletion(archive, people["mgr2"], rid)
    assert due == T0 + timedelta(days=30)
    with pytest.raises(Conflict):
        reject_deletion(archive, people["mgr2"], rid, "晚了")
    with archive.session() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("deletion.%")).order_by(AuditEntry.id)))
    assert actions == ["deletion.request", "deletion.approve"]


def test_a_rejected_request_leaves_the_item_as_it_was(archive, tmp_path, people, at) -> None:
    item = _item(archive, tmp_path, ["beta8 contract"], "乙合同")
    rid = request_deletion(archive, people["arc"], item, "登记错误")
    with pytest.raises(InvalidInput):
        reject_deletion(archive, people["mgr"], rid, "")
    reject_deletion(archive, people["mgr"], rid, "不应删除")
    at(40)
    assert finalise_due(archive)["final"] == 0
    assert _hits(archive, "beta8") == [item]


def test_held_29_days_hidden_except_for_the_archive_roles_and_undo_restores_it(
        archive, tmp_path, people, at) -> None:
    staff = people["staff"]
    item = _item(archive, tmp_path, ["gamma9 contract"], "丙合同", owner=staff)
    other = _item(archive, tmp_path, ["gamma9 other"], "丁合同", owner=staff)
    assert sorted(_hits(archive, "gamma9", staff)) == sorted([item, other])
    rid = request_deletion(archive, people["arc"], item, "客户撤回")
    approve_deletion(archive, people["mgr"], rid)

    at(29)
    assert finalise_due(archive)["final"] == 0
    assert _hits(archive, "gamma9", staff) == [other]  # search, totals
    assert run_search(archive, "gamma9", user=staff)["total"] == 1
    assert item not in _listed(archive, staff)  # listings and their counts
    assert item in _listed(archive, people["arc"])  # the archive's roles see it (marked)
    held = deletions(archive, people["arc"], ("approved",))
    assert [(h.item_id, h.due_at) for h in held] == [(item, T0 + timedelta(days=30))]
    with pytest.raises(PermissionDenied):
        deletions(archive, staff, ("approved",))
    with pytest.raises(PermissionDenied):
        undo_deletion(archive, people["arc"], rid)

    undo_deletion(archive, people["mgr2"], rid)
    assert sorted(_hits(archive, "gamma9", staff)) == sorted([item, other])
    assert item in _listed(archive, staff)
    assert check_index(archive)["missing"] == [] and check_index(archive)["stale"] == []
    at(31)
    assert finalise_due(archive)["final"] == 0
    with archive.session() as s:
        assert get_item(s, item).status == ItemStatus.READY


def test_after_30_days_the_item_is_a_tombstone_and_its_objects_are_gone(
        archive, tmp_path, people, at) -> None:
    item = _item(archive, tmp_path, ["delta1 contract", "delta1 page two"], "戊合同")
    keep = _item(archive, tmp_path, ["delta1 keeper"], "己合同")
    keys = _keys(archive, item)
    assert keys and all(archive.store.exists(k) for k in keys)
    with archive.session() as s:
        code = get_item(s, item).archival_code
    rid = request_deletion(archive, people["arc"], item, "登记错误")
    approve_deletion(archive, people["mgr"], rid)
    at(30)

    assert finalise_due(archive) == {"final": 1, "objects_removed": len(keys),
                                    "temporaries_removed": 0}
    with archive.session() as s:
        tomb = get_item(s, item)
        assert (tomb.status, tomb.archival_code, tomb.title) == (ItemStatus.DELETED, code, "戊合同")
        assert tomb.pages == [] and tomb.files == []
        assert [c.kind for c in history(s, item)][0] == "deleted"
        req = s.get_one(DeletionRequest, rid)
        assert req.state == "final" and req.manifest["pages"] == 2
        assert s.scalars(select(PendingPurge)).all() == []
        assert s.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == \
            "deletion.final"
    assert not any(archive.store.exists(k) for k in keys)
    assert _hits(archive, "delta1") == [keep]
    assert check_orphans(archive)["orphans"] == []
    assert check_fixity(archive)["bad"] == []
    assert check_index(archive) == {"checked": 1, "missing": [], "stale": [], "orphaned": []}
    assert finalise_due(archive) == {"final": 0, "objects_removed": 0,  # idempotent
                                    "temporaries_removed": 0}
    # no longer held: not a two-set finding, not in the records officer's queue
    assert not [f for f in two_set_report(archive, None).findings if f.subject == code]
    with archive.session() as s:
        assert item not in [r.item.id for r in check_queue(s, people["mgr"])]
    # the 档号 is never reused: the next item of the group takes a new number
    nxt = _item(archive, tmp_path, ["delta1 next"], "庚合同")
    with archive.session() as s:
        assert get_item(s, nxt).item_no > get_item(s, item).item_no


def test_originals_shared_after_a_split_survive_until_no_item_uses_them(
        archive, tmp_path, people, at) -> None:
    vol = _item(archive, tmp_path, ["epsilon first", "epsilon second", "epsilon third"], "卷")
    first, second = split_item(archive, people["arc"], vol, "1-1, 2-3", ["第二件"], "按合同拆分")
    with archive.session() as s:
        originals = {f.key for f in get_item(s, first).files if f.role == "original"}
    rid = request_deletion(archive, people["arc"], first, "登记错误")
    approve_deletion(archive, people["mgr"], rid)
    at(30)
    finalise_due(archive)
    assert all(archive.store.exists(k) for k in originals)  # the second item reads them
    assert _hits(archive, "epsilon") == [second]
    assert check_fixity(archive)["bad"] == [] and check_orphans(archive)["orphans"] == []
    with archive.session() as s:  # the file rows stay with the tombstone while used
        assert {f.key for f in s.scalars(select(StoredFile))} >= originals

    rid2 = request_deletion(archive, people["arc"], second, "同样登记错误")
    approve_deletion(archive, people["mgr"], rid2)
    at(60)
    finalise_due(archive)
    assert not any(archive.store.exists(k) for k in originals)
    from service.audit_anchor import PREFIX as AUDIT_ANCHORS

    # nothing of the items is left; the audit trail's anchors stay (they are no item's)
    assert [k.key for k in archive.store.list_keys()
            if not k.key.startswith(AUDIT_ANCHORS)] == []
    assert check_orphans(archive)["orphans"] == []


def test_an_interrupted_purge_is_finished_by_the_next_run(
        archive, tmp_path, people, at, monkeypatch) -> None:
    item = _item(archive, tmp_path, ["zeta2 contract"], "辛合同")
    keys = _keys(archive, item)
    rid = request_deletion(archive, people["arc"], item, "登记错误")
    approve_deletion(archive, people["mgr"], rid)
    at(30)
    store = archive.store
    real_delete = store.delete
    calls = []

    def crash(key: str) -> None:
        calls.append(key)
        if len(calls) == 2:
            raise OSError("killed")
        real_delete(key)

    monkeypatch.setattr(store, "delete", crash)
    with pytest.raises(OSError):
        finalise_due(archive)
    monkeypatch.setattr(store, "delete", real_delete)
    with archive.session() as s:
        assert get_item(s, item).status == ItemStatus.DELETED
        assert s.scalars(select(PendingPurge)).all() != []
    assert finalise_due(archive)["final"] == 0
    assert not any(archive.store.exists(k) for k in keys)
    assert check_orphans(archive)["orphans"] == []


def test_the_periodic_task_and_the_command_run_the_same_purge(archive, tmp_path, people, at) -> None:
    from click.testing import CliRunner

    from cli import cli

    due = archive.queue.huey.read_periodic(datetime(2026, 1, 1, 3, 7))  # hourly, at :07
    assert "dangan.purge" in {t.name for t in due}
    a = _item(archive, tmp_path, ["eta3 contract"], "壬合同")
    b = _item(archive, tmp_path, ["eta3 other"], "癸合同")
    for item in (a, b):
        approve_deletion(archive, people["mgr"],
                         request_deletion(archive, people["arc"], item, "登记错误"))
    at(30)
    done = archive.queue.purge.call_local()
    assert done["final"] == 2 and done["objects_removed"] > 0
    with archive.session() as s:
        assert {get_item(s, i).status for i in (a, b)} == {ItemStatus.DELETED}
    result = CliRunner().invoke(cli, ["purge", "--json"])
    assert result.exit_code == 0, result.output
    assert '"final": 0' in result.output
