"""The cross-check desk (核对台): the records officer's queue, a box opened by its barcode,
and one item at a time with its paper page count, its scans and the signed result.

Built for an officer standing at a shelf with a USB barcode scanner (it types the code and
Enter into the autofocused field) and a keyboard (static/desk.js: A agrees, D or 1–7 a
discrepancy, J/K next/previous item, Enter signs). Views parse, call service.crosscheck and
render; the rules live in the service.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from service.access import can_cross_check, can_handle_rescans, can_rescan, open_decision
from service.audit_actions import AuditAction
from service.crosscheck import (
    CHANGED,
    NEVER,
    DeskRow,
    Finding,
    QueueFilters,
    check_history,
    check_queue,
    desk_row,
    open_box,
    parse_pages,
    record_check,
    rescan_tasks,
)
from service.errors import N_, DanganError, InvalidInput
from service.items import get_page, record_access, record_denied, visible_item
from service.rescans import rescan
from service.twoset import electronic_side, move_item, paper_side, update_paper_side
from service.vocab import CheckResult, DiscrepancyKind

from .ctx import archive, db, int_arg, me, reader, signed_in, tr
from .upload_forms import client_name, upload_dir

bp = Blueprint("desk", __name__)


def queue_filters(args: dict) -> QueueFilters:
    """The queue's filters from a query string (the web page and the API)."""
    raw_year = (args.get("year") or "").strip()
    if raw_year and not (raw_year.isdigit() and len(raw_year) == 4):
        raise InvalidInput(N_("年度应为4位数字。"))
    return QueueFilters(box=(args.get("box") or "").strip() or None,
                        fonds=(args.get("fonds") or "").strip().upper() or None,
                        year=int(raw_year) if raw_year else None,
                        category=(args.get("category") or "").strip().upper() or None)


@bp.route("/desk")
@login_required
def queue() -> ResponseReturnValue:
    user = me()
    if not can_cross_check(user) and can_handle_rescans(user):
        return redirect(url_for("desk.rescans"))
    filters = queue_filters(request.args)
    rows = check_queue(db(), user, filters)
    return render_template("desk_queue.html", rows=rows, filters=filters,
                           barcode=request.args.get("barcode", ""))


@bp.route("/desk/open")
@login_required
def open_by_barcode() -> ResponseReturnValue:
    """The scanner's Enter lands here: the box's desk page, or the queue with the error."""
    barcode = (request.args.get("barcode") or "").strip()
    try:
        if not barcode:
            raise InvalidInput(N_("请扫描或输入档案盒条码。"))
        open_box(db(), me(), barcode)
    except DanganError as exc:
        flash(tr(exc.msg), "error")
        return redirect(url_for("desk.queue", barcode=barcode))
    return redirect(url_for("desk.box", barcode=barcode))


def _pick(rows: list[DeskRow], wanted: int | None) -> int:
    """The index of the item to show: the one asked for, else the first needing a check."""
    for i, (item, _why, _last) in enumerate(rows):
        if item.id == wanted:
            return i
    return next((i for i, (_item, why, _last) in enumerate(rows) if why), 0)


@bp.route("/desk/boxes/<barcode>")
@login_required
def box(barcode: str) -> ResponseReturnValue:
    s = db()
    user = me()
    bx, rows = open_box(s, user, barcode)
    if not rows:
        return render_template("desk_item.html", box=bx, rows=rows, current=None)
    i = _pick(rows, int_arg("item"))
    return _item_view(rows, i, bx)


@bp.route("/desk/items/<int:item_id>")
@login_required
def item(item_id: int) -> ResponseReturnValue:
    """An item outside any box (or opened from the queue): the same desk, one item."""
    s = db()
    it = visible_item(s, me(), item_id)
    if it.box is not None:
        return redirect(url_for("desk.box", barcode=it.box.barcode, item=it.id))
    return _item_view([desk_row(s, me(), it.id)], 0, None)


def _item_view(rows: list[DeskRow], i: int, bx: object, error: str | None = None,
               status: int = 200) -> ResponseReturnValue:
    s = db()
    it, why, _last = rows[i]
    n = int_arg("page", 1, 1, max(1, len(it.pages))) or 1
    page = get_page(it, n) if it.pages else None
    decision = open_decision(reader(), it)
    if decision.allowed:
        record_access(s, reader(), AuditAction.ITEM_VIEW, it, {"via": "desk"})
    else:
        record_denied(s, reader(), it, decision.remedy or "scope", {"via": "desk"})
    html = render_template(
        "desk_item.html", box=bx, rows=rows, index=i, current=it, why=why, page=page, n=n,
        decision=decision,
        paper=paper_side(s, it), scans=electronic_side(it), history=check_history(s, it.id),
        prev_id=rows[i - 1][0].id if i > 0 else None,
        next_id=rows[i + 1][0].id if i + 1 < len(rows) else None,
        kinds=list(DiscrepancyKind), error=error, form=request.form)
    return html, status, {"Cache-Control": "private, no-store"}


