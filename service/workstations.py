"""Reading-room workstations (阅览室终端): the one place 机密 content is shown on screen.

The administrator registers a workstation (a name, optionally the client address it must
come from) and then enrols the browser on that machine: a random token (`secrets`) goes to
the browser in a long-lived HttpOnly cookie and only its SHA-256 is kept in the catalogue,
so a copy of the database opens nothing. Enrolling again replaces the token; revoking ends
it. Each registration, enrolment and revocation is audited. `recognise` tells a request
from a workstation (web.ctx.reader builds the access.Reader with it).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock
from .access import require_manage_users
from .audit import record
from .errors import N_, Conflict, InvalidInput, NotFound
from .fields import check_text
from .models import User, Workstation

#: The cookie carrying an enrolled browser's token (web/workstation views set it).
COOKIE = "dangan_reading_room"
#: An enrolment lasts until revoked; the cookie is kept this long (ten years).
COOKIE_MAX_AGE = 10 * 365 * 24 * 3600


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _actor(user: User | None) -> str:
    return user.username if user is not None else "operator"


def _address(raw: str | None) -> str | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise InvalidInput(N_("IP 地址“%(ip)s”格式不对，应如 192.168.1.20；不限地址请留空。"),
                           ip=raw[:64]) from None


def list_workstations(session: Session, user: User | None) -> list[Workstation]:
    require_manage_users(user)
    return list(session.scalars(select(Workstation).order_by(Workstation.name)))


def get_workstation(session: Session, workstation_id: int) -> Workstation:
    ws = session.get(Workstation, workstation_id)
    if ws is None:
        raise NotFound(N_("阅览室终端 %(id)s 不存在。"), id=workstation_id)
    return ws


def register(session: Session, user: User | None, name: str, ip: str | None = None) -> Workstation:
    """Register a workstation (not yet enrolled: no browser is recognised until then)."""
    require_manage_users(user)
    name = (name or "").strip()
    if not name:
        raise InvalidInput(N_("请填写阅览室终端的名称，如“阅览室1号机”。"))
    check_text(Workstation.name, name, N_("终端名称"))
    address = _address(ip)
    if session.scalar(select(Workstation.id).where(Workstation.name == name)) is not None:
        raise Conflict(N_("阅览室终端“%(name)s”已登记，请换一个名称。"), name=name)
    ws = Workstation(name=name, ip=address, registered_by=_actor(user), registered_at=clock.now())
    session.add(ws)
    session.flush()
    record(session, _actor(user), "workstation.register", f"workstation:{ws.id}",
           {"name": name, "ip": address})
    return ws


def enrol(session: Session, user: User | None, workstation_id: int) -> str:
    """Enrol the browser the administrator is using as this workstation: returns the new
    token for its cookie (any token enrolled before stops working)."""
    require_manage_users(user)
    ws = get_workstation(session, workstation_id)
    token = secrets.token_urlsafe(32)
    ws.token_hash = _digest(token)
    ws.enrolled_by, ws.enrolled_at = _actor(user), clock.now()
    ws.revoked_by = ws.revoked_at = None
    session.flush()
    record(session, _actor(user), "workstation.enrol", f"workstation:{ws.id}", {"name": ws.name})
    return token


def revoke(session: Session, user: User | None, workstation_id: int) -> Workstation:
    """End the workstation's enrolment: its browser is an ordinary one from now on."""
    require_manage_users(user)
    ws = get_workstation(session, workstation_id)
    ws.token_hash = None
    ws.revoked_by, ws.revoked_at = _actor(user), clock.now()
    session.flush()
    record(session, _actor(user), "workstation.revoke", f"workstation:{ws.id}", {"name": ws.name})
    return ws


@dataclass(frozen=True)
class Recognised:
    id: int
    name: str


def recognise(session: Session, token: str | None, address: str | None) -> Recognised | None:
    """The workstation a request comes from: its cookie's token is enrolled and not revoked,
    and, where the workstation is tied to an address, the request comes from it."""
    if not token or len(token) > 200:
        return None
    digest = _digest(token)
    ws = session.scalar(select(Workstation).where(Workstation.token_hash == digest))
    if ws is None or ws.token_hash is None or not hmac.compare_digest(ws.token_hash, digest):
        return None
    if ws.ip is not None and ws.ip != (address or ""):
        return None
    return Recognised(ws.id, ws.name)
