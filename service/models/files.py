"""The electronic set: stored originals and the pages derived from them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from indexer.messages import Message

from ..vocab import FileStatus, PageStatus
from .base import Base, MessageText, utcnow

if TYPE_CHECKING:  # catalogue.py refers back to these models; SQLAlchemy resolves them by name
    from .catalogue import ArchiveItem


class StoredFile(Base):
    """An uploaded original (never altered) or a derived whole-item file such as the searchable PDF."""

    __tablename__ = "stored_file"
    __table_args__ = (UniqueConstraint("item_id", "role", "seq", name="uq_stored_file_item_role_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"))
    role: Mapped[str] = mapped_column(String(20), default="original")
    seq: Mapped[int] = mapped_column(Integer, default=1)
    key: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    original_name: Mapped[str | None] = mapped_column(String(500))
    format: Mapped[str | None] = mapped_column(String(10))
    page_count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=FileStatus.STORED)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_reason: Mapped[Message | str | None] = mapped_column(MessageText)
    #: The technical cause (exception type and message) for administrators; never shown to users.
    error_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    item: Mapped[ArchiveItem] = relationship(back_populates="files")


class Page(Base):
    """One page of an item: its OCR text, word boxes and derived images."""

    __tablename__ = "page"
    __table_args__ = (
        UniqueConstraint("item_id", "n", name="uq_page_item_n"),
        # the pages that have a thumbnail, by item: a search page's hits find theirs here
        # (service.items.hit_rows), not in the rows, where the thumbnail's key lies past
        # the OCR text and word boxes (tens of KB, read through overflow pages)
        Index("ix_page_thumbed", "item_id", "n", sqlite_where=text("thumb_key IS NOT NULL"),
              postgresql_where=text("thumb_key IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    n: Mapped[int] = mapped_column(Integer)
    file_page: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=PageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    words: Mapped[list | None] = mapped_column(JSON)
    confidence: Mapped[float | None] = mapped_column(Float)
    rotation: Mapped[float | None] = mapped_column(Float)
    #: The archivist's quarter turn (0, 90, 180, 270 degrees clockwise) applied over the
    #: stored original when the page is drawn and read; the original is never altered.
    turn: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: A blank page (the back of a sheet): kept and shown, but not counted as a page.
    blank: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    image_key: Mapped[str | None] = mapped_column(String(300))
    thumb_key: Mapped[str | None] = mapped_column(String(300))
    pdf_key: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[Message | str | None] = mapped_column(MessageText)
    error_code: Mapped[str | None] = mapped_column(String(40))
    #: The technical cause (exception type and message) for administrators; never shown to users.
    error_detail: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column()
    worker: Mapped[str | None] = mapped_column(String(100))
    #: Until when the worker's claim holds (renewed by its heartbeat while the page runs):
    #: past it, the page is queued again, whichever machine its worker was on.
    lease_until: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    item: Mapped[ArchiveItem] = relationship(back_populates="pages")
    file: Mapped[StoredFile] = relationship()


class PeriodicRun(Base):
    """The last period in which a periodic job (reconcile, purge) ran: every worker's
    scheduler queues it, and the one that advances ``slot`` runs it (service.jobs.periodic)."""

    __tablename__ = "periodic_run"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger)
    ran_at: Mapped[datetime] = mapped_column()
    worker: Mapped[str | None] = mapped_column(String(100))
