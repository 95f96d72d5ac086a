"""Sign-in, sign-out, password change, API token and language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from service.audit import record
from service.audit_actions import AuditAction
from service.errors import InvalidInput, TooManyAttempts
from service.signin import confirm_password, sign_in, sign_out
from service.users import issue_token, set_password

from .ctx import LANGUAGES, WebUser, db, me, signed_in, tr

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after sign-in."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//"):
            return target
    return url_for("search.search")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        try:
            user = sign_in(db(), username, password, request.remote_addr) \
                if username and password else None
        except TooManyAttempts as exc:
            return render_template("login.html", error=tr(exc.msg),
                                   username=username), 429, {"Retry-After": str(exc.retry_after)}
        if user is None:
            error = _("用户名或密码不正确。")
        else:
            session.clear()
            login_user(WebUser(user))
            if user.must_change_password:
                return redirect(url_for("auth.password"))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error, username=username), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    lang = session.get("lang")
    user = me()
    if user is not None:
        sign_out(db(), user)  # a copy of this session's cookie must not outlive the sign-out
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    user = signed_in()
    error = None
    if request.method == "POST":
        current = request.form.get("current", "")
        new = request.form.get("new", "")
        confirm = request.form.get("confirm", "")
        try:
            right = confirm_password(db(), user, current, request.remote_addr)
        except TooManyAttempts as exc:
            return render_template("password.html", error=tr(exc.msg),
                                   forced=user.must_change_password), 429, \
                {"Retry-After": str(exc.retry_after)}
        if not right:
            error = _("当前密码不正确。")
        elif new != confirm:
            error = _("两次输入的新密码不一致。")
        elif new == current:
            error = _("新密码不能与当前密码相同。")
        else:
            try:
                set_password(user, new)
            except InvalidInput as exc:
                error = tr(exc.msg)
            else:
                record(db(), user.username, AuditAction.AUTH_PASSWORD_CHANGE, f"user:{user.id}", None)
                db().commit()
                login_user(WebUser(user))  # the session id follows the new password
                flash(_("密码已修改。"), "success")
                return redirect(url_for("search.search"))
    return render_template("password.html", error=error,
                           forced=user.must_change_password), (400 if error else 200)


@bp.route("/account/token", methods=["GET", "POST"])
@login_required
def token() -> ResponseReturnValue:
    user = signed_in()
    new_token = None
    if request.method == "POST":
        new_token = issue_token(user)
        record(db(), user.username, AuditAction.AUTH_TOKEN_ISSUE, f"user:{user.id}", None)
        db().commit()
    return render_template("token.html", token=new_token, has_token=bool(user.api_token_hash))


@bp.route("/lang", methods=["POST"])
def set_language() -> ResponseReturnValue:
    code = request.form.get("lang", "")
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))
