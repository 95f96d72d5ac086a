"""The audit trail: who did what, when and from where, hash-chained and anchored outside the
database.

Appends are serialised: each (`_append`, under `record` and `record_event`) first locks the
one-row chain head (`audit_head`), so two writers can never chain to the same predecessor,
in threads, processes or on other hosts. A unique constraint on `prev_hash` makes a fork
impossible to commit even if a writer bypassed the head. `audit_problems` walks the chain
(``dangan check --audit``).

From where: each entry carries the origin in force where it was recorded
(service.audit_origin, a context variable): the web sets the client's address per request
(behind a proxy the one ``DANGAN_PROXY_HOPS`` trusts), the command line ``cli:user@host``
at start, the workers ``worker:host``. So no call of `record` passes it, and none can
forget it.

Anchoring: the database alone could rewrite its own chain (recompute every hash from an
altered entry on, or drop the newest entries and set `audit_head` to match). So once a
transaction that appended entries commits, the chain's position (entry count, newest id
and hash) is written to the object store (service.audit_anchor), which the database cannot
touch; `audit_problems` then checks that the chain still holds the anchored entry at the
anchored position. See audit_anchor for what a crash between the commit and the anchor
write can hide.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, event, func, insert, select, update
from sqlalchemy.orm import Session

from .audit_anchor import Anchor, advance_anchor, submit_anchor
from .audit_origin import current_origin
from .indexing import ARCHIVE_KEY
from .models import AuditEntry, AuditHead, User

if TYPE_CHECKING:
    from storage import ObjectStore

    from .archive import Archive

log = logging.getLogger("dangan.audit")

GENESIS = "0" * 64
HEAD_ID = 1
#: session.info key: the newest entry this transaction appended (anchored once it commits)
_TAIL = "dangan_audit_tail"
def _digest(prev: str, at: datetime, actor: str, action: str, target: str, detail: dict | None,
            origin: str | None = None) -> str:
    """The entry's hash. Entries recorded before origins were kept have none and hash as
    they always did; with an origin, it is part of what is hashed."""
    fields: list[Any] = [prev, at.isoformat(), actor, action, target, detail]
    if origin is not None:
        fields.append(origin)
    payload = json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


#: The append's statements, built once on the tables (Core, no ORM: every search appends an
#: entry, and the ORM's session, unit of work and events cost more than the whole append).
_HEAD = AuditHead.metadata.tables[AuditHead.__tablename__]
_ENTRY = AuditEntry.metadata.tables[AuditEntry.__tablename__]
_TAKE_HEAD = (update(_HEAD).where(_HEAD.c.id == HEAD_ID)
              .values(entries=_HEAD.c.entries + 1).returning(_HEAD.c.hash, _HEAD.c.entries))
_SET_HEAD_HASH = update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(hash=bindparam("new_hash"))
_INSERT_ENTRY = insert(_ENTRY).returning(_ENTRY.c.id)


def _lock_head(conn: Connection) -> tuple[str, int]:
    """Take the chain head for this transaction: the newest hash and the entry count with
    the new entry counted.

    An UPDATE is the first thing done: on PostgreSQL it locks the row until commit (a waiting
    writer then reads the head its predecessor left); on SQLite it takes the database's write
    lock before anything is read, so the head cannot move under us.
    """
    row = conn.execute(_TAKE_HEAD).one_or_none()
    if row is None:
        raise RuntimeError("审计链头缺失，请运行 dangan init 升级数据库。/ "
                           "The audit chain head is missing: run `dangan init` to migrate.")
    return row[0], int(row[1])


def _append(conn: Connection, actor: str, action: str, target: str,
            detail: dict | None) -> Anchor:
    """Append one entry in `conn`'s transaction (which holds the chain head until it ends)
    and return the chain's new position, to be anchored once the transaction commits. The
    one way entries are written: `record` and `record_event` both come here."""
    prev, count = _lock_head(conn)
    at = datetime.now(UTC).replace(microsecond=0)
    who, what, where = actor or "?", str(action), current_origin()
    digest = _digest(prev, at, who, what, target, detail, where)
    entry_id = conn.execute(_INSERT_ENTRY, {
        "at": at, "actor": who, "action": what, "target": target, "detail": detail,
        "origin": where, "prev_hash": prev, "hash": digest}).scalar_one()
    conn.execute(_SET_HEAD_HASH, {"new_hash": digest})
    return Anchor(entries=count, id=int(entry_id), hash=digest)


def record(session: Session, actor: str, action: str, target: str,
           detail: dict | None = None) -> Anchor:
    """Append an entry chained to the previous one inside the caller's transaction (which
    holds the chain head until it commits or rolls back); once it commits, the session's
    after_commit hook anchors it. `action` is an service.audit_actions.AuditAction; the
    origin is the one in force (service.audit_origin). Returns the chain's position at the
    new entry (its id, hash and the entry count); load the AuditEntry by id if needed.

    What the session holds pending is flushed first, as the ORM did when the entry was an
    ORM object: the caller's writes precede the entry, and the head is locked after them."""
    session.flush()
    tail = _append(session.connection(), actor, action, target, detail)
    session.info[_TAIL] = tail
    return tail


def actor_name(user: User | None) -> str:
    """Who an entry names: the user, or ``cli`` for the command line's operator (no user)."""
    return user.username if user is not None else "cli"


def record_event(archive: Archive, user: User | None, action: str, target: str,
                 detail: dict | None = None) -> None:
    """Record one entry in a transaction of its own (committed, then anchored): for what
    leaves the archive outside a catalogue transaction (a search, a report, a register).
    On a bare connection, no ORM session: every search comes here."""
    with archive.engine.begin() as conn:
        tail = _append(conn, actor_name(user), action, target, detail)
    _submit(archive.store, tail)


