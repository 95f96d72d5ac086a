"""Keeping user accounts from the browser: create, change role, disable, reset a password.

The rules of an account (roles, name and password lengths, hashing) stay in service.users;
this module adds who may do it (service.access) and the audit trail. A password set by an
administrator is a one-time password: the user must change it at the next sign-in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from .access import require_manage_users
from .audit import record
from .errors import N_, InvalidInput, Listing
from .fields import check_text
from .models import User
from .users import create_user, end_sessions, generate_password, get_user, set_password
from .vocab import ROLES


def list_accounts(session: Session, actor: User | None) -> list[User]:
    require_manage_users(actor)
    return list(session.scalars(select(User).order_by(User.username)))


def _clean(value: str | None, column: InstrumentedAttribute[Any], label: str) -> str | None:
    value = (value or "").strip()
    check_text(column, value, label)
    return value or None


#: The administrator's choices for a user's privacy right (User.privacy_right), as forms
#: and the command line name them: follow the role, given, taken.
PRIVACY_CHOICES = {"role": None, "yes": True, "no": False}


def privacy_choice(value: str | None) -> bool | None:
    """`role` / `yes` / `no` (blank: `role`) as the stored privacy right."""
    key = (value or "role").strip()
    if key not in PRIVACY_CHOICES:
        raise InvalidInput(N_("个人信息查看权限“%(value)s”无效，可选：%(choices)s。"), value=key,
                           choices=Listing(tuple(PRIVACY_CHOICES)))
    return PRIVACY_CHOICES[key]


def privacy_choice_of(user: User) -> str:
    """The form's value for the user's stored privacy right."""
    return {None: "role", True: "yes", False: "no"}[user.privacy_right]


def add_account(session: Session, actor: User | None, username: str, role: str, *,
                display_name: str | None = None, department: str | None = None,
                privacy: str | None = None) -> tuple[User, str]:
    """A new account with a one-time password (returned once, to hand to the user);
    `privacy` is the administrator's choice of its privacy right (see `privacy_choice`)."""
    require_manage_users(actor)
    name = (username or "").strip()
    display = _clean(display_name, User.display_name, "姓名") or ""
    dept = _clean(department, User.department, "部门")
    right = privacy_choice(privacy)
    password = generate_password()
    user = create_user(session, name, password, role=role, display_name=display,
                       department=dept, must_change_password=True)
    user.privacy_right = right
    record(session, actor.username if actor else "cli", "user.add", f"user:{name}",
           {"role": role, "department": dept, "privacy_right": right})
    return user, password


def update_account(session: Session, actor: User | None, username: str, *, role: str,
                   department: str | None, display_name: str | None,
                   privacy: str | None = None) -> User:
    """Role, department, name and (`privacy` given) the privacy right of an account."""
    require_manage_users(actor)
    user = get_user(session, username)
    if role not in ROLES:
        raise InvalidInput(N_("角色“%(role)s”无效，可选：%(choices)s。"), role=role,
                           choices=Listing(tuple(ROLES)))
    if actor is not None and user.id == actor.id and role != user.role:
        raise InvalidInput(N_("不能修改自己的角色。"))
    right = user.privacy_right if privacy is None else privacy_choice(privacy)
    before = {"role": user.role, "department": user.department,
              "display_name": user.display_name, "privacy_right": user.privacy_right}
    user.role = role
    user.department = _clean(department, User.department, "部门")
    user.display_name = _clean(display_name, User.display_name, "姓名") or user.username
    user.privacy_right = right
    after = {"role": user.role, "department": user.department,
             "display_name": user.display_name, "privacy_right": user.privacy_right}
    if before["role"] != after["role"]:
        end_sessions(user)  # what the user may see changed: sign in again
    record(session, actor.username if actor else "cli", "user.update", f"user:{username}",
           {k: [before[k], after[k]] for k in before if before[k] != after[k]})
    return user


def set_active(session: Session, actor: User | None, username: str, active: bool) -> User:
    """Disable (every session and the API token end at once) or enable an account."""
    require_manage_users(actor)
    user = get_user(session, username)
    if actor is not None and user.id == actor.id and not active:
        raise InvalidInput(N_("不能停用自己的账户。"))
    user.active = active
    if not active:
        end_sessions(user)
        user.api_token_hash = None
    record(session, actor.username if actor else "cli",
           "user.enable" if active else "user.disable", f"user:{username}", None)
    return user


def reset_password(session: Session, actor: User | None, username: str) -> str:
    """A new one-time password for the account (the old one, its sessions and API token end)."""
    require_manage_users(actor)
    user = get_user(session, username)
    password = generate_password()
    set_password(user, password)
    user.must_change_password = True
    record(session, actor.username if actor else "cli", "user.reset_password",
           f"user:{username}", None)
    return password
