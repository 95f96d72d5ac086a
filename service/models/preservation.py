"""Keeping records trustworthy (四性检测, after DA/T 70-2018): each item's four-property check
results, and what the latest backup held, so the security check can tell whether an item is
in it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class FourPropertyCheck(Base):
    """One run of the four-property check on one item. The newest row of an item is its
    state; older rows are its history. `scope` is 'ingest' (at finalisation: cheap render,
    no backup check) or 'full' (on demand). `findings` is a list of {"code", "property",
    "facts"}: the message is made from the code and the facts where it is shown."""

    __tablename__ = "four_property_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Who ran it: a user name, ``cli`` or ``system`` (the ingest pipeline).
    checked_by: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(10))
    authenticity: Mapped[bool] = mapped_column(Boolean)
    integrity: Mapped[bool] = mapped_column(Boolean)
    usability: Mapped[bool] = mapped_column(Boolean)
    security: Mapped[bool] = mapped_column(Boolean)
    passed: Mapped[bool] = mapped_column(Boolean)
    findings: Mapped[list] = mapped_column(JSON, default=list)


class BackupRecord(Base):
    """A backup written by `dangan backup` (service.backup): where, when, which revision and
    how many objects; its holdings (BackupHolding) say which items it held as they were."""

    __tablename__ = "backup_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    path: Mapped[str] = mapped_column(Text)
    base: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[str | None] = mapped_column(String(40))
    objects: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)


class BackupHolding(Base):
    """An item the latest backup held, with the digest of its files and pages in that
    snapshot (service.backup_holdings): a different digest now means the item changed since.
    Only the latest backup's holdings are kept."""

    __tablename__ = "backup_holding"
    backup_id: Mapped[int] = mapped_column(ForeignKey("backup_record.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
