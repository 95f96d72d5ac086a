"""The audit trail proves itself (issue 13, item 5): its position is anchored in the object
store after every appending commit, so `dangan check --audit` catches an altered, inserted
or removed entry and the newest entries removed, even when whoever did it rewrote the chain's
hashes and the `audit_head` row to match; each entry says from where it came."""

from __future__ import annotations

import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC

import pytest
import sqlalchemy as sa
from clihelp import dangan

from service import audit_anchor
from service.archive import Archive
from service.audit import GENESIS, _digest, record, record_event
from service.audit_actions import LEGACY_NAMES, AuditAction, current_name, stored_names
from service.audit_anchor import PREFIX, anchor_key, flush_anchors, latest_anchor
from service.audit_origin import origin
from service.checks import check_audit
from service.config import Settings
from service.models import AuditEntry, AuditHead
from storage import StorageUnavailable

ENTRIES = 30


@pytest.fixture
def env(archive_env: dict[str, str], db_url: str) -> dict[str, str]:
    env = {**archive_env, "DANGAN_DATABASE_URL": db_url}
    dangan(env, "init", "--admin-password", "initial-pass")
    return env


def _archive(env: dict[str, str]) -> Archive:
    return Archive(Settings.from_env(env))


def _append(env: dict[str, str], writer: int, n: int = ENTRIES) -> int:
    """One writer's views, each its own archive transaction (anchored when it commits)."""
    archive = _archive(env)
    with origin(f"198.51.100.{writer}"):
        for i in range(n):
            with archive.session() as s:
                s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
                record(s, f"user{writer}", AuditAction.ITEM_VIEW, f"item:{i}", {"page": 1})
    assert flush_anchors()  # a pool's worker process exits without running exit handlers
    return n


def _search(env: dict[str, str], writer: int, n: int = ENTRIES) -> int:
    """One client's searches: each entry its own transaction on a bare connection, as the
    web's search records it (`record_event`)."""
    archive = _archive(env)
    with origin(f"203.0.113.{writer}"):
        for i in range(n):
            record_event(archive, None, AuditAction.CATALOGUE_SEARCH, "search",
                         {"q": f"合同 {writer}-{i}", "hits": i, "none": None})
    assert flush_anchors()
    return n


def _check(env: dict[str, str], human: bool = False) -> tuple[int, dict, str]:
    """`dangan check --audit` as an operator runs it: its exit status, its JSON report and
    (when asked) its printed report."""
    assert flush_anchors()
    proc = dangan(env, "check", "--audit", "--json", check=False)
    text = ""
    if human:
        printed = dangan(env, "check", "--audit", check=False)
        assert printed.returncode == proc.returncode
        text = printed.stdout
    return proc.returncode, json.loads(proc.stdout)["audit"], text


def _ids(archive: Archive) -> list[int]:
    with archive.session() as s:
        return list(s.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)))


def _rewrite_from(s: sa.orm.Session, first_id: int) -> None:
    """What someone with write access to the database alone can do: recompute every hash
    and link from `first_id` on and set the chain head to match, so the chain verifies."""
    prev = s.scalar(sa.select(AuditEntry.hash).where(AuditEntry.id < first_id)
                    .order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    count = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    s.execute(sa.update(AuditEntry).where(AuditEntry.id >= first_id)
              .values(prev_hash=sa.literal("x") + sa.cast(AuditEntry.id, sa.String)))  # free the unique links
    for e in s.scalars(sa.select(AuditEntry).where(AuditEntry.id >= first_id)
                       .order_by(AuditEntry.id)).all():
        at = e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)
        e.prev_hash = prev
        e.hash = _digest(prev, at, e.actor, e.action, e.target, e.detail, e.origin)
        s.flush()
        prev = e.hash
    s.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(hash=prev, entries=count))


def test_a_clean_chain_matches_its_anchor(env: dict[str, str]) -> None:
    _append(env, 1)
    code, report, human = _check(env, human=True)
    assert code == 0, human
    assert report["bad"] == [] and report["head_ok"] and report["anchor_problem"] is None
    assert report["anchor"]["entries"] == report["checked"] and report["unanchored"] == 0
    assert "审计锚点 / anchor:" in human and "✗" not in human


