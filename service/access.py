"""Who may do what: the archive's one access policy (PREAMBLE "The policy everyone codes
against"; DESIGN "Rules from the archive's regulations").

Two questions are asked of every item, by every path (search, pages, files, API, CLI,
exports, paperwork, the cross-check desk):

- *look up* (`may_look_up`): the catalogue entry (档号, title, where the paper is) may be
  listed and shown, so that a loan can be requested. Within the user's scope: the archive's
  own roles (administrator, archive manager, executive, archivist, records officer) cover
  every customer file, a department manager the department's, staff the files they own.
  绝密 is never shown electronically, to anyone.
- *open* (`may_open`, with the reason of a denial from `open_decision`): the content (text,
  page images, thumbnails, snippets). 公开/内部 within scope; 秘密 directly for the
  archive's roles (custodians, audited) and for staff and department managers only under a
  live viewing grant of an approved electronic loan (which opens an item whatever its
  scope); 机密 only on screen at a registered reading-room workstation, for the archive's
  roles; 绝密 never.
- *export* (`may_export`): the content may leave the screen (download of an original or
  the searchable PDF, full text in the API or CLI, print): never 机密 or 绝密, and not what
  is only lent for viewing.

Who asks is a `Reader`: the user, the time (service.clock) and whether the request comes
from a registered reading-room workstation. A plain `User` stands for that user outside the
reading room, now; None is nobody signed in. The search engines get the same rule as a
`Visibility` (`search_visibility` for the text, `lookup_visibility` for the catalogue).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, or_
from sqlalchemy.orm import Session, object_session

from indexer.search.types import Visibility

from . import clock, grants
from .errors import N_, Listing, Message, PermissionDenied
from .models import ArchiveItem, Customer, Loan, User
from .vocab import SECRECY_LEVELS, TOMBSTONES, Role, Secrecy

#: The archive's own roles: they see every customer file (up to 机密).
ALL_ROLES_SEE = frozenset({Role.ADMIN, Role.MANAGER, Role.EXECUTIVE, Role.ARCHIVIST, Role.OFFICER})
#: The archive's roles that manage the catalogue: boxes, shelves, customer files.
MANAGE_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.ARCHIVIST})
#: The archive's own roles that may retry, replace or remove an item's bad files.
FILE_REPAIR_ROLES = frozenset({Role.ARCHIVIST, Role.MANAGER, Role.ADMIN})
#: Who cross-checks paper against scans and signs the result (DESIGN: the records officer).
CHECK_ROLES = frozenset({Role.OFFICER, Role.MANAGER, Role.ADMIN})
#: The roles that keep the two sets consistent (两套制): they read the consistency report.
TWO_SET_REPORT_ROLES = frozenset({Role.ARCHIVIST, Role.MANAGER, Role.ADMIN, Role.OFFICER})
WIDE = frozenset({Secrecy.PUBLIC, Secrecy.INTERNAL, Secrecy.SECRET, Secrecy.CONFIDENTIAL})
NARROW = frozenset({Secrecy.PUBLIC, Secrecy.INTERNAL, Secrecy.SECRET})


def visibility_for(user: User | None) -> Visibility:
    if user is None:
        return Visibility(secrecy=frozenset(), see_all=False)
    if user.role in ALL_ROLES_SEE:
        return Visibility(secrecy=WIDE, see_all=True)
    departments = frozenset({user.department}) if user.role == Role.DEPT_MANAGER and user.department \
        else frozenset()
    return Visibility(secrecy=NARROW, owner_ids=frozenset({user.id}), departments=departments)


def operator_visibility() -> Visibility:
    """The command line is run by the system's operator: everything shown electronically."""
    return Visibility(secrecy=WIDE, see_all=True)


def findable_secrecy_levels(user: User | None) -> tuple[str, ...]:
    """The 密级 a search by this user can ever return, in the catalogue's order: the
    search page offers only these as filters (绝密 never, 机密 only to the archive's roles)."""
    allowed = visibility_for(user).secrecy
    return tuple(level for level in SECRECY_LEVELS if level in allowed)


