"""Where paper originals sit: 库房 → 架 → 节 → 层 → 盒, with each box's moves kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Room(Base):
    """库房."""

    __tablename__ = "room"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Rack(Base):
    """架 (a compact-shelving range)."""

    __tablename__ = "rack"
    __table_args__ = (UniqueConstraint("room_id", "code", name="uq_rack_room_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"))
    code: Mapped[str] = mapped_column(String(20))
    room: Mapped[Room] = relationship()


class Section(Base):
    """列/节."""

    __tablename__ = "section"
    __table_args__ = (UniqueConstraint("rack_id", "code", name="uq_section_rack_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    rack_id: Mapped[int] = mapped_column(ForeignKey("rack.id"))
    code: Mapped[str] = mapped_column(String(20))
    rack: Mapped[Rack] = relationship()


class Shelf(Base):
    """层."""

    __tablename__ = "shelf"
    __table_args__ = (UniqueConstraint("section_id", "code", name="uq_shelf_section_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"))
    code: Mapped[str] = mapped_column(String(20))
    section: Mapped[Section] = relationship()

    @property
    def path(self) -> str:
        """Human path such as `A库/3架/2节/4层`."""
        sec = self.section
        rack = sec.rack
        return shelf_path(rack.room.name, rack.code, sec.code, self.code)


def shelf_path(room_name: str, rack: str, section: str, shelf: str) -> str:
    """The one rule for a shelf's path (`Shelf.path`), from its parts: for code that reads
    them as plain columns (service.items.hit_rows) without loading the chain of objects."""
    return f"{room_name}/{rack}架/{section}节/{shelf}层"


class Box(Base):
    """盒: holds items of one year, one retention and one organisation."""

    __tablename__ = "box"
    id: Mapped[int] = mapped_column(primary_key=True)
    barcode: Mapped[str] = mapped_column(String(40), unique=True)
    year: Mapped[int | None] = mapped_column(Integer)
    retention: Mapped[str | None] = mapped_column(String(3))
    org_code: Mapped[str | None] = mapped_column(String(3))
    shelf_id: Mapped[int | None] = mapped_column(ForeignKey("shelf.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    shelf: Mapped[Shelf | None] = relationship()
    moves: Mapped[list[BoxMove]] = relationship(
        back_populates="box", order_by="BoxMove.moved_at.desc()"
    )


class BoxMove(Base):
    """One dated entry of a box's location history (where it went, who moved it)."""

    __tablename__ = "box_move"
    id: Mapped[int] = mapped_column(primary_key=True)
    box_id: Mapped[int] = mapped_column(ForeignKey("box.id"))
    shelf_id: Mapped[int | None] = mapped_column(ForeignKey("shelf.id"))
    moved_at: Mapped[datetime] = mapped_column(default=utcnow)
    moved_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    box: Mapped[Box] = relationship(back_populates="moves")
    shelf: Mapped[Shelf | None] = relationship()
