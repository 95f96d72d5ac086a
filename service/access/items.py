"""The decisions about one item: look it up (catalogue entry), open its content, let
the content leave the screen (export, download, cache), and the item-level rights of the
archive's roles (edit, repair files, rescan); `handling` by 密级.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import object_session

from .. import grants
from ..errors import N_, Message, PermissionDenied
from ..models import ArchiveItem, User
from ..vocab import Secrecy
from .decision import (
    ALLOW,
    DENY_CONFIDENTIAL,
    DENY_LENT_FOR_VIEWING,
    DENY_LOAN,
    DENY_READING_ROOM,
    DENY_SCOPE,
    DENY_SIGN_IN,
    DENY_TOP_SECRET,
    Decision,
)
from .personal import id_copies_decision
from .reader import Reader, Who, is_custodian, reader_of, user_of
from .roles import ALL_ROLES_SEE, FILE_REPAIR_ROLES, MANAGE_ROLES
from .visibility import (
    CUSTODIAN_OPEN,
    GRANT_LEVELS,
    SCOPE_OPEN,
    in_disposal,
    visibility_for,
    visible_under,
)


def _live_grant(reader: Reader, item: ArchiveItem) -> bool:
    session = object_session(item)
    if reader.user is None or item.secrecy not in GRANT_LEVELS or in_disposal(item):
        return False
    if reader.granted is not None:
        return item.id in reader.granted
    if session is None:
        return False
    return grants.has_grant(session, reader.user.id, item.id, reader.at)


def open_decision(who: Who, item: ArchiveItem) -> Decision:
    """The one decision whether `who` may open `item`'s content (text, pages, thumbnails,
    snippets), with the reason and the remedy of a denial."""
    return id_copies_decision(who, item, _scope_decision(who, item))


def _scope_decision(who: Who, item: ArchiveItem) -> Decision:
    reader = reader_of(who)
    user = reader.user
    if user is None:
        return DENY_SIGN_IN
    if item.secrecy == Secrecy.TOP_SECRET:
        return DENY_TOP_SECRET
    if user.role in ALL_ROLES_SEE:
        if item.secrecy in CUSTODIAN_OPEN or reader.reading_room:
            return ALLOW
        return DENY_READING_ROOM
    in_scope = visible_under(visibility_for(user), item)
    if item.secrecy in SCOPE_OPEN and in_scope:
        return ALLOW
    if _live_grant(reader, item):
        return ALLOW
    if not in_scope:
        return DENY_SCOPE
    return DENY_CONFIDENTIAL if item.secrecy == Secrecy.CONFIDENTIAL else DENY_LOAN


def may_open(who: Who, item: ArchiveItem) -> bool:
    return open_decision(who, item).allowed


def may_look_up(who: Who, item: ArchiveItem) -> bool:
    """The catalogue entry (档号, title, where the paper is) is the reader's to see: within
    scope, or opened by a grant; never 绝密."""
    user = user_of(who)
    if user is None or item.secrecy == Secrecy.TOP_SECRET:
        return False
    return visible_under(visibility_for(user), item) or may_open(who, item)


def require_open(who: Who, item: ArchiveItem) -> None:
    decision = open_decision(who, item)
    if not decision.allowed:
        raise PermissionDenied(decision.reason or DENY_SCOPE.reason or "")


def export_decision(who: Who, item: ArchiveItem) -> Decision:
    """May the content leave the screen (download, searchable PDF, full text in the API or
    CLI, print, export)? Never 机密 or 绝密, nor what is only lent for viewing."""
    opened = open_decision(who, item)
    if not opened.allowed:
        return opened
    rule = handling(item)
    if not rule.export:
        return Decision(False, rule.reason, "reading_room")
    if is_custodian(who):
        return ALLOW
    # staff and department managers: 秘密, or anything out of their scope, is open to them
    # only through a loan, which is for viewing
    user = user_of(who)
    in_scope = user is not None and visible_under(visibility_for(user), item)
    if item.secrecy == Secrecy.SECRET or not in_scope:
        return DENY_LENT_FOR_VIEWING
    return ALLOW


def may_export(who: Who, item: ArchiveItem) -> bool:
    return export_decision(who, item).allowed


def require_export(who: Who, item: ArchiveItem) -> None:
    decision = export_decision(who, item)
    if not decision.allowed:
        raise PermissionDenied(decision.reason or DENY_SCOPE.reason or "")


def may_cache(who: Who, item: ArchiveItem) -> bool:
    """Page images and pages with text may stay in the browser's cache only when the content
    may leave the screen anyway (not 机密, not a loan that ends)."""
    return may_export(who, item) and handling(item).cache


def needs_watermark(item: ArchiveItem) -> bool:
    """机密 page images and thumbnails carry the reader's name and the time."""
    return item.secrecy == Secrecy.CONFIDENTIAL


