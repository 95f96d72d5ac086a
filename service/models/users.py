"""Accounts and the audit trail."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..vocab import Role
from .base import Base, utcnow


def new_nonce() -> str:
    return secrets.token_hex(16)


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20), default=Role.STAFF)
    department: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The right to read personal data (ID and mobile numbers) unmasked: None follows the
    #: role (service.access.can_see_personal), True or False is the administrator's choice.
    privacy_right: Mapped[bool | None] = mapped_column(Boolean, default=None)
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: Part of every session cookie; a new value (sign-out, password change) ends every
    #: session signed in before, copied cookies included.
    session_nonce: Mapped[str | None] = mapped_column(String(32), default=new_nonce)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignInFailures(Base):
    """Failed sign-ins per user name and per client address, kept in the catalogue so every
    process and web replica throttles alike (see service/signin.py)."""

    __tablename__ = "sign_in_failures"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(index=True)
    locked_until: Mapped[datetime | None] = mapped_column()


class AuditEntry(Base):
    """Who did what, when and from where; each entry hashes the previous one so an edit
    shows (service/audit.py). Actions are named in service/audit_actions.py."""

    __tablename__ = "audit_entry"
    #: Two entries chained to the same predecessor (a fork) can never be committed.
    __table_args__ = (Index("uq_audit_entry_prev_hash", "prev_hash", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict | None] = mapped_column(JSON)
    #: From where: the client's address (web, API), ``cli:user@host``, ``worker:host``; empty
    #: in entries written before it was recorded (their hash does not cover it).
    origin: Mapped[str | None] = mapped_column(String(200))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(Text)


class AuditHead(Base):
    """The end of the audit chain, one row: whoever appends locks it first, so appends are
    serialised across threads, processes and hosts; it also shows a removed tail."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(BigInteger, default=0)
