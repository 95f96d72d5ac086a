"""客户档案: the customer list, a customer's card with items by section, and registration."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from service.access import require_manage
from service.browse import (
    customer_file,
    edit_customer,
    item_counts_by_customer,
    list_customers,
    list_users,
    register_customer,
)
from service.catalogue import CUSTOMER_FIELDS, get_customer
from service.errors import DanganError, PermissionDenied
from service.vocab import CUSTOMER_GRADES, CUSTOMER_KINDS

from .ctx import db, me, tr
from .search_views import section_names, status_label

bp = Blueprint("customers", __name__)


def _list(error: str | None = None, values: dict | None = None, status: int = 200) -> ResponseReturnValue:
    s = db()
    q = request.args.get("q", "").strip()
    customers = list_customers(s, me(), q)
    return render_template("customers.html", customers=customers, q=q,
                           counts=item_counts_by_customer(s, me(), customers),
                           kinds=CUSTOMER_KINDS, grades=CUSTOMER_GRADES, users=list_users(s),
                           error=error, values=values or {}), status


@bp.route("/customers")
@login_required
def index() -> ResponseReturnValue:
    return _list()


@bp.route("/customers/new", methods=["POST"])
@login_required
def new() -> ResponseReturnValue:
    f = request.form
    try:
        cust = register_customer(
            db(), me(), f.get("number", ""), f.get("name", ""), kind=f.get("kind", "企业"),
            grade=f.get("grade", "普通"), industry=f.get("industry"), contacts=f.get("contacts"),
            owner_username=(f.get("owner") or "").strip() or None,
            department=f.get("department"), phone=f.get("phone"), address=f.get("address"))
        db().commit()
    except DanganError as exc:
        db().rollback()
        return _list(tr(exc.msg), f.to_dict(), 400)
    flash(_("已登记客户 %(name)s。", name=cust.name), "success")
    return redirect(url_for("customers.show", number=cust.number))


@bp.route("/customers/<number>")
@login_required
def show(number: str) -> ResponseReturnValue:
    cf = customer_file(db(), me(), number)
    names = section_names()
    sections = [(code, names.get(code, name), items) for code, name, items in cf.sections]
    return render_template("customer.html", cf=cf, sections=sections, status_label=status_label)


def _edit_form(number: str, error: str | None = None, values: dict | None = None,
               status: int = 200) -> ResponseReturnValue:
    require_manage(me())
    cust = get_customer(db(), number)
    owner = next((u for u in list_users(db()) if u.id == cust.owner_id), None)
    current = {k: getattr(cust, k) or "" for k in CUSTOMER_FIELDS}
    current["owner"] = owner.username if owner else ""
    return render_template("customer_edit.html", c=cust, values=values or current,
                           kinds=CUSTOMER_KINDS, grades=CUSTOMER_GRADES, users=list_users(db()),
                           error=error), status


@bp.route("/customers/<number>/edit", methods=["GET", "POST"])
@login_required
def edit(number: str) -> ResponseReturnValue:
    if request.method == "GET":
        return _edit_form(number)
    f = request.form
    try:
        edit_customer(db(), me(), number, {k: f.get(k) for k in CUSTOMER_FIELDS if k in f},
                      (f.get("owner") or "").strip() or None)
        db().commit()
    except PermissionDenied:
        raise
    except DanganError as exc:
        db().rollback()
        return _edit_form(number, tr(exc.msg), f.to_dict(), 400)
    flash(_("已保存客户 %(number)s。", number=number), "success")
    return redirect(url_for("customers.show", number=number))