def can_view(user: Who, item: ArchiveItem) -> bool:
    """The item's catalogue entry is the user's to see (see `may_look_up`; content needs
    `may_open`)."""
    return may_look_up(user, item)


@dataclass(frozen=True)
class Handling:
    """What may be done electronically with an item's content (its text and page images)."""

    #: The text and pages may be shown at all (on screen, to someone who may view the item).
    show: bool
    #: The content may leave the screen: file downloads, full text in API and CLI output.
    export: bool
    #: Page images and thumbnails may be kept in the browser's cache.
    cache: bool
    #: Why not, for the user, when `export` is False.
    reason: Message | None = None


_NEVER = Handling(show=False, export=False, cache=False,
                  reason=Message(N_("绝密档案不以电子方式提供。")))
_SCREEN_ONLY = Handling(show=True, export=False, cache=False,
                        reason=Message(N_("机密档案只能在阅览室屏幕上查阅，不能下载或导出全文。")))
_FREE = Handling(show=True, export=True, cache=True)


def handling(item: ArchiveItem) -> Handling:
    """The one rule for how an item's content may be used, by its secrecy."""
    if item.secrecy == Secrecy.TOP_SECRET:
        return _NEVER
    if item.secrecy == Secrecy.CONFIDENTIAL:
        return _SCREEN_ONLY
    return _FREE


def can_download(user: Who, item: ArchiveItem) -> bool:
    """Originals and the searchable PDF: `may_export`."""
    return may_export(user, item)


def can_repair_files(user: User | None, item: ArchiveItem) -> bool:
    return user is not None and user.role in FILE_REPAIR_ROLES and can_view(user, item)


def require_repair_files(user: User | None, item: ArchiveItem) -> None:
    if not can_repair_files(user, item):
        raise PermissionDenied(N_("只有档案管理员、档案馆长和系统管理员可以处理问题文件。"))


def can_rescan(user: User | None, item: ArchiveItem) -> bool:
    """A rescan replaces scans of an item: the roles that fix an item's files upload it."""
    return can_repair_files(user, item)


def require_rescan(user: User | None, item: ArchiveItem) -> None:
    if not can_rescan(user, item):
        raise PermissionDenied(N_("只有档案管理员、档案馆长和系统管理员可以上传重扫件。"))


def can_edit_item(user: User | None, item: ArchiveItem) -> bool:
    """The archive's catalogue roles edit an item's record and arrange its pages, for the
    items they may open."""
    return user is not None and user.role in MANAGE_ROLES and can_view(user, item)


def require_edit_item(user: User | None, item: ArchiveItem) -> None:
    if not can_edit_item(user, item):
        raise PermissionDenied(N_("只有档案管理员可以修改档案著录或整理页面。"))


def require_view(user: Who, item: ArchiveItem) -> None:
    """The catalogue entry (`may_look_up`); a denial says why (绝密, out of scope)."""
    if not can_view(user, item):
        if item.secrecy == Secrecy.TOP_SECRET and user_of(user) is not None:
            raise PermissionDenied(DENY_TOP_SECRET.reason or "")
        raise PermissionDenied(DENY_SCOPE.reason or "")
