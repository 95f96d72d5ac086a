"""Who asks: the `Reader` (user, time, reading-room workstation, live grants read
once), and the plain user or nobody that may stand for one (`Who`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session

from .. import clock, grants
from ..models import User
from .roles import ALL_ROLES_SEE


@dataclass(frozen=True)
class Reader:
    """Who asks, when and where: built once per request (web.ctx.reader) or command.

    `reading_room` is True only for a request from a registered reading-room workstation
    (service.workstations), the one place 机密 content is shown; the command line is never
    there.
    """

    user: User | None
    at: datetime = field(default_factory=clock.now)
    reading_room: bool = False
    #: The workstation's name, for the audit and the watermark.
    workstation: str | None = None
    #: The items the user holds a live viewing grant for at `at`, read once for a list of
    #: items (`with_grants`); None: each decision asks the catalogue.
    granted: frozenset[int] | None = None

    @property
    def name(self) -> str:
        """The reader as the watermark names them: display name and user name."""
        if self.user is None:
            return "?"
        shown = (self.user.display_name or "").strip()
        return f"{shown}（{self.user.username}）" if shown and shown != self.user.username \
            else self.user.username


#: Whoever a check is about: a Reader, a plain user (outside the reading room, now) or nobody.
Who = Reader | User | None


def reader_of(who: Who) -> Reader:
    return who if isinstance(who, Reader) else Reader(user=who)


def with_grants(session: Session, who: Who) -> Reader:
    """`who` with their live grants read once, for deciding many items (a page of hits)
    without a query per item; the same rule as the one-item check (access.items)."""
    reader = reader_of(who)
    if reader.user is None or reader.granted is not None:
        return reader
    if reader.user.role in ALL_ROLES_SEE:  # they open by role, never by a grant (_scope_decision)
        return replace(reader, granted=frozenset())
    return replace(reader, granted=grants.granted_item_ids(session, reader.user.id, reader.at))


def live_grants(session: Session | None, reader: Reader, user: User) -> frozenset[int]:
    """The reader's live grants: those already read for this request (`with_grants`), else
    read now (none without a session)."""
    if reader.granted is not None:
        return reader.granted
    return grants.granted_item_ids(session, user.id, reader.at) if session is not None \
        else frozenset()


def user_of(who: Who) -> User | None:
    return who.user if isinstance(who, Reader) else who


def is_custodian(who: Who) -> bool:
    """The archive's own roles (and the executive): they keep every customer file."""
    user = user_of(who)
    return user is not None and user.role in ALL_ROLES_SEE