def visible_clause(vis: Visibility) -> ColumnElement[bool]:
    """The visibility rule as a SQL condition on ArchiveItem, for catalogue listings
    (browsing by filters): the same rule the search engines apply inside their queries."""
    granted: ColumnElement[bool] = and_(
        ArchiveItem.id.in_(sorted(vis.granted_ids)),
        ArchiveItem.secrecy.in_(sorted(vis.granted_secrecy)), disposal_hidden_clause()) \
        if vis.granted_ids and vis.granted_secrecy else false()
    if not vis.secrecy:
        return granted
    cond: ColumnElement[bool] = ArchiveItem.secrecy.in_(sorted(vis.secrecy))
    if vis.see_all:
        return or_(cond, granted)
    cond = and_(cond, disposal_hidden_clause())
    ors = []
    if vis.owner_ids:
        ors.append(ArchiveItem.owner_id.in_(sorted(vis.owner_ids)))
    if vis.departments:
        ors.append(ArchiveItem.department.in_(sorted(vis.departments)))
    return or_(and_(cond, or_(*ors)), granted) if ors else granted


def visible_under(vis: Visibility, item: ArchiveItem) -> bool:
    """The one test of an item against a visibility (a user's or the operator's): the rule
    the search engines apply inside their queries (indexer.search.types.Visibility)."""
    if item.id in vis.granted_ids and item.secrecy in vis.granted_secrecy \
            and not in_disposal(item):
        return True
    if item.secrecy not in vis.secrecy:
        return False
    if not vis.see_all and in_disposal(item):
        return False
    return vis.see_all or item.owner_id in vis.owner_ids or (
        item.department is not None and item.department in vis.departments)


#: In place of the title of an item that a list of the paper side names, by its 档号, to a
#: reader who may not look it up (绝密): a box's paperwork, the two-set report, destruction.
WITHHELD_TITLE = "（题名不以电子方式提供）"


def listed_title(vis: Visibility, item: ArchiveItem) -> str:
    """An item's title in a list of what the paper side holds (every item is named there,
    by 档号): withheld unless `vis` may look the item up."""
    return item.title if visible_under(vis, item) else WITHHELD_TITLE


def listed_level_title(vis: Visibility, secrecy: str, title: str) -> str:
    """The title of a record that outlives its item (the destruction register), in a list
    read by the archive's roles: withheld where its 密级 is beyond what they look up."""
    return title if secrecy in vis.secrecy else WITHHELD_TITLE


# ----------------------------------------------------------------- the reader and the policy

#: The levels a viewing grant (an approved electronic loan) may open: never 机密 or 绝密.
GRANT_LEVELS = frozenset({Secrecy.PUBLIC, Secrecy.INTERNAL, Secrecy.SECRET})
#: The levels staff and department managers open within their scope without a loan.
SCOPE_OPEN = frozenset({Secrecy.PUBLIC, Secrecy.INTERNAL})
#: The levels the archive's roles open anywhere; 机密 is added at a reading-room workstation.
CUSTODIAN_OPEN = frozenset({Secrecy.PUBLIC, Secrecy.INTERNAL, Secrecy.SECRET})


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
    without a query per item; the same rule as `_live_grant`."""
    reader = reader_of(who)
    if reader.user is None or reader.granted is not None:
        return reader
    if reader.user.role in ALL_ROLES_SEE:  # they open by role, never by a grant (_scope_decision)
        return replace(reader, granted=frozenset())
    return replace(reader, granted=grants.granted_item_ids(session, reader.user.id, reader.at))


def _granted(session: Session | None, reader: Reader, user: User) -> frozenset[int]:
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


@dataclass(frozen=True)
class Decision:
    """May the reader open an item's content, and if not, why and what to do instead."""

    allowed: bool
    reason: Message | None = None
    #: What the reader can do: "loan" (申请借阅), "reading_room" (请到阅览室查阅),
    #: "archive" (联系档案室), "sign_in"; None when nothing helps.
    remedy: str | None = None


