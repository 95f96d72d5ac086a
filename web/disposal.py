"""Deletion and destruction from the browser: the views parse the forms, call
service.deletion / service.destruction and render (the rules live there)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from service import deletion
from service.access import can_approve_deletion, require_see_disposal
from service.errors import DanganError, PermissionDenied

from .ctx import archive, db, me, tr

bp = Blueprint("disposal", __name__)


def _act(action: Callable[[], object], done: str, back: str) -> ResponseReturnValue:
    """Run one step; a refusal other than a permission is shown as a message on `back`."""
    try:
        action()
    except DanganError as exc:
        db().rollback()
        if isinstance(exc, PermissionDenied):
            raise
        flash(tr(exc.msg), "error")
        return redirect(back)
    flash(done, "success")
    return redirect(back)


@bp.route("/items/<int:item_id>/deletion", methods=["POST"])
@login_required
def request_deletion(item_id: int) -> ResponseReturnValue:
    back = url_for("items.show", item_id=item_id) + "#disposal"
    return _act(lambda: deletion.request_deletion(archive(), me(), item_id,
                                                  request.form.get("reason", "")),
                _("删除申请已提交，待档案室主任审批。"), back)


@bp.route("/deletions")
@login_required
def deletions() -> ResponseReturnValue:
    require_see_disposal(me())
    return render_template(
        "deletions.html",
        asked=deletion.deletions(archive(), me(), ("requested",)),
        held=deletion.deletions(archive(), me(), ("approved",)),
        final=deletion.deletions(archive(), me(), ("final",))[-20:],
        may_decide=can_approve_deletion(me()))


@bp.route("/deletions/<int:request_id>/approve", methods=["POST"])
@login_required
def approve_deletion(request_id: int) -> ResponseReturnValue:
    return _act(lambda: deletion.approve_deletion(archive(), me(), request_id,
                                                  request.form.get("note", "")),
                _("已批准删除，档案暂存 30 天后正式删除。"), url_for("disposal.deletions"))


@bp.route("/deletions/<int:request_id>/reject", methods=["POST"])
@login_required
def reject_deletion(request_id: int) -> ResponseReturnValue:
    return _act(lambda: deletion.reject_deletion(archive(), me(), request_id,
                                                 request.form.get("note", "")),
                _("已驳回删除申请。"), url_for("disposal.deletions"))


@bp.route("/deletions/<int:request_id>/undo", methods=["POST"])
@login_required
def undo_deletion(request_id: int) -> ResponseReturnValue:
    item_id = request.form.get("item", type=int)
    back = url_for("items.show", item_id=item_id) if item_id else url_for("disposal.deletions")
    return _act(lambda: deletion.undo_deletion(archive(), me(), request_id),
                _("已撤销删除，档案已恢复。"), back)
