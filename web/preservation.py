"""四性检测 on the web: the archive's latest results per item (or per batch registration),
filterable by the property that failed, downloaded as XLSX or CSV, and run for an item or a
batch (service.fourprops_report decides who may and audits it)."""

from __future__ import annotations

import time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from service.access import require_four_properties
from service.errors import InvalidInput
from service.fourprops import PROPERTY_LABELS, Property, describe
from service.fourprops_report import (
    EXPORT_FORMATS,
    export_rows,
    get_batch,
    parse_property,
    recent_batches,
    report_rows,
    run_four_properties,
)

from .ctx import archive, db, error_status, int_arg, me, tr
from .imports import _MIME, _download, _temp

bp = Blueprint("preservation", __name__)


def _failed_filter() -> Property | None:
    try:
        return parse_property(request.args.get("failed"))
    except InvalidInput as exc:
        abort(error_status(exc), tr(exc.msg))


@bp.route("/four-properties")
@bp.route("/four-properties/batch/<int:batch_id>")
@login_required
def report(batch_id: int | None = None) -> ResponseReturnValue:
    require_four_properties(me())
    s = db()
    failed = _failed_filter()
    batch = get_batch(s, batch_id) if batch_id is not None else None
    rows = report_rows(s, me(), batch_id=batch_id, failed=failed)
    return render_template(
        "four_properties.html", rows=rows, batch=batch, failed=failed,
        batches=recent_batches(s) if batch is None else [], properties=list(Property),
        labels=PROPERTY_LABELS, describe=describe, formats=EXPORT_FORMATS,
        here=lambda **kw: url_for("preservation.report", batch_id=batch_id, **kw))


@bp.route("/four-properties/export.<fmt>")
@login_required
def export(fmt: str) -> ResponseReturnValue:
    if fmt not in EXPORT_FORMATS:
        abort(404)
    require_four_properties(me())
    batch_id = int_arg("batch")
    failed = _failed_filter()
    rows = report_rows(db(), me(), batch_id=batch_id, failed=failed)
    path = _temp(f".{fmt}")
    try:
        export_rows(archive(), me(), rows, path, tr,
                    target=f"batch:{batch_id}" if batch_id is not None else "archive")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _download(path, f"four-properties-{time.strftime('%Y%m%d-%H%M')}.{fmt}", _MIME[fmt])


@bp.route("/four-properties/run", methods=["POST"])
@login_required
def run() -> ResponseReturnValue:
    """Check one item (back to its page) or one batch (back to the batch's report) now."""
    require_four_properties(me())
    item_id = request.form.get("item", type=int)
    batch_id = request.form.get("batch", type=int)
    if item_id is None and batch_id is None:
        abort(400)
    result = run_four_properties(archive(), me(), item_id=item_id, batch_id=batch_id)
    n = len(result.checked)
    if result.passed:
        flash(_("四性检测完成：%(n)s 件，全部通过。", n=n), "success")
    else:
        flash(_("四性检测完成：%(n)s 件，有未通过的检测项。", n=n), "warning")
    if item_id is not None:
        return redirect(url_for("items.show", item_id=item_id) + "#four-properties")
    return redirect(url_for("preservation.report", batch_id=batch_id))

