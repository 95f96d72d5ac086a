"""Deletion and destruction: who asks, appraises, approves and confirms. An item held
for deletion, or deleted or destroyed (a tombstone), is seen only by the archive's own
roles (`see_all`), marked as such; for everyone else it is gone (service.access.visibility).
"""

from __future__ import annotations

from ..errors import N_, PermissionDenied
from ..models import ArchiveItem, User
from ..vocab import Role, Secrecy
from .items import can_view
from .requests import own_request
from .roles import ALL_ROLES_SEE, MANAGE_ROLES

#: Who asks for a deletion: the roles that keep the catalogue.
DELETION_REQUEST_ROLES = MANAGE_ROLES
#: Who approves, rejects and undoes deletions: the archive manager (DESIGN).
DELETION_APPROVE_ROLES = frozenset({Role.MANAGER})
#: Who appraises items due for destruction and confirms a destruction: archivists.
APPRAISE_ROLES = frozenset({Role.ARCHIVIST})
CONFIRM_DESTRUCTION_ROLES = frozenset({Role.ARCHIVIST})
#: 秘密 and above: destruction approved by the executive; below, by the office head.
EXECUTIVE_APPROVES = frozenset({Secrecy.SECRET, Secrecy.CONFIDENTIAL, Secrecy.TOP_SECRET})


def can_see_disposal(user: User | None) -> bool:
    """The lists of deletions and destructions, held items and the register."""
    return user is not None and user.role in ALL_ROLES_SEE


def require_see_disposal(user: User | None) -> None:
    if not can_see_disposal(user):
        raise PermissionDenied(N_("只有档案室人员可以查看删除和销毁事项。"))


def can_request_deletion(user: User | None, item: ArchiveItem) -> bool:
    return user is not None and user.role in DELETION_REQUEST_ROLES and can_view(user, item)


def require_request_deletion(user: User | None, item: ArchiveItem) -> None:
    if not can_request_deletion(user, item):
        raise PermissionDenied(N_("只有档案管理员可以申请删除档案。"))


def can_approve_deletion(user: User | None) -> bool:
    return user is not None and user.role in DELETION_APPROVE_ROLES


def require_approve_deletion(user: User | None, requested_by: str) -> None:
    """The archive manager decides; nobody decides their own request."""
    if not can_approve_deletion(user):
        raise PermissionDenied(N_("删除申请须由档案室主任审批。"))
    if own_request(user, requested_by):
        raise PermissionDenied(N_("不能审批自己提出的删除申请，请由另一位档案室主任审批。"))


def require_undo_deletion(user: User | None) -> None:
    if not can_approve_deletion(user):
        raise PermissionDenied(N_("只有档案室主任可以撤销删除。"))


def can_appraise(user: User | None) -> bool:
    return user is not None and user.role in APPRAISE_ROLES


def require_appraise(user: User | None) -> None:
    if not can_appraise(user):
        raise PermissionDenied(N_("到期档案须由档案管理员鉴定。"))


def destruction_approver(secrecy: str) -> Role:
    """The role that approves destroying an item of this 密级."""
    return Role.EXECUTIVE if secrecy in EXECUTIVE_APPROVES else Role.MANAGER


def can_approve_destruction(user: User | None, secrecy: str) -> bool:
    return user is not None and user.role == destruction_approver(secrecy)


def require_approve_destruction(user: User | None, secrecy: str, appraised_by: str) -> None:
    if not can_approve_destruction(user, secrecy):
        if destruction_approver(secrecy) == Role.EXECUTIVE:
            raise PermissionDenied(N_("秘密及以上档案的销毁须由主管领导审批。"))
        raise PermissionDenied(N_("该档案的销毁须由档案室主任审批。"))
    if own_request(user, appraised_by):
        raise PermissionDenied(N_("不能审批自己鉴定的销毁，请由另一位审批人审批。"))


def can_confirm_destruction(user: User | None) -> bool:
    return user is not None and user.role in CONFIRM_DESTRUCTION_ROLES


def require_confirm_destruction(user: User | None, supervisor: User) -> None:
    """An archivist destroys under a named supervisor: a second, active user."""
    if not can_confirm_destruction(user):
        raise PermissionDenied(N_("销毁须由档案管理员执行并确认。"))
    assert user is not None
    if supervisor.id == user.id:
        raise PermissionDenied(N_("监销人不能是销毁执行人本人，请另请一位监销人。"))
    if not supervisor.active:
        raise PermissionDenied(N_("监销人“%(name)s”的账户已停用。"), name=supervisor.username)