def test_an_altered_entry_is_detected(env: dict[str, str]) -> None:
    archive = _archive(env)
    _append(env, 1)
    ids = _ids(archive)
    with archive.session() as s:
        s.execute(sa.update(AuditEntry).where(AuditEntry.id == ids[5]).values(actor="mallory"))
    code, report, human = _check(env, human=True)
    assert code == 1
    assert [(b["id"], b["problems"]) for b in report["bad"]] == [(ids[5], ["hash"])]
    assert f"#{ids[5]}" in human and "content altered" in human
    # ... and when the whole chain after it is recomputed to verify, the anchor still shows it
    with archive.session() as s:
        _rewrite_from(s, ids[5])
    code, report, human = _check(env, human=True)
    assert code == 1 and report["bad"] == [] and report["head_ok"]
    assert report["anchor_problem"] == "changed"
    assert "the chain was rewritten" in human


def test_an_inserted_entry_is_detected(env: dict[str, str]) -> None:
    archive = _archive(env)
    _append(env, 1)
    ids = _ids(archive)
    with archive.session() as s:  # make room after ids[9] and slip a forged entry in
        s.execute(sa.update(AuditEntry).where(AuditEntry.id > ids[9])
                  .values(id=AuditEntry.id + 100_000))
        forged = AuditEntry(id=ids[9] + 1, at=s.get(AuditEntry, ids[9]).at, actor="alice",
                            action=AuditAction.ITEM_VIEW, target="item:999", detail=None,
                            origin="10.0.0.1", prev_hash="forged", hash="forged")
        s.add(forged)
    code, report, _ = _check(env)
    assert code == 1 and {b["id"] for b in report["bad"]} >= {ids[9] + 1}
    with archive.session() as s:  # the careful forger recomputes the rest of the chain
        _rewrite_from(s, ids[9] + 1)
    code, report, human = _check(env, human=True)
    assert code == 1 and report["bad"] == [] and report["head_ok"]
    assert report["anchor_problem"] == "moved" and not report["anchored_entry_exists"]
    assert "entries inserted or removed before it" in human


def test_a_removed_entry_is_detected(env: dict[str, str]) -> None:
    archive = _archive(env)
    _append(env, 1)
    ids = _ids(archive)
    with archive.session() as s:
        s.execute(sa.delete(AuditEntry).where(AuditEntry.id == ids[12]))
    code, report, human = _check(env, human=True)
    assert code == 1 and [(b["id"], b["problems"]) for b in report["bad"]] == [(ids[13], ["link"])]
    assert "broken link" in human
    with archive.session() as s:
        _rewrite_from(s, ids[13])
    code, report, human = _check(env, human=True)
    assert code == 1 and report["bad"] == [] and report["head_ok"]
    assert report["anchor_problem"] == "short"


def test_removing_the_newest_entries_with_the_head_rewritten_is_detected(
        env: dict[str, str]) -> None:
    archive = _archive(env)
    _append(env, 1)
    ids = _ids(archive)
    with archive.session() as s:
        s.execute(sa.delete(AuditEntry).where(AuditEntry.id > ids[-6]))
        last = s.get(AuditEntry, ids[-6])
        count = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        s.execute(sa.update(AuditHead).where(AuditHead.id == 1)
                  .values(hash=last.hash, entries=count))
    code, report, human = _check(env, human=True)
    assert code == 1
    assert report["bad"] == [] and report["head_ok"]  # the database alone looks fine
    assert report["anchor_problem"] == "short"
    assert report["anchor"]["entries"] == report["checked"] + 5
    assert "the newest entries were removed" in human


def test_a_removed_anchor_is_a_finding(env: dict[str, str]) -> None:
    archive = _archive(env)
    _append(env, 1, 3)
    for k in list(archive.store.list_keys(PREFIX)):
        archive.store.delete(k.key)
    code, report, human = _check(env, human=True)
    assert code == 1 and report["anchor_problem"] == "missing" and "no anchor" in human


