"""The change history of an item's catalogue record and of its arrangement."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ItemChange(Base):
    """One applied change: who, when, why, and each field's previous and new value.

    ``kind`` is ``edit`` (catalogue fields), ``split``, ``merge`` or ``arrange`` (page
    order, turns, blank pages); ``changes`` maps a field to ``[previous, new]`` (for an
    arrangement, what moved where).
    """

    __tablename__ = "item_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="edit")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
