"""Registering items: a user registers only what they can open afterwards (otherwise
the upload ends in "识别完成" followed by a 403 on the item it just made); `None` is the
operator at the command line, who registers the archive's holdings, 绝密 included (its
electronic copy is kept, and never shown).
"""

from __future__ import annotations

from ..errors import N_, Listing, PermissionDenied
from ..models import User
from ..vocab import SECRECY_LEVELS, Secrecy
from .visibility import findable_secrecy_levels, visibility_for


def registrable_secrecy(user: User | None) -> tuple[str, ...]:
    """The 密级 levels `user` may register, in the vocabulary's order."""
    return SECRECY_LEVELS if user is None else findable_secrecy_levels(user)


def require_register(user: User | None, secrecy: str) -> None:
    """Refuse, with the reason, a registration at a level the user could not open afterwards."""
    allowed = registrable_secrecy(user)
    if secrecy in allowed:
        return
    if secrecy == Secrecy.TOP_SECRET:
        raise PermissionDenied(N_("绝密档案从不以电子方式显示，不能在网页或 API 上登记；请按涉密纸质档案办理。"))
    levels = Listing(tuple(allowed))
    raise PermissionDenied(N_("您无权查看“%(secrecy)s”级档案，登记后将无法打开，因此不能登记该密级（您可登记：%(levels)s）。请改选密级，或请档案管理员登记。"),
                           secrecy=secrecy, levels=levels)


def registered_owner(user: User | None) -> tuple[int | None, str | None]:
    """Owner and department of an item `user` registers: staff and department managers own
    what they upload, so they can open it; the archive's roles and the operator register for
    the archive (the owner then comes from the customer file)."""
    if user is None or visibility_for(user).see_all:
        return None, None
    return user.id, user.department
