"""The audit trail (审计日志) on a page: filter by user, action, target, origin and dates,
page through it newest first, export it as XLSX or CSV (service.audit_trail decides who may
and audits the reading)."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from service.access import require_read_audit
from service.audit_actions import AuditAction
from service.audit_trail import (
    EXPORT_FORMATS,
    AuditQuery,
    export_entries,
    list_entries,
    parse_query,
)
from service.errors import InvalidInput

from .ctx import archive, db, error_status, int_arg, me, tr
from .imports import _MIME, _download, _temp

bp = Blueprint("audit", __name__)
FILTERS = ("actor", "action", "target", "origin", "from", "to")


@bp.route("/audit")
@login_required
def trail() -> ResponseReturnValue:
    require_read_audit(me())
    values = {k: request.args.get(k, "").strip() for k in FILTERS}
    error = None
    try:
        q = parse_query(request.args)
    except InvalidInput as exc:
        error, q = tr(exc.msg), None
    page = list_entries(db(), me(), q or AuditQuery(), int_arg("page", 1) or 1) \
        if q is not None else None
    params: dict[str, Any] = {k: v for k, v in values.items() if v}  # url_for's **values
    return render_template(
        "audit.html", page=page, values=values, error=error, actions=list(AuditAction),
        formats=EXPORT_FORMATS,
        page_url=lambda n: url_for("audit.trail", **params, page=n),
        export_url=lambda fmt: url_for("audit.export", fmt=fmt, **params)), (400 if error else 200)


@bp.route("/audit/export.<fmt>")
@login_required
def export(fmt: str) -> ResponseReturnValue:
    if fmt not in EXPORT_FORMATS:
        abort(404)
    require_read_audit(me())
    try:
        q = parse_query(request.args)
    except InvalidInput as exc:
        return Response(tr(exc.msg), status=error_status(exc), mimetype="text/plain")
    path = _temp(f".{fmt}")
    try:
        export_entries(archive(), me(), q, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _download(path, f"audit-{time.strftime('%Y%m%d-%H%M')}.{fmt}", _MIME[fmt])
