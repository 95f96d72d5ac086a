"""The web application factory: sign-in, pages and the JSON API over the service layer."""

from __future__ import annotations

import errno
import logging
from typing import Any

from flask import Flask, Response, flash, jsonify, redirect, render_template, request, url_for
from flask.templating import Environment
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import ImmutableDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter, IntegerConverter, Map

from service import privacy
from service.access import (
    can_check_four_properties,
    can_cross_check,
    can_handle_rescans,
    can_manage_locations,
    can_manage_scheme,
    can_manage_users,
    can_read_audit,
    can_read_statistics,
    can_read_two_set_report,
    can_see_disposal,
)
from service.archive import Archive
from service.db import MAX_ROW_ID, db_failure
from service.errors import DanganError
from service.setup import ensure_secret_key
from service.users import PASSWORD_CHANGE_FIRST
from storage import StorageError, StorageFull

from . import ctx
from .admin import bp as admin_bp
from .api import bp as api_bp
from .arrange import bp as arrange_bp
from .audit_views import bp as audit_bp
from .auth import bp as auth_bp
from .changes import bp as changes_bp
from .customers import bp as customers_bp
from .desk import bp as desk_bp
from .disposal import bp as disposal_bp
from .extensions import babel, csrf, login_manager
from .i18n import TRANSLATIONS, compile_translations
from .imports import bp as imports_bp
from .items import bp as items_bp
from .labels import LABELS
from .loans import bp as loans_bp
from .preservation import bp as preservation_bp
from .reports import bp as reports_bp
from .search_views import bp as search_bp
from .server import BODY_TOO_LARGE
from .shelves import bp as shelves_bp
from .statistics import bp as statistics_bp
from .top_nav import top_nav
from .upload_forms import bp as upload_bp
from .workstations import bp as workstations_bp

log = logging.getLogger("dangan.web")
#: What a signed-in user who must change the password may still reach.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.password", "auth.logout", "auth.login",
                                       "auth.set_language", "static", "api.openapi"})


def _select_locale() -> str:
    return ctx.lang()


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in our routes is a database row id: a number past 64 bits names nothing
    (404), where the plain converter handed it on to SQLite or PostgreSQL (overflow, 500)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


class _ArchiveMap(Map):
    default_converters: ImmutableDict[str, type[BaseConverter]] = ImmutableDict(
        {**Map.default_converters, "int": RowIdConverter})


