"""Users and roles, fonds and categories kept from the browser: the views parse the forms,
call service.accounts / service.scheme (which decide who may) and render."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from service.access import can_see_personal, require_manage_scheme, require_manage_users
from service.accounts import (
    add_account,
    list_accounts,
    privacy_choice_of,
    reset_password,
    set_active,
    update_account,
)
from service.errors import N_, DanganError, InvalidInput, PermissionDenied
from service.scheme import add_fonds, categories, list_fonds, rename_fonds, save_category
from service.vocab import ROLES

from .ctx import db, me, tr

bp = Blueprint("admin", __name__)


def _users_page(error: str | None = None, values: dict | None = None,
                status: int = 200) -> ResponseReturnValue:
    return render_template("admin_users.html", users=list_accounts(db(), me()), roles=ROLES,
                           error=error, values=values or {}, privacy_choice_of=privacy_choice_of,
                           can_see_personal=can_see_personal), status


@bp.route("/admin/users")
@login_required
def users() -> ResponseReturnValue:
    return _users_page()


def _run(action: Callable[[], str], page: Callable[..., ResponseReturnValue],
         target: str) -> ResponseReturnValue:
    """Run one change and commit; a refusal is shown on the page with the form kept."""
    try:
        done = action()
        db().commit()
    except PermissionDenied:
        raise
    except DanganError as exc:
        db().rollback()
        return page(tr(exc.msg), request.form.to_dict(), 400)
    flash(done, "success")
    return redirect(target)


@bp.route("/admin/users/new", methods=["POST"])
@login_required
def new_user() -> ResponseReturnValue:
    f = request.form

    def run() -> str:
        user, password = add_account(db(), me(), f.get("username", ""), f.get("role", ""),
                                     display_name=f.get("display_name"),
                                     department=f.get("department"),
                                     privacy=f.get("privacy"))
        return _("已创建用户 %(name)s，一次性密码：%(pw)s（首次登录须修改）。",
                 name=user.username, pw=password)

    return _run(run, _users_page, url_for("admin.users"))


@bp.route("/admin/users/<username>", methods=["POST"])
@login_required
def user_action(username: str) -> ResponseReturnValue:
    f = request.form
    action = f.get("action", "")

    def run() -> str:
        if action == "update":
            update_account(db(), me(), username, role=f.get("role", ""),
                           department=f.get("department"), display_name=f.get("display_name"),
                           privacy=f.get("privacy"))
            return _("已保存用户 %(name)s。", name=username)
        if action in ("disable", "enable"):
            set_active(db(), me(), username, action == "enable")
            return (_("已启用用户 %(name)s。", name=username) if action == "enable"
                    else _("已停用用户 %(name)s，其登录已全部失效。", name=username))
        if action == "reset":
            pw = reset_password(db(), me(), username)
            return _("用户 %(name)s 的一次性密码：%(pw)s（首次登录须修改）。", name=username, pw=pw)
        require_manage_users(me())
        raise InvalidInput(N_("未知操作。"))

    return _run(run, _users_page, url_for("admin.users"))


def _scheme_page(error: str | None = None, values: dict | None = None,
                 status: int = 200) -> ResponseReturnValue:
    require_manage_scheme(me())
    return render_template("admin_scheme.html", fonds=list_fonds(db()),
                           categories=categories(db()), error=error,
                           values=values or {}), status


@bp.route("/admin/scheme")
@login_required
def scheme() -> ResponseReturnValue:
    return _scheme_page()


@bp.route("/admin/fonds", methods=["POST"])
@login_required
def fonds() -> ResponseReturnValue:
    f = request.form

    def run() -> str:
        if f.get("action") == "rename":
            rename_fonds(db(), me(), f.get("code", ""), f.get("name", ""))
        else:
            add_fonds(db(), me(), f.get("code", ""), f.get("name", ""))
        return _("已保存全宗 %(code)s。", code=f.get("code", "").strip().upper())

    return _run(run, _scheme_page, url_for("admin.scheme"))


@bp.route("/admin/categories", methods=["POST"])
@login_required
def category() -> ResponseReturnValue:
    f = request.form

    def run() -> str:
        cat = save_category(db(), me(), f.get("code", ""), f.get("name", ""),
                            f.get("name_en", ""))
        return _("已保存门类 %(code)s。", code=cat.code)

    return _run(run, _scheme_page, url_for("admin.scheme"))
