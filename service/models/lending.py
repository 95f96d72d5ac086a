"""Loans (借阅): who borrows which items, for what and how long, and each step's who and when.

A loan moves requested → approved | rejected → issued → returned (or withdrawn before issue).
A paper loan is reading on the premises: the pages of each item are counted out at issue and
counted back at return. An electronic loan gives the borrower viewing grants
(service.models.ViewingGrant, `loan_id`) that end by themselves at the end of the period.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .catalogue import ArchiveItem
from .users import User


class Loan(Base):
    __tablename__ = "loan"
    __table_args__ = (Index("ix_loan_status_ends", "status", "ends_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: 借阅单号, JY-year-sequence (JY-2026-0001), never reused.
    number: Mapped[str] = mapped_column(String(20), unique=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    department: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(Text)
    #: paper (reading the originals on the premises) or electronic (a viewing grant).
    kind: Mapped[str] = mapped_column(String(12))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="requested")
    #: The role whose approval the items need (dept_manager or executive), fixed at request.
    approver_role: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    #: Why it was rejected (required), or the approver's remark.
    decision_note: Mapped[str | None] = mapped_column(Text)
    issued_by: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None]
    #: Who received the pages (or closed the electronic loan) back.
    returned_to: Mapped[str | None] = mapped_column(String(64))
    returned_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    #: Pages counted back did not agree with pages counted out (reported until cleared).
    mismatch: Mapped[bool] = mapped_column(Boolean, default=False)
    #: How a mismatch was settled (the missing page found, a report made), by whom and when;
    #: until then the loan stays on the desk's attention list.
    settled_by: Mapped[str | None] = mapped_column(String(64))
    settled_at: Mapped[datetime | None]
    settlement: Mapped[str | None] = mapped_column(Text)

    borrower: Mapped[User] = relationship()
    items: Mapped[list[LoanItem]] = relationship(back_populates="loan", order_by="LoanItem.id",
                                                 cascade="all, delete-orphan")


class LoanItem(Base):
    __tablename__ = "loan_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    pages_out: Mapped[int | None]
    pages_back: Mapped[int | None]
    mismatch_note: Mapped[str | None] = mapped_column(Text)

    loan: Mapped[Loan] = relationship(back_populates="items")
    item: Mapped[ArchiveItem] = relationship()
