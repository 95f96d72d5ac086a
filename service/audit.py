"""The audit trail: every view, download, change and approval, hash-chained.

Appends are serialised: `record` first locks the one-row chain head (`audit_head`), so two
writers can never chain to the same predecessor, in threads, processes or on other hosts.
A unique constraint on `prev_hash` makes a fork impossible to commit even if a writer
bypassed the head. `audit_problems` walks the chain (``dangan check --audit``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .models import AuditEntry, AuditHead

GENESIS = "0" * 64
HEAD_ID = 1


def _digest(prev: str, at: datetime, actor: str, action: str, target: str, detail: dict | None) -> str:
    payload = json.dumps([prev, at.isoformat(), actor, action, target, detail],
                         ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _lock_head(session: Session) -> str:
    """Take the chain head for this transaction and return its hash.

    An UPDATE is the first thing done: on PostgreSQL it locks the row until commit (a waiting
    writer then reads the head its predecessor left); on SQLite it takes the database's write
    lock before anything is read, so the head cannot move under us.
    """
    stmt = (update(AuditHead).where(AuditHead.id == HEAD_ID)
            .values(entries=AuditHead.entries + 1).returning(AuditHead.hash)
            .execution_options(synchronize_session=False))
    prev = session.execute(stmt).scalar_one_or_none()
    if prev is None:
        raise RuntimeError("审计链头缺失，请运行 dangan init 升级数据库。/ "
                           "The audit chain head is missing: run `dangan init` to migrate.")
    return prev


def record(session: Session, actor: str, action: str, target: str,
           detail: dict | None = None) -> AuditEntry:
    """Append an entry chained to the previous one (inside the caller's transaction, which
    holds the chain head until it commits or rolls back)."""
    prev = _lock_head(session)
    at = datetime.now(UTC).replace(microsecond=0)
    entry = AuditEntry(at=at, actor=actor or "?", action=action, target=target, detail=detail,
                       prev_hash=prev, hash=_digest(prev, at, actor or "?", action, target, detail))
    session.add(entry)
    session.flush()
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(hash=entry.hash)
                    .execution_options(synchronize_session=False))
    return entry


def audit_problems(session: Session) -> dict:
    """Walk the chain in order: entries whose hash does not match their content (altered),
    whose link does not match the entry before (a fork, or a removed entry), and whether the
    head still names the last entry (a removed tail)."""
    bad: list[dict] = []
    prev = GENESIS
    checked = 0
    stmt = select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
    for e in session.scalars(stmt):
        checked += 1
        at = e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)
        problems = []
        if e.prev_hash != prev:
            problems.append("link")
        if e.hash != _digest(e.prev_hash, at, e.actor, e.action, e.target, e.detail):
            problems.append("hash")
        if problems:
            bad.append({"id": e.id, "at": at.isoformat(), "actor": e.actor, "action": e.action,
                        "target": e.target, "problems": problems})
        prev = e.hash
    head = session.get(AuditHead, HEAD_ID)
    count = session.scalar(select(func.count()).select_from(AuditEntry))
    head_ok = head is not None and head.hash == prev and head.entries == count
    return {"checked": checked, "bad": bad, "head_ok": head_ok}
