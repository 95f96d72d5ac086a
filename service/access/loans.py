"""Lending (借阅): who approves a loan (by the 密级 of its items), who issues and takes
back, who sees a loan and the register. A loan is requested for catalogue entries the
borrower may look up (`may_look_up`); the lending desk may also register reading of paper
it may look up (机密) for a borrower.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import N_, Message, PermissionDenied
from ..models import Loan, User
from ..vocab import Role, Secrecy
from .requests import own_request

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
