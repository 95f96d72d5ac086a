"""The audit trail: every view, download, change and approval, hash-chained."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEntry

GENESIS = "0" * 64


def _digest(prev: str, at: datetime, actor: str, action: str, target: str, detail: dict | None) -> str:
    payload = json.dumps([prev, at.isoformat(), actor, action, target, detail],
                         ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def record(session: Session, actor: str, action: str, target: str,
           detail: dict | None = None) -> AuditEntry:
    """Append an entry chained to the previous one (inside the caller's transaction)."""
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    at = datetime.now(UTC).replace(microsecond=0)
    entry = AuditEntry(at=at, actor=actor or "?", action=action, target=target, detail=detail,
                       prev_hash=prev, hash=_digest(prev, at, actor or "?", action, target, detail))
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: Session) -> list[int]:
    """Ids of entries whose hash or link does not match (an altered or removed record)."""
    bad = []
    prev = GENESIS
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        at = e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)
        if e.prev_hash != prev or e.hash != _digest(prev, at, e.actor, e.action, e.target, e.detail):
            bad.append(e.id)
        prev = e.hash
    return bad
