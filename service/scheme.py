"""Fonds (全宗) and categories (门类) kept from the browser: the parts every 档号 is built
from. A code, once used in a 档号, never changes; names may be corrected."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .access import require_manage_scheme
from .audit import record
from .catalogue import create_fonds, get_fonds, list_categories, upsert_category
from .errors import N_, InvalidInput
from .fields import check_text
from .models import Category, Fonds, User


def list_fonds(session: Session) -> list[Fonds]:
    return list(session.scalars(select(Fonds).order_by(Fonds.code)))


def categories(session: Session) -> list[Category]:
    return list_categories(session)


def add_fonds(session: Session, actor: User | None, code: str, name: str) -> Fonds:
    require_manage_scheme(actor)
    code, name = (code or "").strip().upper(), (name or "").strip()
    check_text(Fonds.name, name, "全宗名称")
    fonds = create_fonds(session, code, name)
    record(session, actor.username if actor else "cli", "fonds.add", f"fonds:{code}",
           {"name": fonds.name})
    return fonds


def rename_fonds(session: Session, actor: User | None, code: str, name: str) -> Fonds:
    require_manage_scheme(actor)
    name = (name or "").strip()
    if not name:
        raise InvalidInput(N_("全宗名称不能为空。"))
    check_text(Fonds.name, name, "全宗名称")
    fonds = get_fonds(session, code)
    before, fonds.name = fonds.name, name
    record(session, actor.username if actor else "cli", "fonds.rename", f"fonds:{code}",
           {"name": [before, name]})
    return fonds


def save_category(session: Session, actor: User | None, code: str, name: str,
                  name_en: str = "") -> Category:
    """Add a category, or correct the names of one (its code stays)."""
    require_manage_scheme(actor)
    code, name, name_en = (code or "").strip().upper(), (name or "").strip(), (name_en or "").strip()
    if not name:
        raise InvalidInput(N_("门类名称不能为空。"))
    check_text(Category.name, name, "门类名称")
    check_text(Category.name_en, name_en, "英文名称")
    cat = upsert_category(session, code, name, name_en)
    record(session, actor.username if actor else "cli", "category.save", f"category:{code}",
           {"name": name, "name_en": name_en})
    return cat
