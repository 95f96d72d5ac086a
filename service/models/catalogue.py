"""The catalogue: fonds, categories, archive items and the 档号 counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from indexer.messages import Listing, Message

from ..vocab import ItemStatus, PaperCondition
from .base import Base, MessageText, utcnow

if TYPE_CHECKING:  # the related models import this module; SQLAlchemy resolves them by name
    from .customer import Customer
    from .files import Page, StoredFile
    from .location import Box


class Fonds(Base):
    """全宗: the archive's top-level body of records (code like J001)."""

    __tablename__ = "fonds"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Category(Base):
    """门类/类别 with its 2-letter code used inside the 档号 (WS, HT, ZJ, BD …)."""

    __tablename__ = "category"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")


class ArchivalCodeCounter(Base):
    """The last 件号 allocated per group; only ever incremented, so codes are never reused."""

    __tablename__ = "archival_code_counter"
    __table_args__ = (UniqueConstraint("group_key", name="uq_archival_code_counter_group"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_key: Mapped[str] = mapped_column(String(64))
    last_no: Mapped[int] = mapped_column(Integer, default=0)


class ArchiveItem(Base):
    """档案件: one contract, ID copy or signed form with its attachments."""

    __tablename__ = "archive_item"
    __table_args__ = (UniqueConstraint("archival_code", name="uq_archive_item_code"),
                      # listings by date in keyset pages (service.items.catalogue_after)
                      Index("ix_archive_item_doc_date", "doc_date", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    archival_code: Mapped[str] = mapped_column(String(40))
    fonds_id: Mapped[int] = mapped_column(ForeignKey("fonds.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    year: Mapped[int] = mapped_column(Integer)
    retention: Mapped[str] = mapped_column(String(3))
    org_code: Mapped[str | None] = mapped_column(String(3))
    item_no: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    doc_number: Mapped[str | None] = mapped_column(String(100))
    responsible: Mapped[str | None] = mapped_column(String(200))
    doc_date: Mapped[date | None] = mapped_column()
    secrecy: Mapped[str] = mapped_column(String(4))
    paper_pages: Mapped[int | None] = mapped_column(Integer)
    remarks: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    customer_section: Mapped[str | None] = mapped_column(String(20))
    box_id: Mapped[int | None] = mapped_column(ForeignKey("box.id"))
    #: The paper side (两套制): position in the box (盒内序号), its condition and remarks on it.
    box_position: Mapped[int | None] = mapped_column(Integer)
    paper_condition: Mapped[str] = mapped_column(String(20), default=PaperCondition.INTACT)
    paper_remarks: Mapped[str | None] = mapped_column(Text)
    #: When either set last changed (files, pages or paper fields): an item changed after its
    #: last cross-check goes back to the records officer's queue.
    sets_changed_at: Mapped[datetime | None] = mapped_column()
    #: Set while an approved deletion holds the item (service.deletion): hidden from search
    #: and listings outside the archive's roles until then, when it becomes final.
    deletion_due_at: Mapped[datetime | None] = mapped_column()
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    department: Mapped[str | None] = mapped_column(String(100))
    #: Holds copies of resident ID cards (身份证复印件): only users with the privacy right open
    #: it (service.access).
    id_copies: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    status: Mapped[str] = mapped_column(String(20), default=ItemStatus.REGISTERED)
    status_reason: Mapped[Listing | Message | str | None] = mapped_column(MessageText)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    fonds: Mapped[Fonds] = relationship()
    category: Mapped[Category] = relationship()
    customer: Mapped[Customer | None] = relationship()
    box: Mapped[Box | None] = relationship()
    files: Mapped[list[StoredFile]] = relationship(back_populates="item", order_by="StoredFile.seq")
    pages: Mapped[list[Page]] = relationship(back_populates="item", order_by="Page.n")