_ALLOW = Decision(True)
DENY_SIGN_IN = Decision(False, Message(N_("请先登录。")), "sign_in")
DENY_TOP_SECRET = Decision(False, Message(N_(
    "绝密档案从不以电子方式显示或借出。如需查阅，请联系档案室。")), "archive")
DENY_READING_ROOM = Decision(False, Message(N_(
    "机密档案只能在登记的阅览室终端上查阅（屏幕阅读，加水印，不能下载、打印或借出）。请到阅览室查阅。")),
    "reading_room")
DENY_CONFIDENTIAL = Decision(False, Message(N_(
    "机密档案不以电子方式向您提供，也不能借出电子件。如需查阅纸质原件，请联系档案室。")), "archive")
DENY_LOAN = Decision(False, Message(N_(
    "秘密档案须经批准的电子借阅（最长4小时）才能查看。请申请借阅。")), "loan")
DENY_SCOPE = Decision(False, Message(N_(
    "您无权查看该档案：它不在您的查阅范围内。如需查阅，请联系档案室。")), "archive")


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
            return _ALLOW
        return DENY_READING_ROOM
    in_scope = visible_under(visibility_for(user), item)
    if item.secrecy in SCOPE_OPEN and in_scope:
        return _ALLOW
    if _live_grant(reader, item):
        return _ALLOW
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


DENY_LENT_FOR_VIEWING = Decision(False, Message(N_(
    "借阅的档案只能在借阅期内在线查看，不能下载、打印或导出。")), None)


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
        return _ALLOW
    # staff and department managers: 秘密, or anything out of their scope, is open to them
    # only through a loan, which is for viewing
    user = user_of(who)
    in_scope = user is not None and visible_under(visibility_for(user), item)
    if item.secrecy == Secrecy.SECRET or not in_scope:
        return DENY_LENT_FOR_VIEWING
    return _ALLOW


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


def search_visibility(session: Session | None, who: Who) -> Visibility:
    """Which items' text a search by `who` may match (and count, facet and snip): exactly
    the items `may_open` allows, as the engines' Visibility (grants included)."""
    reader = reader_of(who)
    user = reader.user
    if user is None:
        return Visibility(secrecy=frozenset())
    if user.role in ALL_ROLES_SEE:
        levels = CUSTODIAN_OPEN | ({Secrecy.CONFIDENTIAL} if reader.reading_room else set())
        return Visibility(secrecy=frozenset(levels), see_all=True,
                          personal=can_see_personal(user))
    scope = visibility_for(user)
    granted = _granted(session, reader, user)
    return Visibility(secrecy=SCOPE_OPEN, owner_ids=scope.owner_ids,
                      departments=scope.departments, granted_ids=granted,
                      granted_secrecy=GRANT_LEVELS if granted else frozenset(),
                      personal=can_see_personal(user))


def lookup_visibility(session: Session | None, who: Who) -> Visibility:
    """Which catalogue entries `who` may list (browsing by filters): `may_look_up`."""
    reader = reader_of(who)
    user = reader.user
    scope = visibility_for(user)
    if user is None or scope.see_all or session is None:
        return scope
    granted = _granted(session, reader, user)
    return Visibility(secrecy=scope.secrecy, owner_ids=scope.owner_ids,
                      departments=scope.departments, granted_ids=granted,
                      granted_secrecy=GRANT_LEVELS if granted else frozenset())


def operator_search_visibility() -> Visibility:
    """The operator at the command line matches text as the archive's roles do outside the
    reading room: never 机密 (not in a terminal) or 绝密."""
    return Visibility(secrecy=CUSTODIAN_OPEN, see_all=True)


def can_view(user: Who, item: ArchiveItem) -> bool:
    """The item's catalogue entry is the user's to see (see `may_look_up`; content needs
    `may_open`)."""
    return may_look_up(user, item)


