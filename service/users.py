"""Accounts: creation, password check and API tokens.

Passwords are hashed with Werkzeug's scrypt/pbkdf2 helpers (a maintained library, not
home-made crypto); API tokens are random and stored only as their SHA-256.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .errors import N_, Conflict, InvalidInput, Listing, Message, NotFound, PermissionDenied
from .models import User
from .models.users import new_nonce
from .vocab import ROLES, Role


def find_user(session: Session, username: str) -> User | None:
    """The account with this user name, or None: the one lookup of a user by name."""
    return session.scalar(select(User).where(User.username == username))


def get_user(session: Session, username: str) -> User:
    """The account with this user name, or NotFound."""
    user = find_user(session, username)
    if user is None:
        raise NotFound(N_("用户“%(name)s”不存在。"), name=username)
    return user


def create_user(session: Session, username: str, password: str, *, role: str = Role.STAFF,
                display_name: str = "", department: str | None = None,
                must_change_password: bool = False) -> User:
    if role not in ROLES:
        raise InvalidInput(N_("角色“%(role)s”无效，可选：%(choices)s。"), role=role,
                           choices=Listing(tuple(ROLES)))
    if not username or len(username) > 64:
        raise InvalidInput(N_("用户名不能为空且不超过64个字符。"))
    if len(password) < 8:
        raise InvalidInput(N_("密码至少8个字符。"))
    if find_user(session, username):
        raise Conflict(N_("用户“%(name)s”已存在。"), name=username)
    user = User(username=username, password_hash=generate_password_hash(password), role=role,
                display_name=display_name or username, department=department,
                must_change_password=must_change_password)
    session.add(user)
    session.flush()
    return user


@functools.cache
def _dummy_hash() -> str:
    """A hash to check unknown names against, made like real ones (same cost)."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this password, or None. Unknown names cost a hash check too, so
    the time taken does not tell which names exist."""
    user = find_user(session, username)
    ok = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    if user is None or not ok or not user.active:
        return None
    return user


def end_sessions(user: User) -> None:
    """Every session of this user signed in before now stops working (cookies copied
    elsewhere included): the session cookie carries the nonce this replaces."""
    user.session_nonce = new_nonce()


def set_password(user: User, password: str) -> None:
    """A new password ends every credential of the old one: sessions and the API token (a
    token copied by whoever knew the old password must not outlive it)."""
    if len(password) < 8:
        raise InvalidInput(N_("密码至少8个字符。"))
    user.password_hash = generate_password_hash(password)
    user.must_change_password = False
    user.api_token_hash = None
    end_sessions(user)


PASSWORD_CHANGE_FIRST = Message(N_("请先修改密码。"))


def require_password_changed(user: User) -> None:
    """A user who must change the password may do nothing else first (not even get an API
    token, which would outlive the password)."""
    if user.must_change_password:
        raise PermissionDenied(PASSWORD_CHANGE_FIRST)


def issue_token(user: User) -> str:
    """Create a new API token for the user; only its hash is kept."""
    require_password_changed(user)
    token = secrets.token_urlsafe(32)
    user.api_token_hash = hashlib.sha256(token.encode()).hexdigest()
    return token


#: The signed-in user of a web request, built once: `Session.get` builds and keys its
#: statement again on every call (~0.1 ms of every page).
_BY_ID = select(User).where(User.id == bindparam("id"))


def user_for_session(session: Session, user_id: int, nonce: str) -> User | None:
    """The account a session cookie names (its id and the nonce it was signed in with), or
    None when it is gone, disabled, or signed out since (a new nonce ends every session)."""
    user = session.execute(_BY_ID, {"id": user_id}).scalar_one_or_none()
    if user is None or not user.active or not user.session_nonce \
            or not hmac.compare_digest(user.session_nonce, nonce):
        return None
    return user


def user_for_token(session: Session, token: str) -> User | None:
    if not token:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    user = session.scalar(select(User).where(User.api_token_hash == digest))
    return user if user is not None and user.active else None


def generate_password() -> str:
    return secrets.token_urlsafe(12)
