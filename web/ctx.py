"""Request-scoped helpers shared by the blueprints: the archive, a catalogue session, the user."""

from __future__ import annotations

import hmac
import html
import logging
import re
from typing import Any

from flask import (
    Flask,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    session,
    url_for,
)
from flask_babel import get_translations
from flask_babel import gettext as babel_gettext
from flask_login import UserMixin, current_user
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from werkzeug.exceptions import Unauthorized

from service import workstations
from service.access import Reader
from service.archive import Archive
from service.audit_origin import reset_origin, set_origin
from service.errors import (
    N_,
    Conflict,
    DanganError,
    InvalidInput,
    Listing,
    Message,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
)
from service.models import User

from .i18n import DEFAULT_LANGUAGE, LANGUAGES, bilingual, render

log = logging.getLogger("dangan.web")



def archive() -> Archive:
    return current_app.extensions["dangan_archive"]


def db() -> Session:
    """One catalogue session per request. The view's work is committed when the view
    returns (`commit_db`, still inside the request, so a failing commit becomes an error
    response); teardown only closes the session."""
    if "db" not in g:
        g.db = archive().new_session()
    return g.db


def commit_db() -> None:
    """End the request's unit of work: commit what the view left pending."""
    if "db" in g:
        g.db.commit()


def rollback() -> None:
    """Undo the request's pending work after an error; a dead connection is only logged."""
    if "db" in g:
        try:
            g.db.rollback()
        except Exception:  # noqa: BLE001 - the error being answered matters, not this one
            log.warning("rollback after an error failed", exc_info=True)


def close_db(_exc: BaseException | None) -> None:
    """Teardown: close (roll back anything uncommitted). The response is already decided, so
    a connection that dropped meanwhile is logged and never turns finished work into a 500."""
    session = g.pop("db", None)
    if session is not None:
        try:
            session.close()
        except Exception:  # noqa: BLE001
            log.warning("closing the request's catalogue session failed", exc_info=True)


def set_request_origin() -> None:
    """Audit entries of this request say it came from the client's address (behind a reverse
    proxy, the one ``DANGAN_PROXY_HOPS`` trusts: ProxyFix has set remote_addr)."""
    g.audit_origin = set_origin(request.remote_addr or "?")


def reset_request_origin(_exc: BaseException | None) -> None:
    token = g.pop("audit_origin", None)
    if token is not None:
        try:
            reset_origin(token)
        except ValueError:  # set in another context (a streamed response's generator)
            set_origin(None)


class WebUser(UserMixin):
    """Flask-Login's view of a catalogue user. The id carries the user's session nonce, which
    sign-out and a password change replace: every session signed in before, including a
    copied cookie, then stops working (checked on every request by `load_user`)."""

    def __init__(self, model: User) -> None:
        self.model = model

    def get_id(self) -> str:
        return f"{self.model.id}:{self.model.session_nonce or ''}"

    @property
    def is_active(self) -> bool:
        return bool(self.model.active)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


def load_user(user_id: str) -> WebUser | None:
    try:
        uid, nonce = user_id.split(":", 1)
        model = db().get(User, int(uid))
    except (ValueError, TypeError):
        return None
    if model is None or not model.active or not model.session_nonce \
            or not hmac.compare_digest(model.session_nonce, nonce):
        return None
    return WebUser(model)


def me() -> User | None:
    """The signed-in catalogue user (ORM object) or None."""
    if current_user and current_user.is_authenticated:
        return current_user.model
    return None


def signed_in() -> User:
    """The user a view behind ``@login_required`` acts for: that decorator has turned a
    visitor away already, so the services that act in someone's name get a user, never None
    (a view that forgot the decorator answers 401 instead of failing inside a service)."""
    user = me()
    if user is None:
        raise Unauthorized()
    return user


def personal_reader() -> Reader | None:
    """Whose privacy right decides how a page shows ID and mobile numbers: the request's
    user (masked for a visitor not signed in); outside a request, the operator (None)."""
    if not has_request_context():
        return None
    if "personal_reader" not in g:
        g.personal_reader = Reader(user=g.get("api_user") or me())
    return g.personal_reader


