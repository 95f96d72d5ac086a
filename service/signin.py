"""Signing in: password check with throttling, kept in the catalogue database.

Failed sign-ins are counted per user name and per client address in `sign_in_failures`, so
every process and web replica sees the same counts (no Redis needed; Flask-Limiter's
fixed windows cannot express "lock out after repeated failures, forgive on success").

- The first `FREE_PER_USER` failures for a user name (`FREE_PER_CLIENT` for an address) cost
  nothing; each further failure locks that name (address) for twice as long as the last,
  from `BASE_DELAY` up to `MAX_DELAY`. While locked, no password is checked at all.
- A successful sign-in forgets the user name's failures (not the address's: an attacker
  with one account must not reset the counter of the address guessing at others).
- Counts older than `FORGET_AFTER` without a new failure start again from zero.
- User names are counted whether or not they exist, and unknown names cost a password
  hash check too, so neither timing nor lockout tells which accounts exist.

Every attempt is written to the audit trail. When that write fails (a full disk, a database
that refuses writes), signing in still works: the failure and the attempt (who, from where,
success or not) go to the error log instead, so administrators can still sign in to see what
is wrong. Reading archive content stays audited: a view or download whose audit entry cannot
be written fails, so nothing is read unrecorded.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .audit import record
from .audit_actions import AuditAction
from .errors import N_, TooManyAttempts, msg
from .models import SignInFailures, User
from .users import authenticate, end_sessions

FREE_PER_USER = 5
FREE_PER_CLIENT = 20
BASE_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)

log = logging.getLogger("dangan.signin")


def _user_key(username: str) -> str:
    """Hashed: people type passwords into the name field; the table must not keep them."""
    return "user:" + hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:40]


def _client_key(client: str | None) -> str:
    return "addr:" + (client or "?")[:60]


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def locked_for(session: Session, username: str, client: str | None,
               now: datetime | None = None) -> int:
    """Seconds until this user name and address may try again (0: now)."""
    now = now or datetime.now(UTC)
    until = session.scalars(select(SignInFailures.locked_until).where(
        SignInFailures.key.in_([_user_key(username), _client_key(client)]),
        SignInFailures.locked_until > now)).all()
    if not until:
        return 0
    latest = max(_aware(u) for u in until if u is not None)  # the query excluded NULL
    return max(1, int((latest - now).total_seconds() + 0.999))


def _note_failure(session: Session, key: str, free: int, now: datetime) -> None:
    t = SignInFailures
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(t).values(key=key, failures=1, last_failure_at=now).on_conflict_do_update(
        index_elements=[t.key], set_={
            "failures": case((t.last_failure_at < now - FORGET_AFTER, 1), else_=t.failures + 1),
            "last_failure_at": now,
        }).returning(t.failures)
    failures = session.execute(stmt).scalar_one()
    if failures > free:
        delay = min(MAX_DELAY, BASE_DELAY * 2 ** min(failures - free - 1, 20))
        session.execute(update(t).where(t.key == key).values(locked_until=now + delay))


def _too_many(seconds: int) -> TooManyAttempts:
    wait = (msg(N_("%(n)s 秒"), n=seconds) if seconds < 120
            else msg(N_("%(n)s 分钟"), n=(seconds + 59) // 60))
    return TooManyAttempts(N_("登录失败次数过多，请 %(wait)s后再试。"), retry_after=seconds, wait=wait)


def sign_in(session: Session, username: str, password: str, client: str | None) -> User | None:
    """The user when the password is right, None when it is not; TooManyAttempts while the
    name or address is locked. Commits its own records (failure counts, audit entry)."""
    return _attempt(session, username, password, client, AuditAction.AUTH_LOGIN,
                    AuditAction.AUTH_LOGIN_FAILED)


def confirm_password(session: Session, user: User, password: str, client: str | None) -> bool:
    """Whether ``password`` is the signed-in user's own, counted and locked like a sign-in: a
    borrowed session must not become an unthrottled way to guess the password (and then
    change it). TooManyAttempts while the name or address is locked; commits its records."""
    return _attempt(session, user.username, password, client, AuditAction.AUTH_PASSWORD_CONFIRM,
                    AuditAction.AUTH_PASSWORD_CONFIRM_FAILED) is not None


def _attempt(session: Session, username: str, password: str, client: str | None,
             action: AuditAction, failed: AuditAction) -> User | None:
    now = datetime.now(UTC)
    wait = locked_for(session, username, client, now)
    if wait:
        raise _too_many(wait)
    user = authenticate(session, username, password)
    actor = (user.username if user is not None else username)[:64] or "?"
    try:
        if user is None:
            _note_failure(session, _user_key(username), FREE_PER_USER, now)
            _note_failure(session, _client_key(client), FREE_PER_CLIENT, now)
            session.execute(delete(SignInFailures).where(
                SignInFailures.last_failure_at < now - FORGET_AFTER,
                or_(SignInFailures.locked_until.is_(None), SignInFailures.locked_until < now)))
        else:
            session.execute(delete(SignInFailures).where(SignInFailures.key == _user_key(username)))
        record(session, actor, action if user is not None else failed, "auth",
               {"client": client})
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.error("%s %s for %r from %s at %s could not be recorded (audit trail and "
                  "failure count not written)", action, "succeeded" if user is not None
                  else "failed", actor, client, now.isoformat(), exc_info=True)
    return user


def sign_out(session: Session, user: User) -> None:
    """End every session of the user (see `users.end_sessions`) and audit it; commits. If the
    database cannot write, the sign-out still happens in the browser and the failure is
    logged."""
    try:
        end_sessions(user)
        record(session, user.username, AuditAction.AUTH_LOGOUT, "auth", None)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.error("sign-out of %r could not be recorded: its other sessions stay valid until "
                  "the next password change or sign-out", user.username, exc_info=True)
