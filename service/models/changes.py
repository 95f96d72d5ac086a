"""The change history of an item's catalogue record and of its arrangement, and the
requests to change the record that wait for the archive manager's approval."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ItemChange(Base):
    """One applied change: who, when, why, and each field's previous and new value.

    ``kind`` is ``edit`` (catalogue fields), ``split``, ``merge`` or ``arrange`` (page
    order, turns, blank pages); ``changes`` maps a field to ``[previous, new]`` (for an
    arrangement, what moved where). An edit takes effect through an approved
    `ChangeRequest`: ``actor`` asked for it, ``approved_by`` approved it at ``at``.
    """

    __tablename__ = "item_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="edit")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("change_request.id"), index=True)


class ChangeRequest(Base):
    """A change of an item's catalogue fields asked for and not yet in the record.

    ``changes`` maps a field to ``[previous, proposed]`` as the record showed it when the
    change was asked for (approval is refused when the record no longer shows the
    previous value). ``source`` is ``edit`` (the browser's edit screen) or ``import`` (a
    catalogue sheet: ``sheet`` and ``sheet_row``). ``status``: service.vocab.ChangeStatus.
    """

    __tablename__ = "change_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(10), default="edit")
    sheet: Mapped[str | None] = mapped_column(String(255))
    sheet_row: Mapped[int | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