class ReaderEnvironment(Environment):
    """Templates read a catalogue row's personal fields (an ID or mobile number typed into a
    title or remarks: service.privacy.PERSONAL_FIELDS) as the request's reader may, by the
    service's one rule, whichever template names them: none can print the number unmasked
    to a user without the privacy right."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        # a page reads ~500 attributes (a search page's hits and rows): the plain attribute
        # straight away, and the rule asked only for a class that has personal fields
        try:
            value = getattr(obj, attribute)
        except AttributeError:  # a mapping's item, or undefined: as Jinja reads it
            return super().getattr(obj, attribute)
        if type(obj) in privacy.PERSONAL_FIELDS and privacy.personal_field(obj, attribute):
            return privacy.value_for(ctx.personal_reader(), value)
        return value


class ArchiveApp(Flask):
    """Flask, with each request's catalogue work committed when its view returns: inside
    the request, so a failing commit is answered by the error handlers below, and nothing
    is left to commit at teardown, where a failure could only become a bare 500."""

    url_map_class = _ArchiveMap
    jinja_environment = ReaderEnvironment

    def dispatch_request(self) -> ResponseReturnValue:
        rv = super().dispatch_request()
        ctx.commit_db()
        return rv


def create_app(archive: Archive | None = None, config: dict[str, Any] | None = None) -> Flask:
    archive = archive or Archive()
    app = ArchiveApp(__name__)
    config = dict(config or {})
    secret = config.pop("SECRET_KEY", None)
    if secret is None:
        archive.settings.data_dir.mkdir(parents=True, exist_ok=True)
        secret = ensure_secret_key(archive)
    app.config.update(
        SECRET_KEY=secret,
        SESSION_COOKIE_NAME="dangan_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=archive.settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=archive.settings.secure_cookies,
        MAX_CONTENT_LENGTH=archive.settings.max_upload_bytes,
        MAX_FORM_PARTS=5000,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
        BABEL_DEFAULT_LOCALE=ctx.DEFAULT_LANGUAGE,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        JSON_AS_ASCII=False,
    )
    app.config.update(config)
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # DefaultJSONProvider's
    app.extensions["dangan_archive"] = archive
    hops = archive.settings.proxy_hops
    if hops:  # the client address (sign-in throttling) from a trusted reverse proxy
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]  # WSGI middleware

    compile_translations()
    babel.init_app(app, locale_selector=_select_locale)
    ctx.cache_template_translations(app)

    @app.before_request
    def refuse_body_over_cap() -> None:
        """First of all hooks (before the CSRF check reads the form): a body the server
        refused as over the cap (web.server) gets the localised 413 below."""
        if request.environ.get(BODY_TOO_LARGE):
            raise RequestEntityTooLarge()

    csrf.init_app(app)

    login = login_manager
    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message = None
    login.session_protection = "basic"
    login.user_loader(ctx.load_user)

    @login.unauthorized_handler
    def unauthorized() -> ResponseReturnValue:
        if ctx.wants_json():
            return jsonify(error=ctx.both(ctx.SIGN_IN_OR_TOKEN)), 401
        flash(_("请先登录。"), "info")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    for bp in (auth_bp, search_bp, items_bp, arrange_bp, upload_bp, imports_bp, shelves_bp,
               customers_bp, reports_bp, desk_bp, loans_bp, statistics_bp, disposal_bp, admin_bp,
               workstations_bp, changes_bp, audit_bp, preservation_bp, api_bp):
        app.register_blueprint(bp)
    csrf.exempt(api_bp)  # the API checks CSRF itself for cookie-authenticated writes

    app.teardown_request(ctx.close_db)
    app.before_request(ctx.begin_request_translations)
    app.teardown_request(ctx.end_request_translations)
    app.before_request(ctx.set_request_origin)
    app.teardown_request(ctx.reset_request_origin)

    @app.before_request
    def password_change_first() -> ResponseReturnValue | None:
        """Until a required password change is done, only that page and sign-out work: no
        other page, no API (a token minted now would outlive the password)."""
        if (request.endpoint not in PASSWORD_CHANGE_ENDPOINTS
                and current_user.is_authenticated and current_user.model.must_change_password):
            if ctx.wants_json():
                return jsonify(error=ctx.tr(PASSWORD_CHANGE_FIRST)), 403
            flash(_("首次登录，请先修改密码。"), "info")
            return redirect(url_for("auth.password"))
        return None

    @app.after_request
    def security_headers(resp: Response) -> Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
        return resp

    # globals: macros imported by templates see them too
    app.jinja_env.globals.update(LABELS, fixed_url=ctx.fixed_url, url_for=ctx.row_url,
                                 top_nav=top_nav)

    @app.context_processor
    def globals_() -> dict[str, Any]:
        me = ctx.me()  # once: each call goes through Flask-Login's proxies
        return {"LANGUAGES": ctx.LANGUAGES, "current_lang": ctx.lang(), "me": me,
                "can_manage": can_manage_locations(me),
                "can_manage_users": can_manage_users(me),
                "can_manage_scheme": can_manage_scheme(me), "safe_snippet": ctx.safe_snippet,
                # None is the command line's operator to the service: never an anonymous visitor
                "can_report": me is not None and can_read_two_set_report(me),
                "can_desk": can_cross_check(me) or can_handle_rescans(me),
                "can_statistics": me is not None and can_read_statistics(me),
                "can_disposal": can_see_disposal(me),
                "can_audit": me is not None and can_read_audit(me),
                "can_four_properties": me is not None and can_check_four_properties(me),
                "tr": ctx.tr}

    @app.errorhandler(DanganError)
    def dangan_error(exc: DanganError) -> ResponseReturnValue:
        ctx.rollback()
        status = ctx.error_status(exc)
        if ctx.wants_json():
            return jsonify(error=ctx.both(exc.msg), **ctx.both(exc.details)), status
        return render_template("error.html", status=status,
                               message=ctx.tr(exc.msg)), status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> ResponseReturnValue:
        msg = _("表单已过期或缺少安全令牌，请刷新页面后重试。")
        if ctx.wants_json() or request.headers.get("X-CSRFToken") is not None:
            return jsonify(error=msg), 400
        return render_template("error.html", status=400, message=msg), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        messages = {
            400: _("请求无效。"), 401: _("请先登录。"), 403: _("您无权访问此页面。"),
            404: _("页面不存在。"), 405: _("不支持该请求方式。"),
            413: _("上传内容过大（上限 %(limit)s）。",
                   limit=_human_size(app.config["MAX_CONTENT_LENGTH"])),
        }
        status = exc.code or 500
        msg = messages.get(status, exc.description or exc.name)
        if ctx.wants_json():
            return jsonify(error=msg), status
        return render_template("error.html", status=status, message=msg), status

    def failure(status: int, message: str, exc: BaseException, *,
                retry_after: int | None = None) -> ResponseReturnValue:
        """A clear, localised answer for a failure of the infrastructure or a bug; the
        details go to the log, never to the user."""
        ctx.rollback()
        log.error("%s %s answered %d: %s", request.method, request.path, status,
                  type(exc).__name__, exc_info=exc)
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        if ctx.wants_json():
            return jsonify(error=message), status, headers
        try:
            body = render_template("error.html", status=status, message=message)
        except Exception:  # noqa: BLE001 - the page itself needs what just failed
            log.warning("error page could not be rendered", exc_info=True)
            body = (f"<!doctype html><meta charset=\"utf-8\"><title>{status}</title>"
                    f"<p>{escape(message)}</p>")
        return body, status, headers

    @app.errorhandler(StorageError)
    def storage_error(exc: StorageError) -> ResponseReturnValue:
        if isinstance(exc, StorageFull):
            return failure(507, _("存储空间已满，请联系系统管理员。"), exc)
        return failure(503, _("存储服务暂时不可用，请稍后再试。"), exc, retry_after=30)

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc: SQLAlchemyError) -> ResponseReturnValue:
        kind = db_failure(exc)
        if kind == "full":
            return failure(507, _("数据库存储空间已满，请联系系统管理员。"), exc)
        if kind == "unavailable":
            return failure(503, _("数据库暂时不可用，请稍后再试。"), exc,
                           retry_after=30)
        return internal_error(exc)

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> ResponseReturnValue:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            # e.g. the server's temporary files for an upload, before the store is reached
            return failure(507, _("服务器磁盘空间已满，请联系系统管理员。"), exc)
        return failure(500, _("服务器内部错误，错误已记录。请稍后再试或联系系统管理员。"),
                       exc)

    @app.template_filter("filesize")
    def filesize(n: int | None) -> str:
        return _human_size(n)

    return app


def _human_size(n: int | None) -> str:
    if n is None:
        return "—"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            # a no-break space: a size never wraps between its number and its unit
            return f"{size:.0f}\u00a0{unit}" if unit == "B" else f"{size:.1f}\u00a0{unit}"
        size /= 1024
    return f"{n}\u00a0B"