def test_concurrent_writers_give_one_chain_and_the_anchor_matches(env: dict[str, str]) -> None:
    """Processes and threads on one catalogue (PostgreSQL: several hosts' worth of writers)
    append one chain, and the anchor the last commit wrote names its newest entry."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(3, mp_context=ctx) as pool:
        assert sum(pool.map(_append, [env] * 3, range(3), [20] * 3)) == 60
    with ThreadPoolExecutor(4) as pool:
        assert sum(pool.map(_append, [env] * 4, range(3, 7), [10] * 4)) == 40
    archive = _archive(env)
    report = check_audit(archive)
    assert report["problems"] == 0 and report["bad"] == [] and report["head_ok"]
    with archive.session() as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        newest = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert len(set(s.scalars(sa.select(AuditEntry.prev_hash)))) == total
    assert report["checked"] == total and total >= 100
    anchor = latest_anchor(archive.store)
    assert anchor is not None and (anchor.entries, anchor.id, anchor.hash) == \
        (total, newest.id, newest.hash)


def test_searches_and_catalogue_writes_append_one_anchored_chain(env: dict[str, str]) -> None:
    """Entries recorded on their own (`record_event`, each search) and inside catalogue
    transactions (`record`), written at once by threads, make one chain that verifies and is
    anchored at its newest entry; each keeps its origin, actor and detail as given."""
    with ThreadPoolExecutor(4) as pool:
        runs = [pool.submit(_search, env, 1, 20), pool.submit(_append, env, 2, 20),
                pool.submit(_search, env, 3, 20), pool.submit(_append, env, 4, 20)]
        assert sum(r.result() for r in runs) == 80
    code, report, _ = _check(env)
    assert code == 0 and report["bad"] == [] and report["head_ok"]
    assert report["anchor_problem"] is None and report["unanchored"] == 0
    archive = _archive(env)
    with archive.session() as s:
        searches = s.execute(sa.select(AuditEntry.origin, AuditEntry.actor, AuditEntry.detail)
                             .where(AuditEntry.action == AuditAction.CATALOGUE_SEARCH)
                             .order_by(AuditEntry.id)).all()
        views = s.scalars(sa.select(AuditEntry.origin)
                          .where(AuditEntry.action == AuditAction.ITEM_VIEW)).all()
    assert sorted(views) == ["198.51.100.2"] * 20 + ["198.51.100.4"] * 20
    for writer in (1, 3):
        mine = [(a, d) for o, a, d in searches if o == f"203.0.113.{writer}"]
        assert mine == [("cli", {"q": f"合同 {writer}-{i}", "hits": i, "none": None})
                        for i in range(20)]


def test_a_search_entry_is_written_without_an_orm_session(archive: Archive) -> None:
    """Every search records an entry: on a bare connection, as an ORM session there cost more
    CPU than the rest of the append (its unit of work, events and commit)."""
    begun: list[object] = []

    def on_begin(session: object, *_args: object) -> None:
        begun.append(session)

    sa.event.listen(sa.orm.Session, "after_begin", on_begin)
    try:
        record_event(archive, None, AuditAction.CATALOGUE_SEARCH, "search", {"q": "x"})
    finally:
        sa.event.remove(sa.orm.Session, "after_begin", on_begin)
    assert begun == []
    with archive.session() as s:
        newest = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (newest.action, newest.detail) == (AuditAction.CATALOGUE_SEARCH, {"q": "x"})
    report = check_audit(archive)
    assert report["problems"] == 0 and report["unanchored"] == 0


def test_one_anchor_write_per_commit_not_per_entry(archive: Archive) -> None:
    before = {k.key for k in archive.store.list_keys(PREFIX)}
    with archive.session() as s:
        for n in range(5):
            record(s, "arc", AuditAction.ITEM_VIEW, f"item:{n}")
    with archive.session() as s:
        count = s.get_one(AuditHead, 1).entries
    assert flush_anchors()
    written = {k.key for k in archive.store.list_keys(PREFIX)} - before
    assert written == {anchor_key(count)}
    with archive.session() as s:  # a transaction that records nothing writes no anchor
        s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    assert flush_anchors()
    assert {k.key for k in archive.store.list_keys(PREFIX)} - before == written


def test_a_failed_anchor_write_loses_nothing_and_the_next_commit_anchors(
        archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash or an unreachable store between commit and anchor: the work stays committed,
    the entries are reported as not yet anchored, and the next audited commit covers them."""
    store = archive.store
    real = store.put_if_absent

    def down(*_a: object, **_k: object) -> bool:
        raise StorageUnavailable("store down")

    monkeypatch.setattr(store, "put_if_absent", down)
    with archive.session() as s:
        record(s, "arc", AuditAction.ITEM_VIEW, "item:1")
    report = check_audit(archive)
    assert report["problems"] == 0 and report["unanchored"] == 1
    monkeypatch.setattr(store, "put_if_absent", real)
    with archive.session() as s:
        record(s, "arc", AuditAction.ITEM_VIEW, "item:2")
    report = check_audit(archive)
    assert report["problems"] == 0 and report["unanchored"] == 0


def test_entries_say_from_where_and_the_origin_is_hashed(archive: Archive) -> None:
    with archive.session() as s, origin("cli:ops@archive-host"):
        e = s.get_one(AuditEntry, record(s, "cli", AuditAction.ITEM_VIEW, "item:7").id)
    assert e.origin == "cli:ops@archive-host"
    assert check_audit(archive)["problems"] == 0
    with archive.session() as s:  # an origin changed afterwards no longer verifies
        s.execute(sa.update(AuditEntry).where(AuditEntry.id == e.id).values(origin="10.9.9.9"))
    assert [b["id"] for b in check_audit(archive)["bad"]] == [e.id]


