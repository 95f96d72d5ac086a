"""Reading-room workstations: the registered machines where 机密 content is read on screen.

The administrator registers a workstation and enrols the browser on that machine: it then
carries a random token in a long-lived HttpOnly cookie, stored here only as its SHA-256.
Revoking (or enrolling again) makes the old token worthless.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Workstation(Base):
    __tablename__ = "reading_room_workstation"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: When set, the workstation is recognised only from this client address as well.
    ip: Mapped[str | None] = mapped_column(String(64))
    #: SHA-256 (hex) of the enrolled browser's token; None until enrolled.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrolled_by: Mapped[str | None] = mapped_column(String(64))
    enrolled_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]
