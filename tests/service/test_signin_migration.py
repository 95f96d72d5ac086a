"""Migration 0005 gives every existing account a session nonce, so existing users can sign in
(and sign out everywhere) after the upgrade, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from service.db import get_engine, session_scope
from service.migrate import alembic_config, upgrade
from service.models import User
from service.users import authenticate


def test_existing_users_get_a_session_nonce(db_url: str) -> None:
    from werkzeug.security import generate_password_hash

    engine = get_engine(db_url)
    cfg = alembic_config(db_url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        users = sa.table("app_user", *(sa.column(c) for c in (
            "username", "display_name", "password_hash", "role", "active",
            "must_change_password", "created_at")))
        for name in ("old1", "old2"):
            conn.execute(users.insert().values(
                username=name, display_name=name, password_hash=generate_password_hash("pw-123456"),
                role="staff", active=True, must_change_password=False,
                created_at=sa.func.now()))
    upgrade(engine)
    with session_scope(engine) as s:
        nonces = s.scalars(sa.select(User.session_nonce)).all()
        assert authenticate(s, "old1", "pw-123456") is not None
    assert len(nonces) == 2 and all(n and len(n) == 32 for n in nonces) and len(set(nonces)) == 2
