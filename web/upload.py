"""The upload page (the XHR posts to /api/v1/items; this POST is the no-script fallback)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from service.access import registrable_secrecy
from service.browse import all_boxes, list_customers
from service.catalogue import list_categories
from service.codes import RETENTIONS
from service.errors import DanganError
from service.models import Fonds

from .ctx import archive, db, error_status, localize, me
from .search_views import retention_label, section_names
from .uploads import ingest_upload

bp = Blueprint("upload", __name__)


def _render(values: dict, error: str | None = None, status: int = 200,  # type: ignore[no-untyped-def]
            details: dict | None = None):
    s = db()
    user = me()
    details = details or {}
    return render_template(
        "upload.html", values=values, error=error, existing=details.get("existing", []),
        failed_files=details.get("failed_files", []),
        fonds=list(s.query(Fonds).order_by(Fonds.code)), categories=list_categories(s),
        retentions=RETENTIONS, retention_label=retention_label, secrecy_levels=registrable_secrecy(user),
        customers=list_customers(s, user), boxes=all_boxes(s), sections=section_names(),
        this_year=date.today().year), status


@bp.route("/upload", methods=["GET", "POST"])
@login_required
def upload():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return _render(request.args.to_dict())
    try:
        result = ingest_upload(archive(), me(), request.form, request.files.getlist("files"))
    except DanganError as exc:
        return _render(request.form.to_dict(), localize(exc.message), error_status(exc),
                       exc.details)
    if result.failed_files:
        for f in result.failed_files:
            flash(f"{f['name']}: {localize(f['reason'] or '')}", "error")
    flash(_("已登记 %(code)s，正在识别文字。", code=result.archival_code), "success")
    return redirect(url_for("items.show", item_id=result.id))