@event.listens_for(Session, "after_commit")
def _anchor_after_commit(session: Session) -> None:
    """Have the anchor moved forward to the newest entry this transaction committed."""
    tail = session.info.pop(_TAIL, None)
    archive = session.info.get(ARCHIVE_KEY)
    if tail is not None and archive is not None:
        _submit(archive.store, tail)


def _submit(store: ObjectStore, tail: Anchor) -> None:
    """Have the anchor moved forward to a committed position (by the process's anchor
    thread: the request does not wait for the store). A failure (the store down) loses
    nothing: the entries are committed and the next commit's anchor covers them; it is
    logged, never raised into work already done."""
    try:
        submit_anchor(store, tail)
    except Exception:  # noqa: BLE001 - committed work must not turn into an error
        log.warning("the audit chain's anchor could not be moved to entry %s (%s entries); "
                    "the next audited commit will", tail.id, tail.entries, exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_tail(session: Session) -> None:
    session.info.pop(_TAIL, None)


def chain_head(session: Session) -> Anchor | None:
    """The chain's newest entry as the database says (an empty chain is at 0 entries, the
    genesis hash), or None when the head row does not name the newest entry (the chain is
    damaged: nothing to anchor, `check --audit` says what is wrong)."""
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        return None
    last = session.execute(select(AuditEntry.id, AuditEntry.hash)
                           .order_by(AuditEntry.id.desc()).limit(1)).one_or_none()
    if last is None:
        return Anchor(entries=0, id=0, hash=GENESIS) if head.hash == GENESIS else None
    if last.hash != head.hash:
        return None
    return Anchor(entries=int(head.entries), id=int(last.id), hash=head.hash)


def anchor_chain(archive: Archive) -> Anchor | None:
    """Anchor the chain as it stands (`dangan init`, after an upgrade or a crash that lost an
    anchor write); returns the position anchored (None: the head and the chain disagree,
    nothing is anchored)."""
    with archive.session() as s:
        head = chain_head(s)
    if head is None:
        log.warning("the audit chain's head does not name its newest entry: not anchored; "
                    "run dangan check --audit")
        return None
    advance_anchor(archive.store, head)
    return head


def audit_problems(session: Session, anchor: Anchor | None = None, *,
                   anchored: bool = False) -> dict:
    """Walk the chain in order: entries whose hash does not match their content (altered),
    whose link does not match the entry before (a fork, or a removed entry), whether the
    head still names the last entry (a removed tail), and, given the anchor kept outside the
    database, whether the chain still holds the anchored entry at the anchored position
    (a chain rewritten from an entry on, entries inserted or removed before the anchored
    one, or the newest entries removed with the head rewritten to match). ``anchored``:
    compare with `anchor` (None: no anchor was found, itself a finding)."""
    bad: list[dict] = []
    prev = GENESIS
    checked = 0
    at_anchor: AuditEntry | None = None
    stmt = select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
    for e in session.scalars(stmt):
        checked += 1
        at = e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)
        problems = []
        if e.prev_hash != prev:
            problems.append("link")
        if e.hash != _digest(e.prev_hash, at, e.actor, e.action, e.target, e.detail, e.origin):
            problems.append("hash")
        if problems:
            bad.append({"id": e.id, "at": at.isoformat(), "actor": e.actor, "action": e.action,
                        "target": e.target, "origin": e.origin, "problems": problems})
        if anchored and anchor is not None and checked == anchor.entries:
            at_anchor = e
        prev = e.hash
        session.expunge(e)
    head = session.get(AuditHead, HEAD_ID)
    count = session.scalar(select(func.count()).select_from(AuditEntry))
    head_ok = head is not None and head.hash == prev and head.entries == count
    report: dict = {"checked": checked, "bad": bad, "head_ok": head_ok}
    if anchored:
        report.update(_anchor_report(session, anchor, checked, at_anchor))
    return report


def _anchor_report(session: Session, anchor: Anchor | None, checked: int,
                   at_anchor: AuditEntry | None) -> dict:
    """How the chain stands against its anchor: ``anchor_problem`` is None when the chain
    holds the anchored entry where the anchor says, else one of

    * ``missing`` no anchor although the chain has entries (the anchor was never written or
      was removed from the store),
    * ``short`` the chain has fewer entries than the anchor counted (entries removed),
    * ``moved`` another entry stands at the anchored position (entries inserted or
      removed before it),
    * ``changed`` the anchored entry is there but its hash is not the anchored one (the
      chain was rewritten from an earlier entry on).
    """
    if anchor is None:
        return {"anchor": None, "unanchored": checked,
                "anchor_problem": "missing" if checked else None}
    out: dict = {"anchor": {"entries": anchor.entries, "id": anchor.id, "hash": anchor.hash},
                 "unanchored": max(0, checked - anchor.entries), "anchor_problem": None}
    if anchor.entries == 0:
        return out
    if checked < anchor.entries:
        out["anchor_problem"] = "short"
    elif at_anchor is None or at_anchor.id != anchor.id:
        out["anchor_problem"] = "moved"
        out["at_anchor"] = at_anchor.id if at_anchor is not None else None
    elif at_anchor.hash != anchor.hash:
        out["anchor_problem"] = "changed"
    if out["anchor_problem"] and out["anchor_problem"] != "short":
        still = session.get(AuditEntry, anchor.id)
        out["anchored_entry_exists"] = still is not None
    return out