def can_see_customer(user: User | None, customer: Customer) -> bool:
    """A customer file is the user's to see (and to file items into) on the same terms as its
    items: the archive's roles see every customer, a department manager the department's,
    staff the customers they own."""
    vis = visibility_for(user)
    if not vis.secrecy:
        return False
    return vis.see_all or customer.owner_id in vis.owner_ids or (
        customer.department is not None and customer.department in vis.departments)


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


def can_cross_check(user: User | None) -> bool:
    """Records officers (and the archive's manager and administrators) sign cross-checks."""
    return user is not None and user.role in CHECK_ROLES


def require_cross_check(user: User | None) -> None:
    if not can_cross_check(user):
        raise PermissionDenied(N_("只有档案核查员可以核对纸质与电子档案。"))


def can_rescan(user: User | None, item: ArchiveItem) -> bool:
    """A rescan replaces scans of an item: the roles that fix an item's files upload it."""
    return can_repair_files(user, item)


def can_handle_rescans(user: User | None) -> bool:
    """The archivist's list of discrepancies to answer with a rescan."""
    return user is not None and user.role in FILE_REPAIR_ROLES


def require_rescan(user: User | None, item: ArchiveItem) -> None:
    if not can_rescan(user, item):
        raise PermissionDenied(N_("只有档案管理员、档案馆长和系统管理员可以上传重扫件。"))


# ----------------------------------------------------------------- personal data (privacy)
# The privacy right: reading resident ID and mobile numbers unmasked (service.privacy masks
# them for everyone else, on page texts, snippets, exports and the page images themselves),
# and opening items that hold ID copies. The administrator gives or takes it per user
# (User.privacy_right); left unset it follows the role: the archive's own roles, who work
# with the full record, have it.


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


def can_manage_locations(user: User | None) -> bool:
    """Archivists and the archive's managers register rooms, shelves, boxes and customers."""
    return user is not None and user.role in MANAGE_ROLES


def require_manage(user: User | None) -> None:
    if not can_manage_locations(user):
        raise PermissionDenied(N_("只有档案管理员可以进行此操作。"))


def can_print_labels(user: User | None) -> bool:
    """Box paperwork is the archive's own work: its roles print labels (DESIGN).

    A label describes the whole box, so only users who may see every item it can hold
    electronically print it; others see the box page with the items they may open.
    """
    return user is not None and user.role in ALL_ROLES_SEE


def can_read_two_set_report(user: User | None) -> bool:
    """The consistency report names every item, box and stored file with a fault; the roles
    that keep the two sets read it (None is the operator at the command line)."""
    return user is None or user.role in TWO_SET_REPORT_ROLES


def require_two_set_report(user: User | None) -> None:
    if not can_read_two_set_report(user):
        raise PermissionDenied(N_("只有档案管理员、核对员、档案室主任和系统管理员可以查看两套制核对报告。"))


def require_print_labels(user: User | None) -> None:
    """Box paperwork for `user`; None is the operator at the command line, who may print."""
    if user is not None and not can_print_labels(user):
        raise PermissionDenied(N_("只有档案室人员可以打印档案盒文书。"))


def can_edit_item(user: User | None, item: ArchiveItem) -> bool:
    """The archive's catalogue roles edit an item's record and arrange its pages, for the
    items they may open."""
    return user is not None and user.role in MANAGE_ROLES and can_view(user, item)


def require_edit_item(user: User | None, item: ArchiveItem) -> None:
    if not can_edit_item(user, item):
        raise PermissionDenied(N_("只有档案管理员可以修改档案著录或整理页面。"))


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


#: Who keeps the user accounts, and the fonds and categories the 档号 is built from.
ADMIN_ROLES = frozenset({Role.ADMIN})
SCHEME_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


def can_manage_users(user: User | None) -> bool:
    return user is not None and user.role in ADMIN_ROLES


def require_manage_users(user: User | None) -> None:
    if not can_manage_users(user):
        raise PermissionDenied(N_("只有系统管理员可以管理用户。"))


def can_manage_scheme(user: User | None) -> bool:
    """Fonds and categories (parts of every 档号): administrators and archive managers."""
    return user is not None and user.role in SCHEME_ROLES


