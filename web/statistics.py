"""The statistics page (tables, and ECharts charts drawn from the same figures) and its XLSX."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from service.clock import now
from service.scheme import list_fonds
from service.statistics import Label, Named, Statistics, statistics
from service.statistics_export import TOTAL, XLSX, export_xlsx

from .ctx import db, lang, me, tr
from .i18n import bilingual

bp = Blueprint("statistics", __name__)


def label(value: Label) -> str:
    """A row's label in the user's language."""
    return value.render(lang()) if isinstance(value, Named) else tr(value)


def both(value: Label) -> str:
    """A label in Chinese then English, as the exported sheets write them."""
    return value.bilingual() if isinstance(value, Named) else bilingual(value)


def chart_data(stats: Statistics) -> dict[str, Any]:
    """What web/static/stats.js draws: per table its kind, labels and the charted columns."""
    return {"tables": [
        {"key": t.key, "title": tr(t.title), "chart": t.chart,
         "labels": [label(r.label) for r in t.rows],
         "series": [{"name": tr(t.columns[i].title), "unit": t.columns[i].unit,
                     "data": [r.values[i] for r in t.rows]} for i in t.series]}
        for t in stats.tables]}


@bp.route("/statistics")
@login_required
def page() -> ResponseReturnValue:
    stats = statistics(db(), me(), request.args)
    return render_template("statistics.html", stats=stats, data=chart_data(stats), label=label,
                           total_label=tr(TOTAL), fonds=list_fonds(db()),
                           query=stats.filters.as_dict())


@bp.route("/statistics.xlsx")
@login_required
def export() -> ResponseReturnValue:
    data = export_xlsx(db(), me(), request.args, both)
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="statistics-{now():%Y%m%d-%H%M}.xlsx"',
        "Cache-Control": "no-store"})
