"""The two-set rule (两套制) as records: where an item's paper moved, the officers' signed
cross-checks of paper against scans with their findings, and the rescans that answer them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class ItemMove(Base):
    """One dated entry of an item's paper location history: from which box (and position)
    to which, who moved it. A box's own moves are kept in BoxMove."""

    __tablename__ = "item_move"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    from_box_id: Mapped[int | None] = mapped_column(ForeignKey("box.id"))
    from_position: Mapped[int | None] = mapped_column(Integer)
    to_box_id: Mapped[int | None] = mapped_column(ForeignKey("box.id"))
    to_position: Mapped[int | None] = mapped_column(Integer)
    moved_at: Mapped[datetime] = mapped_column(default=utcnow)
    moved_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class CrossCheck(Base):
    """A records officer's signed comparison of an item's paper original with its scans.

    `result` is 'agrees' or 'discrepancy' (then with one finding or more); the page counts
    seen at the time are kept, so the history reads as it was. The newest check of an item
    is its state: a discrepancy stays open until a later check agrees."""

    __tablename__ = "cross_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    result: Mapped[str] = mapped_column(String(20))
    officer_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    #: The officer's user name and display name as signed (kept if the account changes).
    officer: Mapped[str] = mapped_column(String(64))
    officer_name: Mapped[str] = mapped_column(String(100), default="")
    checked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    paper_pages: Mapped[int | None] = mapped_column(Integer)
    scanned_pages: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    findings: Mapped[list[CheckFinding]] = relationship(
        back_populates="check", order_by="CheckFinding.id", cascade="all, delete-orphan")


class CheckFinding(Base):
    """One discrepancy found in a check: its kind, the pages concerned and a note."""

    __tablename__ = "check_finding"
    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("cross_check.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    pages: Mapped[list | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    check: Mapped[CrossCheck] = relationship(back_populates="findings")


class Rescan(Base):
    """A rescan stored for an item: the new original, which item pages now point to it (or
    the whole item), the files it put out of use (still stored), who and when, and the
    discrepancy check it answers."""

    __tablename__ = "rescan"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    check_id: Mapped[int | None] = mapped_column(ForeignKey("cross_check.id"))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    #: Item page numbers rescanned; None when the whole item was rescanned.
    pages: Mapped[list | None] = mapped_column(JSON)
    replaced_file_ids: Mapped[list | None] = mapped_column(JSON)
    rescanned_by: Mapped[str] = mapped_column(String(64))
    rescanned_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