def findings_from_form(form: dict) -> tuple[str, list[Finding]]:
    """The result and its finding from the desk's form (one discrepancy per signing)."""
    result = (form.get("result") or "").strip()
    if result != CheckResult.DISCREPANCY:
        return result, []
    return result, [Finding(kind=(form.get("kind") or "").strip(),
                            pages=parse_pages(form.get("pages")),
                            note=(form.get("finding_note") or "").strip() or None)]


@bp.route("/desk/items/<int:item_id>/check", methods=["POST"])
@login_required
def sign(item_id: int) -> ResponseReturnValue:
    s = db()
    user = me()
    barcode = request.form.get("box") or None
    try:
        result, findings = findings_from_form(request.form)
        record_check(s, reader(), item_id, result, findings, note=request.form.get("note"))
        s.commit()
    except DanganError as exc:
        s.rollback()
        if barcode:
            bx, rows = open_box(s, user, barcode)
            return _item_view(rows, _pick(rows, item_id), bx, tr(exc.msg), 400)
        raise
    flash(_("已签署核对结果。"), "success")
    if not barcode:
        return redirect(url_for("desk.queue"))
    bx, rows = open_box(s, user, barcode)
    ids = [r[0].id for r in rows]
    after = ids[ids.index(item_id) + 1:] if item_id in ids else []
    # the walk goes on to items never checked or changed since (an open discrepancy waits
    # for its rescan; J/K still reach it)
    todo = [r[0].id for r in rows if r[1] in (NEVER, CHANGED)]
    waiting = [i for i in todo if i in after] or todo
    if not waiting:
        flash(_("本盒已全部核对。"), "success")
        return redirect(url_for("desk.box", barcode=barcode, item=item_id))
    return redirect(url_for("desk.box", barcode=barcode, item=waiting[0]))


@bp.route("/desk/rescans")
@login_required
def rescans() -> ResponseReturnValue:
    """The archivist's list: discrepancies waiting for a rescan."""
    tasks = rescan_tasks(db(), me())
    return render_template("desk_rescans.html", tasks=tasks,
                           may={t.item.id: can_rescan(me(), t.item) for t in tasks})


def rescan_pages(form: dict) -> list[int] | None:
    """The pages a rescan replaces, or None for the whole item."""
    return None if form.get("whole") else parse_pages(form.get("pages"))


@bp.route("/items/<int:item_id>/rescan", methods=["POST"])
@login_required
def upload_rescan(item_id: int) -> ResponseReturnValue:
    """Store a rescan of given pages (or the whole item); back to the archivist's list."""
    upload = request.files.get("file")
    try:
        if upload is None or not (upload.filename or "").strip():
            raise InvalidInput(N_("请选择重扫文件。"))
        pages = rescan_pages(request.form)
        with upload_dir(archive()) as tmp:
            path = tmp / "rescan"
            upload.save(path)
            result = rescan(archive(), signed_in(), item_id, path,
                            client_name(upload.filename, 1), pages,
                            note=request.form.get("note"))
    except DanganError as exc:
        flash(tr(exc.msg), "error")
    else:
        flash(_("已上传重扫件（第 %(pages)s 页），正在识别；完成后本件回到核对队列。",
                pages=", ".join(str(n) for n in result.pages)), "success")
    return redirect(url_for("desk.rescans"))


# ----------------------------------------------------------------- the paper side (item page)


def _whole(raw: str | None, message: str) -> int | None:
    """A whole number typed in a form, or None when left empty; `message` when not one."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 6:
        raise InvalidInput(message)
    return int(raw)


@bp.route("/items/<int:item_id>/paper", methods=["POST"])
@login_required
def paper(item_id: int) -> ResponseReturnValue:
    """Record the paper original's page count, condition and remarks."""
    s = db()
    f = request.form
    try:
        update_paper_side(s, me(), visible_item(s, me(), item_id),
                          declared_pages=_whole(f.get("paper_pages"), N_("纸质页数应为整数。")),
                          condition=(f.get("condition") or "").strip(),
                          remarks=f.get("paper_remarks"))
        s.commit()
    except DanganError as exc:
        s.rollback()
        flash(tr(exc.msg), "error")
    else:
        flash(_("已更新纸质原件信息。"), "success")
    return redirect(url_for("items.show", item_id=item_id) + "#paper")


@bp.route("/items/<int:item_id>/move", methods=["POST"])
@login_required
def move(item_id: int) -> ResponseReturnValue:
    """Put the item's paper in another box (or at another position): both sides follow."""
    s = db()
    f = request.form
    try:
        move_item(s, me(), visible_item(s, me(), item_id), (f.get("box") or "").strip() or None,
                  _whole(f.get("position"), N_("盒内序号应为整数。")), f.get("note"))
        s.commit()
    except DanganError as exc:
        s.rollback()
        flash(tr(exc.msg), "error")
    else:
        flash(_("档案已移动，纸质与电子两套的互见信息已同时更新。"), "success")
    return redirect(url_for("items.show", item_id=item_id) + "#paper")
