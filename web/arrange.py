"""An item's record edited and its pages arranged from the browser: the views parse the
forms, call service.changes (an edit is a change request waiting for the archive manager's
approval) / service.arrange and render (the rules live there)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from service.access import require_edit_item, require_open
from service.arrange import TURNS, arrange_pages, counted_pages, merge_by_codes, split_item
from service.changes import pending_changes, request_change
from service.edits import FIELDS, change_labels, form_values
from service.errors import N_, DanganError, InvalidInput, PermissionDenied
from service.items import visible_item
from service.models import ArchiveItem
from service.vocab import CUSTOMER_SECTIONS, SECRECY_LEVELS

from .ctx import archive, db, me, reader, signed_in, tr

bp = Blueprint("arrange", __name__)


def _editable(item_id: int) -> ArchiveItem:
    item = visible_item(db(), me(), item_id)
    require_edit_item(me(), item)
    return item


def _edit_form(item_id: int, values: dict[str, str] | None = None, error: str | None = None,
               reason: str = "", status: int = 200) -> ResponseReturnValue:
    item = _editable(item_id)
    return render_template("item_edit.html", item=item, fields=FIELDS,
                           values=values or form_values(item, me()), error=error, reason=reason,
                           pending=pending_changes(db(), item.id), change_labels=change_labels(),
                           secrecy_levels=SECRECY_LEVELS, sections=CUSTOMER_SECTIONS), status


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit(item_id: int) -> ResponseReturnValue:
    if request.method == "GET":
        return _edit_form(item_id)
    f = request.form
    values = {key: f.get(key) for key in FIELDS if key in f}
    try:
        req = request_change(db(), signed_in(), item_id, values, f.get("reason", ""))
        db().commit()
    except DanganError as exc:
        db().rollback()
        if isinstance(exc, PermissionDenied):
            raise
        return _edit_form(item_id, {k: v or "" for k, v in values.items()},
                          tr(exc.msg), f.get("reason", ""), 400)
    flash(_("修改申请 %(id)s 已提交，待档案室主任审批后生效；批准前著录保持不变。", id=req.id), "success")
    return redirect(url_for("items.show", item_id=item_id) + "#pending-changes")


def _arrange_view(item_id: int, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    item = _editable(item_id)
    require_open(reader(), item)  # the page shows the scans: 机密 at a reading-room workstation
    return render_template("arrange.html", item=item, turns=TURNS, error=error,
                           counted=counted_pages(item), form=request.form), status


@bp.route("/items/<int:item_id>/arrange")
@login_required
def arrange(item_id: int) -> ResponseReturnValue:
    return _arrange_view(item_id)


def _act(item_id: int, action: Callable[[], str | None], done: str) -> ResponseReturnValue:
    """Run one arrangement; a refusal is shown on the arrange page, not as an error page."""
    _editable(item_id)
    try:
        result = action()
    except DanganError as exc:
        db().rollback()
        if isinstance(exc, PermissionDenied):
            raise
        return _arrange_view(item_id, tr(exc.msg), 400)
    flash(done, "success")
    return redirect(result or url_for("items.show", item_id=item_id) + "#history")


def _int(raw: str | None, n: int | None) -> int:
    """A whole number from the form: a page's position or turn (n), or a blank page."""
    raw = (raw or "").strip()
    if not raw.isdigit():
        if n is None:
            raise InvalidInput(N_("空白页页码应为整数。"))
        raise InvalidInput(N_("第 %(n)s 页的位置和旋转角度应为整数。"), n=n)
    return int(raw)


@bp.route("/items/<int:item_id>/arrange", methods=["POST"])
@login_required
def arrange_post(item_id: int) -> ResponseReturnValue:
    f = request.form

    def run() -> None:
        item = _editable(item_id)
        pos = {p.n: _int(f.get(f"pos-{p.n}", str(p.n)), p.n) for p in item.pages}
        order = sorted(pos, key=lambda n: (pos[n], n))
        turns = {p.n: _int(f.get(f"turn-{p.n}", "0"), p.n) for p in item.pages}
        blanks = {_int(v, None) for v in f.getlist("blank")}
        db().rollback()  # the service works in its own transaction
        arrange_pages(archive(), signed_in(), item_id, order, turns, blanks, f.get("reason", ""))

    return _act(item_id, run, _("页面整理已保存。"))


@bp.route("/items/<int:item_id>/split", methods=["POST"])
@login_required
def split(item_id: int) -> ResponseReturnValue:
    f = request.form
    titles = [t.strip() for t in (f.get("titles") or "").splitlines()]

    def run() -> str:
        db().rollback()
        split_item(archive(), signed_in(), item_id, f.get("ranges", ""), titles, f.get("reason", ""))
        return url_for("items.show", item_id=item_id) + "#history"

    return _act(item_id, run, _("拆分完成，新档案件已登记。"))


@bp.route("/items/<int:item_id>/merge", methods=["POST"])
@login_required
def merge(item_id: int) -> ResponseReturnValue:
    f = request.form
    codes = [c for c in (f.get("codes") or "").replace("，", ",").replace(",", "\n").split()
             if c.strip()]

    def run() -> None:
        db().rollback()
        merge_by_codes(archive(), signed_in(), item_id, codes, f.get("reason", ""))

    return _act(item_id, run, _("合并完成。"))
