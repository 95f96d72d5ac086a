"""Who may see what: the visibility handed to the search engine and checked on every item.

- 绝密 is never shown electronically, to anyone.
- The archive's own roles (administrator, archive manager, executive, archivist, records
  officer) see every customer file up to 机密.
- A department manager sees the department's files; staff see the customer files they own;
  both up to 秘密 (机密 needs the reading room; 秘密 loans need approval, not search hiding).
- How an item's content may leave the system (`handling`): 绝密 content (text, pages) never
  leaves in any form, not even on the command line; 机密 is read on screen only: no
  download, no full text in the API or CLI output, no page image kept in a browser cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_

from indexer.search.types import Visibility

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
    if not vis.secrecy:
        return false()
    cond: ColumnElement[bool] = ArchiveItem.secrecy.in_(sorted(vis.secrecy))
    if vis.see_all:
        return cond
    cond = and_(cond, disposal_hidden_clause())
    ors = []
    if vis.owner_ids:
        ors.append(ArchiveItem.owner_id.in_(sorted(vis.owner_ids)))
    if vis.departments:
        ors.append(ArchiveItem.department.in_(sorted(vis.departments)))
    return and_(cond, or_(*ors)) if ors else false()


def visible_under(vis: Visibility, item: ArchiveItem) -> bool:
    """The one test of an item against a visibility (a user's or the operator's)."""
    if item.secrecy not in vis.secrecy:
        return False
    if not vis.see_all and in_disposal(item):
        return False
    return vis.see_all or item.owner_id in vis.owner_ids or (
        item.department is not None and item.department in vis.departments)


def can_view(user: User | None, item: ArchiveItem) -> bool:
    return visible_under(visibility_for(user), item)


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


def can_download(user: User | None, item: ArchiveItem) -> bool:
    """机密 items are read on screen only: no download, no print."""
    return can_view(user, item) and handling(item).export


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


def can_see_personal(user: User | None) -> bool:
    """The archive's own roles, who work with the full record, see personal data too
    (ID and mobile numbers); everyone else sees them masked (service.privacy)."""
    return user is not None and user.role in ALL_ROLES_SEE


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


def require_view(user: User | None, item: ArchiveItem) -> None:
    if not can_view(user, item):
        raise PermissionDenied(N_("您无权查看该档案。"))


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
# A loan is requested for catalogue entries the borrower may look up (their scope, at any
# 密级: the paper is read on the premises even where the scan is never shown).

#: Who issues loans and takes them back at the counter (pages counted out and back).
LENDING_DESK_ROLES = frozenset({Role.ARCHIVIST, Role.MANAGER})
#: Who reads the register of all loans and the overdue list.
LOAN_REGISTER_ROLES = frozenset({Role.ARCHIVIST, Role.MANAGER, Role.EXECUTIVE, Role.ADMIN})


def can_look_up(user: User | None, item: ArchiveItem) -> bool:
    """The item's catalogue entry (档号, title, where the paper is) is within the user's scope,
    whatever its 密级, so a loan of it can be requested."""
    vis = visibility_for(user)
    return user is not None and (vis.see_all or item.owner_id in vis.owner_ids or (
        item.department is not None and item.department in vis.departments))


def look_up_clause(user: User | None) -> ColumnElement[bool]:
    """`can_look_up` as a SQL condition on ArchiveItem (the loan form's 档号 picker)."""
    if user is None:
        return false()
    vis = visibility_for(user)
    return visible_clause(Visibility(secrecy=frozenset(SECRECY_LEVELS), see_all=vis.see_all,
                                     owner_ids=vis.owner_ids, departments=vis.departments))


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
    if user.id == loan.borrower_id or user.username == loan.requested_by:
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
    assert user is not None
    if user.username == requested_by:
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
    assert user is not None
    if user.username == appraised_by:
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
