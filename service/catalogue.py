"""Looking up and creating the catalogue's reference records: fonds, categories, customers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import literal, null, select, union_all
from sqlalchemy.orm import Session

from .access import can_see_customer
from .codes import preview, validate_parts
from .errors import N_, Conflict, InvalidInput, Listing, Message, NotFound, msg
from .fields import check_text
from .models import Category, Customer, Fonds, User
from .vocab import CUSTOMER_GRADES, CUSTOMER_KINDS

_CUSTOMER_RE = re.compile(r"^KH-\d{4}(0[1-9]|1[0-2])\d{3}$")


def get_fonds(session: Session, code: str) -> Fonds:
    fonds = session.scalar(select(Fonds).where(Fonds.code == code))
    if fonds is None:
        known = tuple(session.scalars(select(Fonds.code).order_by(Fonds.code)))
        raise NotFound(N_("全宗“%(code)s”不存在（已有：%(known)s）。请先创建该全宗或改用已有全宗号。"),
                       code=code, known=Listing(known) if known else Message(N_("无")))
    return fonds


def create_fonds(session: Session, code: str, name: str) -> Fonds:
    validate_parts(code, "WS", 2000, "Y", None)
    if session.scalar(select(Fonds).where(Fonds.code == code)):
        raise Conflict(N_("全宗“%(code)s”已存在。"), code=code)
    fonds = Fonds(code=code, name=name or code)
    session.add(fonds)
    session.flush()
    return fonds


def preview_code(session: Session, fonds: str, category: str, year: int, retention: str,
                 org: str | None) -> str:
    """The 档号 group a registration would get (codes.preview), for a fonds and category
    that exist: the preview refuses what the registration itself would refuse."""
    code = preview(fonds, category, year, retention, org)  # the form of every part first
    get_fonds(session, fonds)
    get_category(session, category)
    return code


def get_category(session: Session, code: str) -> Category:
    cat = session.scalar(select(Category).where(Category.code == code))
    if cat is None:
        known = tuple(msg(N_("%(code)s（%(name)s）"), code=c.code, name=c.name)
                      for c in list_categories(session))
        raise NotFound(N_("门类代码“%(code)s”不存在，可选：%(known)s。"), code=code,
                       known=Listing(known) if known else Message(N_("无")))
    return cat


def list_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.code)))


@dataclass(frozen=True, slots=True)
class CategoryName:
    """A category's code and names: what a page that lists every category shows of each."""

    code: str
    name: str
    name_en: str


_CATEGORY = Category.__table__.c
_FONDS = Fonds.__table__.c
#: The fonds' and categories' codes and names, as plain columns in one statement (no ORM
#: objects): the search page's filter form reads them on every request. Rows of (0 for a
#: fonds, 1 for a category, code, name, English name).
_SCHEME_NAMES = union_all(
    select(literal(0).label("kind"), _FONDS.code, _FONDS.name, null().label("name_en")),
    select(literal(1), _CATEGORY.code, _CATEGORY.name, _CATEGORY.name_en),
).order_by("kind", "code")


def scheme_names(session: Session) -> tuple[dict[str, str], dict[str, CategoryName]]:
    """Every fonds' name by code, and every category by code, in code order."""
    fonds: dict[str, str] = {}
    categories: dict[str, CategoryName] = {}
    for kind, code, name, name_en in session.execute(_SCHEME_NAMES):
        if kind == 0:
            fonds[code] = name
        else:
            categories[code] = CategoryName(code, name, name_en)
    return fonds, categories


def upsert_category(session: Session, code: str, name: str, name_en: str = "") -> Category:
    validate_parts("J001", code, 2000, "Y", None)
    cat = session.scalar(select(Category).where(Category.code == code))
    if cat is None:
        cat = Category(code=code, name=name, name_en=name_en)
        session.add(cat)
    else:
        cat.name, cat.name_en = name, name_en or cat.name_en
    session.flush()
    return cat


