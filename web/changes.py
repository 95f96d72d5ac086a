"""The archive manager's approvals queue for catalogue changes, and a requester's
withdrawal: the views parse the forms, call service.changes and render."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from service.access import can_approve_change, can_withdraw_change
from service.changes import (
    STATUS_LABELS,
    approve_change,
    change_queue,
    reject_change,
    withdraw_change,
)
from service.edits import change_labels
from service.errors import DanganError
from service.vocab import ChangeStatus

from .ctx import db, signed_in, tr

bp = Blueprint("changes", __name__)


@bp.route("/changes")
@login_required
def queue() -> ResponseReturnValue:
    user = signed_in()
    status = request.args.get("status", ChangeStatus.PENDING)
    if status not in tuple(ChangeStatus):
        abort(404)
    rows = change_queue(db(), user, status=status)
    return render_template("changes.html", rows=rows, status=status, statuses=STATUS_LABELS,
                           labels=change_labels(), may_decide=can_approve_change,
                           may_withdraw=can_withdraw_change)


@bp.route("/changes/<int:request_id>", methods=["POST"])
@login_required
def decide(request_id: int) -> ResponseReturnValue:
    f = request.form
    decision = f.get("decision", "")
    try:
        if decision == "approve":
            approve_change(db(), signed_in(), request_id, f.get("note", ""))
            done = _("已批准修改申请 %(id)s，档案著录已更新。", id=request_id)
        elif decision == "reject":
            reject_change(db(), signed_in(), request_id, f.get("note", ""))
            done = _("已驳回修改申请 %(id)s。", id=request_id)
        elif decision == "withdraw":
            withdraw_change(db(), signed_in(), request_id)
            done = _("已撤回修改申请 %(id)s。", id=request_id)
        else:
            abort(400)
        db().commit()
    except DanganError as exc:
        db().rollback()
        flash(tr(exc.msg), "error")
    else:
        flash(done, "success")
    back = f.get("next", "")
    return redirect(back if back.startswith("/") and not back.startswith("//")
                    else url_for("changes.queue"))