def reader() -> Reader:
    """Who reads, when and where, for this request (service.access.Reader): the signed-in
    user (or the API token's), now, and whether the browser is an enrolled reading-room
    workstation (its cookie, and its address where the workstation is tied to one)."""
    if "reader" not in g:
        user = g.get("api_user") or me()
        place = workstations.recognise(db(), request.cookies.get(workstations.COOKIE),
                                       request.remote_addr) if user is not None else None
        g.reader = Reader(user=user, reading_room=place is not None,
                          workstation=place.name if place is not None else None)
    return g.reader


def fixed_url(endpoint: str, **values: Any) -> str:
    """`url_for` of a link that depends on nothing of the request but the script root (the
    top bar's links, the style sheet), built once a process: every page shows ~20 of them,
    at ~15 µs of `url_for` each."""
    cache: dict[tuple, str] = current_app.extensions.setdefault("dangan_fixed_urls", {})
    key = (request.script_root, endpoint, *sorted(values.items()))
    url = cache.get(key)
    if url is None:
        url = cache[key] = url_for(endpoint, **values)
    return url


def _request_translations() -> Any:
    """The request's translations, looked up once (Flask-Babel resolves the locale and its
    catalogue again on every call: a search page has ~150 strings)."""
    translations = g.get("_translations")
    if translations is None:
        translations = g._translations = get_translations()
    return translations


def gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's `gettext` through the request's catalogue looked up once (labels of
    facet values and hit rows call it dozens of times a page)."""
    if not has_app_context():
        return babel_gettext(string, **variables)
    text = _request_translations().ugettext(string)
    return text % variables if variables else text


def cache_template_translations(app: Flask) -> None:
    """Templates translate through the request's catalogue, looked up once per request."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # jinja2.ext.i18n adds it
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
        newstyle=True)


def lang() -> str:
    """The user's language code: zh_CN (default) or en, as chosen in the session."""
    chosen = session.get("lang") if has_request_context() else None
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


#: The API's answer to a request with neither a session nor a token.
SIGN_IN_OR_TOKEN = Message(N_("需要登录或 API 令牌。"))


def tr(value: Message | Listing | str | None, language: str | None = None) -> str:
    """A message (an error's, or one stored with a page or file) in the user's language."""
    return render(value, language or lang())


def both(value: Any) -> Any:
    """``value`` with every message inside (an error, each failed file's reason) in Chinese
    and English, as the API has always answered (see ``i18n.bilingual``)."""
    if isinstance(value, Message | Listing):
        return bilingual(value)
    if isinstance(value, dict):
        return {k: both(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [both(v) for v in value]
    return value


def error_status(exc: DanganError) -> int:
    if isinstance(exc, InvalidInput):
        return 400
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, TooManyAttempts):
        return 429
    return 400


_MARK = re.compile(r"(</?mark>)")


def safe_snippet(snippet: str | None) -> Markup:
    """Engine snippets are escaped text plus <mark>; trust nothing else.

    Every piece between the tags is unescaped and escaped again (so a stray `<script>`
    comes out as text), and the <mark> tags are re-emitted only when they balance.
    """
    out: list[str] = []
    open_ = False
    for part in _MARK.split(snippet or ""):
        if part == "<mark>":
            if not open_:
                out.append("<mark>")
                open_ = True
        elif part == "</mark>":
            if open_:
                out.append("</mark>")
                open_ = False
        else:
            out.append(str(escape(html.unescape(part))))
    if open_:
        out.append("</mark>")
    return Markup("".join(out))


def wants_json() -> bool:
    return request.path.startswith("/api/")


def int_arg(name: str, default: int | None = None, lo: int = 1, hi: int = 10**9) -> int | None:
    raw = request.args.get(name, "")
    try:
        v = int(raw)
    except ValueError:
        return default
    return max(lo, min(hi, v))
