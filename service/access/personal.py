"""The privacy right: reading resident ID and mobile numbers unmasked (service.privacy
masks them for everyone else) and opening items that hold ID copies. The administrator
gives or takes it per user (User.privacy_right); left unset it follows the role: the
archive's own roles, who work with the full record, have it.
"""

from __future__ import annotations

from ..errors import N_, Message, PermissionDenied
from ..models import ArchiveItem, User
from .decision import Decision
from .reader import Who, user_of
from .roles import ALL_ROLES_SEE


def privacy_right_by_role(role: str) -> bool:
    """The privacy right a user of this role has unless the administrator decided otherwise."""
    return role in ALL_ROLES_SEE


def can_see_personal(who: Who) -> bool:
    """The one rule: the administrator's choice for the user, else the role's default."""
    user = user_of(who)
    if user is None:
        return False
    if user.privacy_right is not None:
        return bool(user.privacy_right)
    return privacy_right_by_role(user.role)


DENY_ID_COPIES = Decision(False, Message(N_(
    "本件含身份证复印件，只有有个人信息查看权限的用户可以打开。如需查阅，请联系档案室，或请系统管理员授予个人信息查看权限。")),
    "archive")


def id_copies_decision(who: Who, item: ArchiveItem, decision: Decision) -> Decision:
    """An item holding ID copies narrows `decision` (to open it) to users with the privacy
    right; the catalogue entry is looked up as before."""
    if decision.allowed and item.id_copies and not can_see_personal(who):
        return DENY_ID_COPIES
    return decision


def require_register_id_copies(user: User | None) -> None:
    """An item flagged as holding ID copies opens only with the privacy right: who has it
    not could not open what they registered (None is the operator at the command line)."""
    if user is not None and not can_see_personal(user):
        raise PermissionDenied(N_("您没有查看个人信息的权限，标为“含身份证复印件”的档案登记后您将无法打开；请取消该标记，或请有权限的档案管理员登记。"))


def require_unmasked_copy(user: Who, personal: str) -> None:
    """A file handed out as it is (an original, the searchable PDF) shows the page images
    unmasked: users without the privacy right do not get one of an item whose pages show
    personal data (`personal` "found"), or may show it and are not all read yet ("unknown").
    They read the item's pages on screen, masked."""
    if can_see_personal(user) or personal == "none":
        return
    if personal == "unknown":
        raise PermissionDenied(N_("本件尚有页面未完成识别，无法确认是否含有身份证号或手机号，因此不能下载原件；识别完成后再试，或请有个人信息查看权限的人员处理。"))
    raise PermissionDenied(N_("本件含有身份证号或手机号等个人信息，您没有查看个人信息的权限，不能下载未遮盖的原件或可检索PDF；请在页面上查看已遮盖的图像和文字，或请管理员授予个人信息查看权限。"))
