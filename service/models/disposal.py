"""Deletion (删除, held 30 days before it is final) and destruction (销毁, at the end of
retention) of archive items, and the destruction register that is never purged."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class DeletionRequest(Base):
    """A request to delete an item: asked with a reason, approved or rejected by the archive
    manager, held until `due_at`, then undone or made final.

    ``state``: requested → approved (held) → final | undone; or requested → rejected.
    ``manifest`` records what the item held (files, pages, box) when it was tombstoned.
    """

    __tablename__ = "deletion_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default="requested")
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(64))
    undone_at: Mapped[datetime | None]
    final_at: Mapped[datetime | None]
    manifest: Mapped[dict | None] = mapped_column(JSON)


class DestructionCase(Base):
    """One item's way to destruction (or to a longer keep): appraisal by an archivist, approval
    (the executive for 秘密 and above, the archive manager for others), six months held apart,
    then destruction confirmed under a named supervisor.

    ``state``: kept (appraised keep: retention extended to `keep_until`) | appraised →
    approved (held until `due_at`) → destroyed; or appraised → rejected.
    """

    __tablename__ = "destruction_case"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    state: Mapped[str] = mapped_column(String(12))
    decision: Mapped[str] = mapped_column(String(8))  # keep | destroy
    reason: Mapped[str] = mapped_column(Text)
    extend_years: Mapped[int | None] = mapped_column(Integer)
    keep_until: Mapped[date | None]
    appraised_by: Mapped[str] = mapped_column(String(64))
    appraised_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    supervisor: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None]
    manifest: Mapped[dict | None] = mapped_column(JSON)


class PendingPurge(Base):
    """Object keys a tombstoned item left (or the derived objects of pages a rescan or a
    repair reset or dropped), to remove once nothing in the catalogue uses them.

    Written in the transaction that tombstones the item (or resets the pages) and deleted only after its objects
    are gone, so a purge interrupted between the two is finished by the next run."""

    __tablename__ = "pending_purge"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    keys: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DestructionRecord(Base):
    """A line of the destruction register (销毁清册): written when a destruction is
    confirmed, copied from the item (not referring to it for its facts) and never purged."""

    __tablename__ = "destruction_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The register's running number (1, 2, …).
    number: Mapped[int] = mapped_column(Integer, unique=True)
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    archival_code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    retention: Mapped[str] = mapped_column(String(3))
    secrecy: Mapped[str] = mapped_column(String(4))
    pages: Mapped[int | None] = mapped_column(Integer)
    box: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    appraised_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str] = mapped_column(String(64))
    supervisor: Mapped[str] = mapped_column(String(64))
    confirmed_by: Mapped[str] = mapped_column(String(64))
    destroyed_at: Mapped[datetime]
