"""Role groups, and the rights that hang on the role alone (no item involved): who
manages the catalogue, users and the 档号 scheme, cross-checks, prints box paperwork, reads
the two-set report, statistics, the audit trail and the 四性检测 reports.
"""

from __future__ import annotations

from ..errors import N_, PermissionDenied
from ..models import User
from ..vocab import Role

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


def can_cross_check(user: User | None) -> bool:
    """Records officers (and the archive's manager and administrators) sign cross-checks."""
    return user is not None and user.role in CHECK_ROLES


def require_cross_check(user: User | None) -> None:
    if not can_cross_check(user):
        raise PermissionDenied(N_("只有档案核查员可以核对纸质与电子档案。"))


def can_handle_rescans(user: User | None) -> bool:
    """The archivist's list of discrepancies to answer with a rescan."""
    return user is not None and user.role in FILE_REPAIR_ROLES


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


#: Who reads the audit trail (审计日志): the administrator and the archive manager.
AUDIT_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


def can_read_audit(user: User | None) -> bool:
    """The audit trail, on its page and exported; None is the command line's operator."""
    return user is None or user.role in AUDIT_ROLES


def require_read_audit(user: User | None) -> None:
    if not can_read_audit(user):
        raise PermissionDenied(N_("只有系统管理员和档案室主任可以查看审计日志。"))


#: The roles that manage the archive run the four-property check and read its reports.
FOUR_PROPERTY_ROLES = MANAGE_ROLES


def can_check_four_properties(user: User | None) -> bool:
    """None is the command line's operator."""
    return user is None or user.role in FOUR_PROPERTY_ROLES


def require_four_properties(user: User | None) -> None:
    if not can_check_four_properties(user):
        raise PermissionDenied(N_("只有档案管理员、档案室主任和系统管理员可以运行和查看四性检测。"))