def validate_customer_number(number: str) -> None:
    """Customer numbers are KH-YYYYMMNNN (year, month, sequence), e.g. KH-202405001."""
    if not _CUSTOMER_RE.match(number or ""):
        raise InvalidInput(N_("客户编号“%(number)s”无效：格式为 KH-年月-序号（KH-YYYYMMNNN），如 KH-202405001。"),
                           number=number)


def visible_customer(session: Session, user: User | None, number: str) -> Customer:
    """The customer `user` may see (and file items into).

    "Does not exist" and "not yours" give the same answer, so a user cannot probe which
    customer numbers exist.
    """
    cust = session.scalar(select(Customer).where(Customer.number == number))
    if cust is None or not can_see_customer(user, cust):
        raise NotFound(N_("客户编号“%(number)s”不存在，或不是您负责的客户。"), number=number)
    return cust


def get_customer(session: Session, number: str) -> Customer:
    cust = session.scalar(select(Customer).where(Customer.number == number))
    if cust is None:
        raise NotFound(N_("客户编号“%(number)s”不存在，请先登记该客户。"), number=number)
    return cust


def _check_customer(name: str, kind: str, grade: str, texts: dict[str, str | None]) -> None:
    """The one check of a customer's fields, for registering and for editing."""
    if not (name or "").strip():
        raise InvalidInput(N_("客户名称不能为空。"))
    labels = {"name": N_("客户名称"), "industry": N_("行业"), "contacts": N_("联系人"),
              "phone": N_("电话"), "address": N_("地址"), "department": N_("部门")}
    for key, value in {"name": name, **texts}.items():
        check_text(getattr(Customer, key), value, labels[key])
    if kind not in CUSTOMER_KINDS:
        raise InvalidInput(N_("客户类型应为 %(choices)s。"), choices=Listing(CUSTOMER_KINDS))
    if grade not in CUSTOMER_GRADES:
        raise InvalidInput(N_("客户等级应为 %(choices)s。"), choices=Listing(CUSTOMER_GRADES))


def create_customer(session: Session, number: str, name: str, *, kind: str = "企业",
                    grade: str = "普通", industry: str | None = None,
                    contacts: str | None = None, owner: User | None = None,
                    department: str | None = None, phone: str | None = None,
                    address: str | None = None) -> Customer:
    validate_customer_number(number)
    _check_customer(name, kind, grade, {"industry": industry, "contacts": contacts,
                                        "phone": phone, "address": address,
                                        "department": department})
    if session.scalar(select(Customer).where(Customer.number == number)):
        raise Conflict(N_("客户编号“%(number)s”已存在。"), number=number)
    cust = Customer(number=number, name=name, kind=kind, grade=grade, industry=industry,
                    contacts=contacts, phone=phone, address=address,
                    owner_id=owner.id if owner else None,
                    department=department or (owner.department if owner else None))
    session.add(cust)
    session.flush()
    return cust


#: The customer fields an edit may change (the number, part of every reference, stays).
CUSTOMER_FIELDS = ("name", "kind", "grade", "industry", "contacts", "phone", "address",
                   "department")


def update_customer(session: Session, number: str, values: dict[str, str | None],
                    owner: User | None) -> dict[str, list]:
    """Change a customer's fields; returns each changed field's [previous, new] value."""
    cust = get_customer(session, number)
    new = {k: getattr(cust, k) for k in CUSTOMER_FIELDS}
    new.update({k: ((v or "").strip() or None) for k, v in values.items() if k in CUSTOMER_FIELDS})
    _check_customer(new["name"] or "", new["kind"] or "", new["grade"] or "",
                    {k: new[k] for k in CUSTOMER_FIELDS if k not in ("name", "kind", "grade")})
    changes: dict[str, list] = {}
    for k in CUSTOMER_FIELDS:
        if getattr(cust, k) != new[k]:
            changes[k] = [getattr(cust, k), new[k]]
            setattr(cust, k, new[k])
    owner_id = owner.id if owner else None
    if cust.owner_id != owner_id:
        changes["owner_id"] = [cust.owner_id, owner_id]
        cust.owner_id = owner_id
    session.flush()
    return changes
