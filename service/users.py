"""Accounts: creation, password check and API tokens.

Passwords are hashed with Werkzeug's scrypt/pbkdf2 helpers (a maintained library, not
home-made crypto); API tokens are random and stored only as their SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .errors import Conflict, InvalidInput
from .models import ROLES, User


def create_user(session: Session, username: str, password: str, *, role: str = "staff",
                display_name: str = "", department: str | None = None,
                must_change_password: bool = False) -> User:
    if role not in ROLES:
        raise InvalidInput(f"角色“{role}”无效，可选：{'、'.join(ROLES)}。/ Unknown role {role!r}.")
    if not username or len(username) > 64:
        raise InvalidInput("用户名不能为空且不超过64个字符。/ Username must be 1–64 characters.")
    if len(password) < 8:
        raise InvalidInput("密码至少8个字符。/ Password must have at least 8 characters.")
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"用户“{username}”已存在。/ User {username!r} already exists.")
    user = User(username=username, password_hash=generate_password_hash(password), role=role,
                display_name=display_name or username, department=department,
                must_change_password=must_change_password)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("密码至少8个字符。/ Password must have at least 8 characters.")
    user.password_hash = generate_password_hash(password)
    user.must_change_password = False


def issue_token(user: User) -> str:
    """Create a new API token for the user; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    user.api_token_hash = hashlib.sha256(token.encode()).hexdigest()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    if not token:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    user = session.scalar(select(User).where(User.api_token_hash == digest))
    return user if user is not None and user.active else None


def generate_password() -> str:
    return secrets.token_urlsafe(12)
