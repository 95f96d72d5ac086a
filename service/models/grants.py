"""Viewing grants: the right to open an item electronically for a while, given by an approved
electronic loan (借阅). A 秘密 item opens for a borrower only under an unexpired grant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ViewingGrant(Base):
    """`user_id` may open `item_id` from `starts_at` until `expires_at` (exclusive), unless
    revoked earlier (the loan was returned or withdrawn)."""

    __tablename__ = "viewing_grant"
    __table_args__ = (Index("ix_viewing_grant_user_expires", "user_id", "expires_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    #: The loan that gave it (a plain number here: the lending tables refer to grants, not
    #: the other way round); None for a grant given another way.
    loan_id: Mapped[int | None] = mapped_column(index=True)
    granted_by: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
