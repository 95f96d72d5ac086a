"""The two-set consistency report (两套制) on a page and as CSV, XLSX or PDF downloads."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from service.report_export import EXPORT_FORMATS, export_audited
from service.twoset_report import KIND_LABELS, two_set_report

from .ctx import archive, me
from .i18n import bilingual

bp = Blueprint("reports", __name__)


@bp.route("/reports/two-set")
@login_required
def two_set() -> ResponseReturnValue:
    report = two_set_report(archive(), me())
    return render_template("two_set_report.html", report=report, kinds=KIND_LABELS,
                           formats=EXPORT_FORMATS)


@bp.route("/reports/two-set.<fmt>")
@login_required
def two_set_export(fmt: str) -> ResponseReturnValue:
    if fmt not in EXPORT_FORMATS:
        abort(404)
    data = export_audited(archive(), me(), two_set_report(archive(), me()), fmt, bilingual)
    name = f"two-set-report-{datetime.now(UTC):%Y%m%d-%H%M}.{fmt}"
    return Response(data, mimetype=EXPORT_FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
