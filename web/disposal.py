"""Deletion and destruction from the browser: the views parse the forms, call
service.deletion / service.destruction and render (the rules live there)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from service import deletion, destruction
from service.access import (
    can_appraise,
    can_approve_deletion,
    can_approve_destruction,
    can_confirm_destruction,
    own_request,
    require_see_disposal,
)
from service.destruction_register import FORMATS, export_audited
from service.errors import DanganError
from service.vocab import RETENTIONS

from .ctx import archive, db, me, signed_in, tr

bp = Blueprint("disposal", __name__)


def _act(action: Callable[[], object], done: str, back: str,
         then: str | None = None) -> ResponseReturnValue:
    """Run one step, then go to `then` (default `back`); a refusal, which says why and what
    to do (a permission too: the wrong approver, oneself as supervisor), is shown on `back`."""
    try:
        action()
    except DanganError as exc:
        db().rollback()
        flash(tr(exc.msg), "error")
        return redirect(back)
    flash(done, "success")
    return redirect(then or back)


@bp.route("/items/<int:item_id>/deletion", methods=["POST"])
@login_required
def request_deletion(item_id: int) -> ResponseReturnValue:
    back = url_for("items.show", item_id=item_id) + "#disposal"
    return _act(lambda: deletion.request_deletion(archive(), signed_in(), item_id,
                                                  request.form.get("reason", "")),
                _("删除申请已提交，待档案室主任审批。"), back)


@bp.route("/deletions")
@login_required
def deletions() -> ResponseReturnValue:
    require_see_disposal(me())
    asked = deletion.deletions(archive(), signed_in(), ("requested",))
    return render_template(
        "deletions.html", asked=asked,
        own={r.id for r in asked if own_request(me(), r.requested_by)},
        held=deletion.deletions(archive(), signed_in(), ("approved",)),
        final=deletion.deletions(archive(), signed_in(), ("final",))[-20:],
        may_decide=can_approve_deletion(me()))


@bp.route("/deletions/<int:request_id>/approve", methods=["POST"])
@login_required
def approve_deletion(request_id: int) -> ResponseReturnValue:
    return _act(lambda: deletion.approve_deletion(archive(), signed_in(), request_id,
                                                  request.form.get("note", "")),
                _("已批准删除，档案暂存 30 天后正式删除。"), url_for("disposal.deletions"))


@bp.route("/deletions/<int:request_id>/reject", methods=["POST"])
@login_required
def reject_deletion(request_id: int) -> ResponseReturnValue:
    return _act(lambda: deletion.reject_deletion(archive(), signed_in(), request_id,
                                                 request.form.get("note", "")),
                _("已驳回删除申请。"), url_for("disposal.deletions"))


@bp.route("/deletions/<int:request_id>/undo", methods=["POST"])
@login_required
def undo_deletion(request_id: int) -> ResponseReturnValue:
    item_id = request.form.get("item", type=int)
    back = url_for("items.show", item_id=item_id) if item_id else url_for("disposal.deletions")
    return _act(lambda: deletion.undo_deletion(archive(), signed_in(), request_id),
                _("已撤销删除，档案已恢复。"), back)


@bp.route("/destruction")
@login_required
def destruction_page() -> ResponseReturnValue:
    user = signed_in()
    require_see_disposal(user)
    appraised = destruction.cases(archive(), user, ("appraised",))
    return render_template(
        "destruction.html", due=destruction.due_items(archive(), user), appraised=appraised,
        held=destruction.cases(archive(), user, ("approved",)),
        may_appraise=can_appraise(user), may_confirm=can_confirm_destruction(user),
        may_approve={c.id: can_approve_destruction(user, c.secrecy)
                     and not own_request(user, c.appraised_by) for c in appraised},
        retentions=RETENTIONS)


@bp.route("/destruction/items/<int:item_id>/appraise", methods=["POST"])
@login_required
def appraise(item_id: int) -> ResponseReturnValue:
    f = request.form
    years = f.get("years", type=int)
    decision = f.get("decision", "")
    done = _("鉴定已记录：继续保存。") if decision == "keep" else _("鉴定已记录：待审批销毁。")
    return _act(lambda: destruction.appraise(archive(), signed_in(), item_id, decision,
                                             f.get("reason", ""), years),
                done, url_for("disposal.destruction_page"))


@bp.route("/destruction/<int:case_id>/approve", methods=["POST"])
@login_required
def approve_destruction(case_id: int) -> ResponseReturnValue:
    return _act(lambda: destruction.approve(archive(), signed_in(), case_id),
                _("已批准销毁，档案隔离保存六个月后方可销毁。"),
                url_for("disposal.destruction_page"))


@bp.route("/destruction/<int:case_id>/reject", methods=["POST"])
@login_required
def reject_destruction(case_id: int) -> ResponseReturnValue:
    return _act(lambda: destruction.reject(archive(), signed_in(), case_id, request.form.get("note", "")),
                _("已驳回销毁。"), url_for("disposal.destruction_page"))


@bp.route("/destruction/<int:case_id>/confirm", methods=["POST"])
@login_required
def confirm_destruction(case_id: int) -> ResponseReturnValue:
    return _act(lambda: destruction.confirm(archive(), signed_in(), case_id,
                                            request.form.get("supervisor", "")),
                _("销毁已确认，已记入销毁清册。"), url_for("disposal.destruction_page"),
                url_for("disposal.register"))


@bp.route("/destruction/register")
@login_required
def register() -> ResponseReturnValue:
    return render_template("destruction_register.html",
                           records=destruction.register(archive(), me()), retentions=RETENTIONS)


@bp.route("/destruction/register.<fmt>")
@login_required
def register_file(fmt: str) -> ResponseReturnValue:
    if fmt not in FORMATS:
        abort(404)
    data = export_audited(archive(), me(), destruction.register(archive(), me()), fmt)
    return Response(data, mimetype=FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="destruction-register.{fmt}"',
        "Cache-Control": "no-store"})