def test_entries_from_before_origins_keep_verifying(archive: Archive) -> None:
    """An entry written before the origin column (origin empty) hashes as it always did."""
    from datetime import UTC, datetime

    at = datetime(2026, 1, 1, tzinfo=UTC)
    with archive.session() as s:
        head = s.get_one(AuditHead, 1)
        h = _digest(head.hash, at, "x", "view", "item:1", None)
        s.add(AuditEntry(at=at, actor="x", action="view", target="item:1", detail=None,
                         prev_hash=head.hash, hash=h))
        head.hash, head.entries = h, head.entries + 1
    with archive.session() as s:
        record(s, "y", AuditAction.ITEM_VIEW, "item:2")
    report = check_audit(archive)
    assert report["bad"] == [] and report["head_ok"] and report["problems"] == 0


def test_the_command_line_records_its_user_and_host(archive_env: dict[str, str]) -> None:
    dangan(archive_env, "init", "--admin-password", "initial-pass")
    dangan(archive_env, "search", "合同", "--json")
    archive = Archive()
    with archive.session() as s:
        e = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == AuditAction.CATALOGUE_SEARCH)).one()
    assert e.actor == "cli" and e.origin is not None and e.origin.startswith("cli:")
    assert "@" in e.origin and e.detail["q"] == "合同"


def test_the_vocabulary_maps_legacy_names() -> None:
    assert stored_names(AuditAction.ITEM_VIEW) == ("item.view", "view")
    assert current_name("download") == "file.download" and current_name("x.y") == "x.y"
    assert all(isinstance(v, AuditAction) for v in LEGACY_NAMES.values())
    assert all(a == a.lower() and "." in a for a in AuditAction)


def test_the_anchor_in_s3_catches_a_truncated_chain(archive_env: dict[str, str],
                                                    moto_endpoint: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The production store: the anchors are S3 objects created with If-None-Match, pruned
    to the newest few, and the truncation shows against them; `check --orphans` leaves them."""
    import uuid

    from service import audit_anchor
    from service.checks import check_orphans
    from service.setup import init_archive

    monkeypatch.setenv("DANGAN_STORAGE_URL", f"s3://k:s@{moto_endpoint}/"
                                             f"audit-{uuid.uuid4().hex[:8]}?secure=false")
    monkeypatch.setattr(audit_anchor, "PRUNE_EVERY", 8)
    monkeypatch.setattr(audit_anchor, "KEEP", 3)
    archive = Archive()
    init_archive(archive, admin_password="admin-password")
    for n in range(20):
        with archive.session() as s:
            record(s, "arc", AuditAction.ITEM_VIEW, f"item:{n}")
        assert flush_anchors()
    assert len(list(archive.store.list_keys(PREFIX))) <= 3 + 8
    assert check_audit(archive)["problems"] == 0
    assert check_orphans(archive)["orphans"] == []
    with archive.session() as s:
        newest = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(3)).all()
        s.execute(sa.delete(AuditEntry).where(AuditEntry.id >= newest[1].id))
        s.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(
            hash=newest[2].hash, entries=AuditHead.entries - 2))
    report = check_audit(archive)
    assert report["bad"] == [] and report["head_ok"] and report["anchor_problem"] == "short"


def test_the_commits_of_a_moment_share_one_anchor_write(archive: Archive) -> None:
    """Searches one after the other (each its own commit) are anchored by one object, not
    one each: a local anchor write costs more CPU than the search it follows."""
    assert flush_anchors()
    before = {k.key for k in archive.store.list_keys(PREFIX)}
    for n in range(20):
        record_event(archive, None, AuditAction.CATALOGUE_SEARCH, "search", {"q": f"合同 {n}"})
    assert flush_anchors()
    written = {k.key for k in archive.store.list_keys(PREFIX)} - before
    with archive.session() as s:
        count = s.get_one(AuditHead, 1).entries
    assert anchor_key(count) in written
    assert len(written) <= 3, f"{len(written)} anchor objects for 20 searches"
    assert check_audit(archive)["unanchored"] == 0


def test_a_flush_does_not_wait_out_the_gathering(archive: Archive,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_anchor, "GATHER_S", 30.0)
    record_event(archive, None, AuditAction.CATALOGUE_SEARCH, "search", {"q": "合同"})
    t0 = time.monotonic()
    assert flush_anchors(timeout=20)
    assert time.monotonic() - t0 < 10
    assert check_audit(archive)["unanchored"] == 0
