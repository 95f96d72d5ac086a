"""Request-scoped helpers shared by the blueprints: the archive, a catalogue session, the user."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote_plus

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
from flask.globals import request_ctx
from flask_babel import get_translations
from flask_babel import gettext as babel_gettext
from flask_login import UserMixin, current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from werkzeug.exceptions import Unauthorized
from werkzeug.routing import BaseConverter
from werkzeug.routing.converters import NumberConverter

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
from service.users import user_for_session

from .i18n import DEFAULT_LANGUAGE, LANGUAGES, bilingual, render

log = logging.getLogger("dangan.web")

_T = TypeVar("_T")



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
        model = user_for_session(db(), int(uid), nonce)
    except (ValueError, TypeError):
        return None
    return WebUser(model) if model is not None else None


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


#: Stand-ins for a route's arguments while its pattern is built: a number for a number
#: argument (no real id is this big), a word for any other; the `index`-th differs.
_NUMBER_STAND_IN = 7_304_918_265_000_000_000
_WORD_STAND_IN = "danganstandin{}x"
#: What werkzeug leaves unescaped in a query string (werkzeug.urls._urlencode).
_QUERY_SAFE = "!$'()*,/:;?@"


@dataclass(frozen=True)
class _Pattern:
    """A route's address cut at its arguments: ``parts[0] + arg + parts[1] + …``, each
    argument turned into text by its converter, as werkzeug builds it."""

    parts: tuple[str, ...]
    names: tuple[str, ...]
    converters: tuple[BaseConverter, ...]

    @property
    def steps(self) -> zip:
        """(argument, its converter, the text after it), in order."""
        return zip(self.names, self.converters, self.parts[1:], strict=True)


def _route_pattern(endpoint: str) -> _Pattern | None:
    """The pattern of a route of one rule without defaults, host or subdomain (built once
    by `url_for` with stand-ins); None for any other, which `url_for` builds."""
    rules = current_app.url_map._rules_by_endpoint.get(endpoint, [])
    if len(rules) != 1 or rules[0].defaults or rules[0].host or rules[0].subdomain:
        return None
    rule = rules[0]
    stand_ins: dict[str, Any] = {
        n: _NUMBER_STAND_IN + i if isinstance(rule._converters[n], NumberConverter)
        else _WORD_STAND_IN.format(i) for i, n in enumerate(sorted(rule.arguments))}
    rest = url_for(endpoint, **stand_ins)
    parts: list[str] = []
    names: list[str] = []
    while True:
        found = sorted((rest.find(str(v)), n) for n, v in stand_ins.items() if n not in names)
        found = [(i, n) for i, n in found if i >= 0]
        if not found:
            break
        i, n = found[0]
        parts.append(rest[:i])
        names.append(n)
        rest = rest[i + len(str(stand_ins[n])):]
    if len(names) != len(stand_ins):
        return None
    return _Pattern((*parts, rest), tuple(names), tuple(rule._converters[n] for n in names))


def row_url(endpoint: str, **values: Any) -> str:
    """`url_for` for templates: from the route's pattern, made once a process, where
    `url_for` costs ~15 µs a link and a search page shows ~100 (one to each hit, its
    thumbnail, each snippet's page); the same text `url_for` gives (tests/web/test_row_url.py).
    Anything else (``_anchor``, a list value, a missing argument) goes to `url_for`."""
    patterns = _request_patterns()
    pattern = patterns.get(endpoint, _UNKNOWN)
    if pattern is _UNKNOWN:
        pattern = patterns[endpoint] = _route_pattern(endpoint)
    if pattern is None:
        return url_for(endpoint, **values)
    out = pattern.parts[0]
    for name, converter, part in pattern.steps:
        if name not in values:
            return url_for(endpoint, **values)
        out += converter.to_url(values[name]) + part
    if len(values) == len(pattern.names):
        return out
    query = []
    for k, v in values.items():
        if v is None or k in pattern.names:
            continue
        if k.startswith("_") or isinstance(v, list | tuple | set | dict):
            return url_for(endpoint, **values)
        query.append(query_pair(str(k), str(v)))
    return out + "?" + "&".join(query) if query else out


#: A route not yet looked at (None: one `row_url` leaves to `url_for`).
_UNKNOWN: Any = object()
#: The request's route patterns (those of its app and script root) and the request they were
#: looked up for: a context variable, where the proxies `current_app` and `request` cost a
#: lookup each on every link.
_patterns: ContextVar[tuple[object, dict[str, _Pattern | None]] | None] = ContextVar(
    "dangan_row_patterns", default=None)


def _once_a_request(var: ContextVar[tuple[object, _T] | None], make: Callable[[], _T]) -> _T:
    """`make()` once a request, kept in `var` with the request it was made for (a context
    variable costs a fraction of the `request`, `session` or `current_app` proxies that the
    values read; the request is compared, so no value outlives its request)."""
    here = request_ctx._get_current_object()  # type: ignore[attr-defined]  # the proxy's own
    held = var.get()
    if held is not None and held[0] is here:
        return held[1]
    value = make()
    var.set((here, value))
    return value


def _request_patterns() -> dict[str, _Pattern | None]:
    def make() -> dict[str, _Pattern | None]:
        by_root: dict[str, dict] = current_app.extensions.setdefault("dangan_row_urls", {})
        return by_root.setdefault(request.script_root, {})
    return _once_a_request(_patterns, make)


@lru_cache(maxsize=4096)
def query_pair(key: str, value: str) -> str:
    """``key=value`` escaped as werkzeug escapes a query (urlencode with its safe set): a
    page's links repeat the same few pairs (the search words on every hit). Values come
    as text (``True`` and ``1`` are equal keys to a cache)."""
    return quote_plus(key, safe=_QUERY_SAFE) + "=" + quote_plus(value, safe=_QUERY_SAFE)


def query_string(values: dict[str, Any]) -> str:
    """``a=1&b=x`` of `values` (None left out), escaped as `url_for` escapes a query."""
    return "&".join(query_pair(str(k), str(v)) for k, v in values.items() if v is not None)


#: The request's translations once looked up (None: not yet, or outside a request): a
#: context variable, where `g` costs a proxy lookup on each of a page's ~150 strings.
_translations: ContextVar[Any] = ContextVar("dangan_translations", default=None)


def begin_request_translations() -> None:
    """Before each request: its translations are looked up afresh at its first string."""
    g.translations_token = _translations.set(None)


def end_request_translations(_exc: BaseException | None) -> None:
    token = g.pop("translations_token", None)
    if token is not None:
        try:
            _translations.reset(token)
        except ValueError:  # set in another context (a streamed response's generator)
            _translations.set(None)


def _request_translations() -> Any:
    """The request's translations, looked up once a request, and once a process per
    language (Flask-Babel resolves the locale and its catalogue again on every call; the
    catalogues are compiled when the app is made and never change after)."""
    translations = _translations.get()
    if translations is None:
        cache: dict[str, Any] = current_app.extensions.setdefault("dangan_translations", {})
        language = lang()
        translations = cache.get(language)
        if translations is None:
            translations = cache[language] = get_translations()
        if has_request_context():
            _translations.set(translations)
    return translations


def gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's `gettext` through the request's catalogue looked up once (labels of
    facet values and hit rows call it dozens of times a page)."""
    if not has_app_context():
        return babel_gettext(string, **variables)
    text = _request_translations().ugettext(string)
    return text % variables if variables else text


def _template_text(context: Context, translated: str, variables: dict[str, Any]) -> str:
    """Jinja's new-style gettext result: a translation is markup where the template
    autoescapes, its variables are escaped, and it is always a format string."""
    rv = Markup(translated) if context.eval_ctx.autoescape else translated
    return rv % variables


@pass_context
def _template_gettext(context: Context, string: str, **variables: Any) -> str:
    """``_()`` and ``gettext()`` in a template (`_template_text`), called directly where
    Jinja's own goes through three context calls (a page has ~60 of them)."""
    return _template_text(context, _request_translations().ugettext(string), variables)


@pass_context
def _template_pgettext(context: Context, msgctxt: str, string: str, **variables: Any) -> str:
    """``pgettext()`` in a template, as `_template_gettext` (the top bar has ~15)."""
    variables.setdefault("context", msgctxt)
    return _template_text(context, _request_translations().upgettext(msgctxt, string),
                          variables)


def cache_template_translations(app: Flask) -> None:
    """Templates translate through the request's catalogue, looked up once per request."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # jinja2.ext.i18n adds it
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext,
                                 pgettext=_template_pgettext)


#: The request's language and the request it was read for (a page asks ~40 times, for its
#: labels; the session proxy costs a lookup each).
_language: ContextVar[tuple[object, str] | None] = ContextVar("dangan_language", default=None)


def lang() -> str:
    """The user's language code: zh_CN (default) or en, as chosen in the session (read once
    a request: choosing another answers with a redirect, the next request shows it)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    return _once_a_request(_language, _session_language)


def _session_language() -> str:
    chosen = session.get("lang")
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