def require_manage_scheme(user: User | None) -> None:
    if not can_manage_scheme(user):
        raise PermissionDenied(N_("只有档案室主任和系统管理员可以维护全宗和门类。"))


def require_view(user: Who, item: ArchiveItem) -> None:
    """The catalogue entry (`may_look_up`); a denial says why (绝密, out of scope)."""
    if not can_view(user, item):
        if item.secrecy == Secrecy.TOP_SECRET and user_of(user) is not None:
            raise PermissionDenied(DENY_TOP_SECRET.reason or "")
        raise PermissionDenied(DENY_SCOPE.reason or "")


# ----------------------------------------------------------------- registering items
# A user registers only what they can open afterwards: otherwise the upload ends in
# "识别完成" followed by a 403 on the item it just made. `None` is the operator at the command
# line, who registers the archive's holdings, 绝密 included (its electronic copy is kept, and
# never shown).


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


# ----------------------------------------------------------------- lending (借阅)
# A loan is requested for catalogue entries the borrower may look up (`may_look_up`); the
# lending desk may also register reading of paper it may look up (机密) for a borrower.

#: Who issues loans and takes them back at the counter (pages counted out and back).
LENDING_DESK_ROLES = frozenset({Role.ARCHIVIST, Role.MANAGER})
#: Who reads the register of all loans and the overdue list.
LOAN_REGISTER_ROLES = frozenset({Role.ARCHIVIST, Role.MANAGER, Role.EXECUTIVE, Role.ADMIN})


def loan_approver_role(kind: str, secrecies: Iterable[str]) -> Role:
    """The level a loan of items of these 密级 needs: the executive for any 秘密 item, and for
    reading 机密 (or 绝密) paper; the borrower's department manager otherwise."""
    levels = set(secrecies)
    if Secrecy.SECRET in levels or (kind == "paper" and levels & {Secrecy.CONFIDENTIAL,
                                                                   Secrecy.TOP_SECRET}):
        return Role.EXECUTIVE
    return Role.DEPT_MANAGER


def loan_approval_refusal(user: User | None, loan: Loan) -> Message | None:
    """Why `user` may not approve or reject `loan` (None: they may). Nobody decides their own
    loan; an executive decides any loan, a department manager those of the department that need
    no more than a department manager."""
    if user is None:
        return Message(N_("请先登录。"))
    if own_request(user, loan.requested_by, loan.borrower_id):
        return Message(N_("不能审批本人的借阅申请，请由其他审批人办理。"))
    if user.role == Role.EXECUTIVE:
        return None
    if loan.approver_role == Role.EXECUTIVE:
        return Message(N_("该借阅含秘密或机密档案，须由公司领导审批。"))
    if user.role == Role.DEPT_MANAGER and user.department and user.department == loan.department:
        return None
    return Message(N_("只有借阅部门（%(department)s）的部门负责人可以审批该借阅。"),
                   {"department": loan.department})


def require_approve_loan(user: User | None, loan: Loan) -> None:
    refusal = loan_approval_refusal(user, loan)
    if refusal is not None:
        raise PermissionDenied(refusal)


def can_approve_loans(user: User | None) -> bool:
    """The approvals queue is for department managers and executives."""
    return user is not None and user.role in {Role.DEPT_MANAGER, Role.EXECUTIVE}


def can_lend(user: User | None) -> bool:
    """Issuing and taking back loans, and registering a request for another borrower."""
    return user is not None and user.role in LENDING_DESK_ROLES


def require_lend(user: User | None) -> None:
    if not can_lend(user):
        raise PermissionDenied(N_("只有档案管理员可以办理借出和归还。"))


def can_return_loan(user: User | None, loan: Loan) -> bool:
    """The desk takes loans back; a borrower may also end their own electronic loan early."""
    return can_lend(user) or (user is not None and loan.kind == "electronic"
                              and user.id == loan.borrower_id)


