"""JSON API under /api/v1: bearer-token (or signed-in session + CSRF) authentication."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from service.access import may_open
from service.audit_actions import AuditAction
from service.catalogue import preview_code
from service.crosscheck import (
    Finding,
    check_history,
    check_queue,
    check_to_json,
    parse_pages,
    queue_to_json,
    record_check,
)
from service.errors import N_, InvalidInput, Message
from service.items import (
    catalogue_entry_json,
    item_summary,
    item_to_json,
    record_access,
    record_denied,
    visible_item,
)
from service.search import parse_search_params, run_search
from service.users import require_password_changed, user_for_token
from service.vocab import FileStatus, PageStatus

from .ctx import SIGN_IN_OR_TOKEN, archive, both, db, reader
from .desk import queue_filters
from .extensions import csrf
from .openapi import spec
from .upload_forms import ingest_upload

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def authenticate_api() -> ResponseReturnValue | None:
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_token(db(), header[7:].strip())
        if user is None:
            return jsonify(error=both(Message(N_("API 令牌无效或已被撤销。")))), 401
        require_password_changed(user)
        g.api_user = user
        return None
    if current_user.is_authenticated:
        g.api_user = current_user.model
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()  # a cookie-authenticated write must come from our own page
        return None
    return jsonify(error=both(SIGN_IN_OR_TOKEN)), 401


@bp.after_request
def never_cached(resp: Response) -> Response:
    """API answers hold catalogue data, snippets and page text (of 机密 pages too): no browser
    or proxy cache may keep them. The OpenAPI description is public and may be cached."""
    if request.endpoint != "api.openapi":
        resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _int_param(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise InvalidInput(N_("参数 %(name)s 应为整数。"), name=name) from None
    if not lo <= v <= hi:
        raise InvalidInput(N_("参数 %(name)s 应在 %(lo)s–%(hi)s 之间。"), name=name, lo=lo, hi=hi)
    return v


@bp.get("/search")
def search() -> ResponseReturnValue:
    """Search words and/or filters; filters alone browse the catalogue (by 档号)."""
    return jsonify(run_search(archive(), parse_search_params(request.args), user=reader()))


@bp.get("/items/<int:item_id>")
def item(item_id: int) -> ResponseReturnValue:
    who = reader()
    it = visible_item(db(), who, item_id)
    if not may_open(who, it):  # the catalogue entry only: no files, keys or pages
        data = catalogue_entry_json(it, who)
        record_denied(db(), who, it, data["remedy"] or "scope", {"via": "api"})
        return jsonify(both(data))
    data = item_to_json(it, who)
    record_access(db(), who, AuditAction.ITEM_VIEW, it, {"via": "api"})
    db().commit()
    return jsonify(both(data))


@bp.get("/items/<int:item_id>/progress")
def progress(item_id: int) -> ResponseReturnValue:
    it = visible_item(db(), g.api_user, item_id)
    data = item_summary(it, g.api_user)
    data["failed_files"] = [{"name": f.original_name, "code": f.error_code,
                             "reason": f.error_reason} for f in it.files
                            if f.role == "original" and f.status == FileStatus.FAILED]
    data["failed_pages"] = [{"page": p.n, "reason": p.error} for p in it.pages
                            if p.status == PageStatus.FAILED]
    return jsonify(both(data))


@bp.post("/items")
def create_item() -> ResponseReturnValue:
    result = ingest_upload(archive(), g.api_user, request.form, request.files.getlist("files"))
    return jsonify(both(result.to_json())), 201


@bp.get("/codes/preview")
def code_preview() -> ResponseReturnValue:
    a = request.args
    org = (a.get("org") or "").strip().upper() or None
    code = preview_code(db(), (a.get("fonds") or "J001").strip().upper(),
                        (a.get("category") or "").strip().upper(),
                        _int_param("year", 0, 0, 9999), (a.get("retention") or "").strip(), org)
    return jsonify(archival_code=code)


# ----------------------------------------------------------------- the cross-check desk


def _findings(raw: object) -> list[Finding]:
    """The findings of a signed check as JSON: [{"kind", "pages": [3] or "3, 5-7", "note"}]."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(f, dict) for f in raw):
        raise InvalidInput(N_("findings 应为对象列表。"))
    out = []
    for f in raw:
        pages = f.get("pages")
        if isinstance(pages, list):
            if not all(isinstance(n, int) and not isinstance(n, bool) for n in pages):
                raise InvalidInput(N_("pages 应为整数列表。"))
            numbers = sorted(set(pages))
        else:
            numbers = parse_pages(pages if isinstance(pages, str) else None)
        note = f.get("note")
        out.append(Finding(kind=str(f.get("kind") or ""), pages=numbers,
                           note=note if isinstance(note, str) else None))
    return out


@bp.get("/checks/queue")
def check_queue_api() -> ResponseReturnValue:
    """Items waiting for a records officer: never checked, changed since, or discrepant."""
    rows = check_queue(db(), g.api_user, queue_filters(request.args))
    return jsonify(items=queue_to_json(rows, g.api_user))


@bp.get("/items/<int:item_id>/checks")
def item_checks(item_id: int) -> ResponseReturnValue:
    it = visible_item(db(), g.api_user, item_id)
    return jsonify(checks=[check_to_json(c) for c in check_history(db(), it.id)])


@bp.post("/items/<int:item_id>/checks")
def sign_check(item_id: int) -> ResponseReturnValue:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(N_("请求体应为 JSON 对象。"))
    note = body.get("note")
    check = record_check(db(), reader(), item_id, str(body.get("result") or ""),
                         _findings(body.get("findings")),
                         note=note if isinstance(note, str) else None)
    data = check_to_json(check)
    db().commit()
    return jsonify(data), 201


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(spec(request.host_url.rstrip("/")))
