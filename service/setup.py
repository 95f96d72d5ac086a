"""`dangan init`: create the data directory, schema, administrator, first fonds and categories."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from .archive import Archive
from .audit import anchor_chain
from .catalogue import create_fonds, upsert_category
from .migrate import upgrade
from .models import Category, Fonds
from .users import create_user, find_user, generate_password
from .vocab import DEFAULT_CATEGORIES, Role


@dataclass
class InitResult:
    data_dir: str
    admin_created: bool
    admin_password: str | None
    fonds: str


def ensure_secret_key(archive: Archive) -> str:
    """The secret signing web sessions: DANGAN_SECRET_KEY when set (web replicas on several
    machines share it), else one generated per installation and kept in the data directory
    (mode 600)."""
    if archive.settings.secret_key:
        return archive.settings.secret_key
    path = archive.settings.secret_key_file
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def init_archive(archive: Archive, *, admin_password: str | None = None, fonds: str = "J001",
                 fonds_name: str | None = None) -> InitResult:
    """Idempotent: running it again only migrates and fills what is missing."""
    archive.settings.data_dir.mkdir(parents=True, exist_ok=True)
    ensure_secret_key(archive)
    upgrade(archive.engine)
    password = None
    created = False
    with archive.session() as s:
        if find_user(s, "admin") is None:
            password = admin_password or generate_password()
            create_user(s, "admin", password, role=Role.ADMIN, display_name="系统管理员",
                        must_change_password=admin_password is None)
            created = True
        if s.scalar(select(Fonds).where(Fonds.code == fonds)) is None:
            create_fonds(s, fonds, fonds_name or "本单位全宗")
        if s.scalar(select(Category.id).limit(1)) is None:
            for code, name, name_en in DEFAULT_CATEGORIES:
                upsert_category(s, code, name, name_en)
    # Touch the store so a misconfigured S3 URL fails here, not at the first upload; anchor
    # the audit chain as it stands (a chain from before anchors, or one whose last anchor
    # write a crash lost).
    archive.store.describe()
    anchor_chain(archive)
    return InitResult(str(archive.settings.data_dir), created, password, fonds)
