"""Requests and their decisions: nobody decides their own request (`own_request`);
catalogue changes are approved by the archive manager and withdrawn by who asked.
"""

from __future__ import annotations

from ..errors import N_, PermissionDenied
from ..models import ArchiveItem, User
from ..vocab import Role
from .items import can_view


def own_request(user: User | None, requested_by: str | None,
                borrower_id: int | None = None) -> bool:
    """Whether the request is `user`'s own: the one rule of every decision (a catalogue
    change, a loan, a deletion, a destruction) is that nobody approves or decides their own
    request; and only one's own loan is withdrawn. `requested_by` is who asked (or
    appraised); `borrower_id`, for a loan, who borrows."""
    if user is None:
        return False
    return (requested_by is not None and requested_by == user.username) or (
        borrower_id is not None and borrower_id == user.id)


def can_approve_change(user: User | None, requested_by: str | None = None,
                       item: ArchiveItem | None = None) -> bool:
    """Catalogue changes take effect when the archive manager (档案室主任) approves them
    (DESIGN, "Changes"); nobody approves or rejects their own request. Without a request
    (no `requested_by`): whether the user decides changes at all (the approvals queue)."""
    if user is None or user.role != Role.MANAGER:
        return False
    if own_request(user, requested_by):
        return False
    return item is None or can_view(user, item)


def require_approve_change(user: User | None, requested_by: str | None = None,
                           item: ArchiveItem | None = None) -> None:
    if own_request(user, requested_by):
        raise PermissionDenied(N_("不能审批自己提交的修改申请：请由另一位档案室主任审批，或撤回申请。"))
    if not can_approve_change(user, requested_by, item):
        raise PermissionDenied(N_("只有档案室主任可以审批著录修改申请。"))


def can_withdraw_change(user: User | None, requested_by: str) -> bool:
    """A change request is withdrawn by the one who asked for it, before it is decided."""
    return user is not None and user.username == requested_by
