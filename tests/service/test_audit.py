"""The audit chain stays one chain under concurrent writers, and `dangan check --audit`
finds altered, forked and removed entries (issue 8, finding 14)."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from clihelp import dangan
from sqlalchemy.exc import IntegrityError

from service.audit import GENESIS, audit_problems, record
from service.db import get_engine, session_scope
from service.migrate import upgrade
from service.models import AuditEntry, User

WRITERS, EACH = 8, 25


@pytest.fixture
def engine(db_url: str) -> sa.Engine:
    eng = get_engine(db_url)
    upgrade(eng)
    return eng


def _views(url: str, writer: int) -> int:
    """One writer's views, each its own transaction that reads first, as a web request does."""
    engine = get_engine(url)
    for n in range(EACH):
        with session_scope(engine) as s:
            s.scalar(sa.select(sa.func.count()).select_from(User))
            record(s, f"user{writer}", "view", f"item:{n}", {"page": n % 3 + 1})
    return EACH


def _assert_one_chain(engine: sa.Engine, expected: int) -> None:
    with session_scope(engine) as s:
        report = audit_problems(s)
        prevs = s.scalars(sa.select(AuditEntry.prev_hash)).all()
    assert report == {"checked": expected, "bad": [], "head_ok": True}
    assert len(set(prevs)) == expected and GENESIS in prevs


def test_concurrent_threads_append_one_chain(engine: sa.Engine, db_url: str) -> None:
    with ThreadPoolExecutor(WRITERS) as pool:
        assert sum(pool.map(_views, [db_url] * WRITERS, range(WRITERS))) == WRITERS * EACH
    _assert_one_chain(engine, WRITERS * EACH)


def test_concurrent_processes_append_one_chain(engine: sa.Engine, db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=ctx) as pool:
        assert sum(pool.map(_views, [db_url] * 4, range(4))) == 4 * EACH
    _assert_one_chain(engine, 4 * EACH)


def test_a_fork_cannot_be_committed(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        first = s.get_one(AuditEntry, record(s, "a", "view", "item:1").id)
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(AuditEntry(at=first.at, actor="b", action="view", target="item:2",
                         prev_hash=GENESIS, hash="f" * 64))


def test_check_audit_lists_altered_and_removed_entries(archive_env: dict[str, str],
                                                       db_url: str) -> None:
    env = {**archive_env, "DANGAN_DATABASE_URL": db_url}
    dangan(env, "init", "--admin-password", "initial-pass")
    engine = get_engine(db_url)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(_views, [db_url] * 4, range(4)))
    ok = json.loads(dangan(env, "check", "--audit", "--json").stdout)["audit"]
    assert ok["bad"] == [] and ok["head_ok"] and ok["checked"] >= 4 * EACH
    with session_scope(engine) as s:
        ids = s.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)).all()
        actor = s.get(AuditEntry, ids[10]).actor
        s.execute(sa.update(AuditEntry).where(AuditEntry.id == ids[10]).values(actor="mallory"))
        s.execute(sa.delete(AuditEntry).where(AuditEntry.id == ids[20]))
    proc = dangan(env, "check", "--audit", "--json", check=False)
    assert proc.returncode == 1
    bad = json.loads(proc.stdout)["audit"]["bad"]
    assert [(b["id"], b["problems"]) for b in bad] == [(ids[10], ["hash"]), (ids[21], ["link"])]
    human = dangan(env, "check", "--audit", check=False)
    assert human.returncode == 1 and f"#{ids[10]}" in human.stdout and "content altered" in human.stdout
    with session_scope(engine) as s:  # a removed tail shows at the head
        s.execute(sa.update(AuditEntry).where(AuditEntry.id == ids[10]).values(actor=actor))
        s.execute(sa.delete(AuditEntry).where(AuditEntry.id >= ids[20]))
    tail = json.loads(dangan(env, "check", "--audit", "--json", check=False).stdout)["audit"]
    assert tail["bad"] == [] and tail["head_ok"] is False


def test_upgrade_keeps_a_forked_legacy_chain_and_reports_it(db_url: str) -> None:
    """A chain forked before the fix is kept as evidence (never rewritten) and listed; new
    entries chain on from the last one and cannot fork."""
    from datetime import UTC, datetime

    from alembic import command

    from service.audit import _digest
    from service.migrate import alembic_config

    engine = get_engine(db_url)
    cfg = alembic_config(db_url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    a = _digest(GENESIS, at, "x", "view", "item:1", None)
    b = _digest(a, at, "y", "view", "item:2", None)
    c = _digest(a, at, "z", "view", "item:3", None)  # forked: same predecessor as b
    with engine.begin() as conn:
        for h, prev, actor, target in ((a, GENESIS, "x", "item:1"), (b, a, "y", "item:2"),
                                       (c, a, "z", "item:3")):
            conn.execute(sa.insert(AuditEntry).values(at=at, actor=actor, action="view",
                                                      target=target, prev_hash=prev, hash=h))
    upgrade(engine)
    with session_scope(engine) as s:
        record(s, "w", "view", "item:4")
    with session_scope(engine) as s:
        report = audit_problems(s)
    assert [(x["id"], x["problems"]) for x in report["bad"]] == [(3, ["link"])]
    assert report["head_ok"] and report["checked"] == 4
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(AuditEntry(at=at, actor="v", action="view", target="item:5", prev_hash=c,
                         hash="e" * 64))