def require_return_loan(user: User | None, loan: Loan) -> None:
    if not can_return_loan(user, loan):
        raise PermissionDenied(N_("只有档案管理员可以办理借出和归还。"))


def can_see_loan(user: User | None, loan: Loan) -> bool:
    """The borrower, whoever registered it, the lending desk and register readers, and an
    approver of its level see a loan."""
    if user is None:
        return False
    return (user.id == loan.borrower_id or user.username == loan.requested_by or can_lend(user)
            or can_read_loan_register(user)
            or (user.role in {Role.DEPT_MANAGER, Role.EXECUTIVE}
                and loan_approval_refusal(user, loan) is None))


def can_read_loan_register(user: User | None) -> bool:
    return user is not None and user.role in LOAN_REGISTER_ROLES


def require_loan_register(user: User | None) -> None:
    if not can_read_loan_register(user):
        raise PermissionDenied(N_("只有档案室人员和公司领导可以查看借阅登记簿。"))


# ----------------------------------------------------------------- statistics
#: Who reads the statistics of holdings, additions, use and condition (DESIGN: the managers
#: and the executive read them; the archivists keep the holdings they describe). They are
#: aggregates only: counts and sizes, never a title, so no 密级 is opened by reading them.
STATISTICS_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.EXECUTIVE, Role.ARCHIVIST})


def can_read_statistics(user: User | None) -> bool:
    """None is the operator at the command line."""
    return user is None or user.role in STATISTICS_ROLES


def require_statistics(user: User | None) -> None:
    if not can_read_statistics(user):
        raise PermissionDenied(N_("只有档案管理员、档案室主任、公司领导和系统管理员可以查看统计。"))


# ----------------------------------------------------------------- deletion and destruction
# An item held for deletion, or deleted or destroyed (a tombstone), is seen only by the
# archive's own roles (`see_all`), marked as such; for everyone else it is gone.
#: Who asks for a deletion: the roles that keep the catalogue.
DELETION_REQUEST_ROLES = MANAGE_ROLES
#: Who approves, rejects and undoes deletions: the archive manager (DESIGN).
DELETION_APPROVE_ROLES = frozenset({Role.MANAGER})
#: Who appraises items due for destruction and confirms a destruction: archivists.
APPRAISE_ROLES = frozenset({Role.ARCHIVIST})
CONFIRM_DESTRUCTION_ROLES = frozenset({Role.ARCHIVIST})
#: 秘密 and above: destruction approved by the executive; below, by the office head.
EXECUTIVE_APPROVES = frozenset({Secrecy.SECRET, Secrecy.CONFIDENTIAL, Secrecy.TOP_SECRET})


def in_disposal(item: ArchiveItem) -> bool:
    """Held for deletion, or a tombstone."""
    return item.deletion_due_at is not None or item.status in TOMBSTONES


def disposal_hidden_clause() -> ColumnElement[bool]:
    """`in_disposal` negated, as SQL: what users outside the archive's roles may list."""
    return and_(ArchiveItem.deletion_due_at.is_(None),
                ArchiveItem.status.notin_(sorted(TOMBSTONES)))


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


#: Who reads the audit trail (审计日志): the administrator and the archive manager.
AUDIT_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


def can_read_audit(user: User | None) -> bool:
    """The audit trail, on its page and exported; None is the command line's operator."""
    return user is None or user.role in AUDIT_ROLES


def require_read_audit(user: User | None) -> None:
    if not can_read_audit(user):
        raise PermissionDenied(N_("只有系统管理员和档案室主任可以查看审计日志。"))


# ----------------------------------------------------------------- 四性检测
#: The roles that manage the archive run the four-property check and read its reports.
FOUR_PROPERTY_ROLES = MANAGE_ROLES


def can_check_four_properties(user: User | None) -> bool:
    """None is the command line's operator."""
    return user is None or user.role in FOUR_PROPERTY_ROLES


def require_four_properties(user: User | None) -> None:
    if not can_check_four_properties(user):
        raise PermissionDenied(N_("只有档案管理员、档案室主任和系统管理员可以运行和查看四性检测。"))
