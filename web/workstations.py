"""Reading-room workstations kept by the administrator: register, enrol this browser, revoke.
The views parse the forms and call service.workstations, which decides who may and audits."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from service import workstations as ws
from service.errors import DanganError, PermissionDenied

from .ctx import db, me, reader, tr

bp = Blueprint("workstations", __name__)


def _page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template("admin_workstations.html",
                           workstations=ws.list_workstations(db(), me()), here=reader(),
                           error=error, values=request.form.to_dict()), status


@bp.route("/admin/workstations")
@login_required
def index() -> ResponseReturnValue:
    return _page()


@bp.route("/admin/workstations/new", methods=["POST"])
@login_required
def register() -> ResponseReturnValue:
    try:
        w = ws.register(db(), me(), request.form.get("name", ""), request.form.get("ip"))
        db().commit()
    except PermissionDenied:
        raise
    except DanganError as exc:
        db().rollback()
        return _page(tr(exc.msg), 400)
    flash(_("已登记阅览室终端 %(name)s。请在该终端的浏览器上登录并点击“将本浏览器登记为此终端”。",
            name=w.name), "success")
    return redirect(url_for("workstations.index"))


@bp.route("/admin/workstations/<int:workstation_id>/enrol", methods=["POST"])
@login_required
def enrol(workstation_id: int) -> ResponseReturnValue:
    token = ws.enrol(db(), me(), workstation_id)
    name = ws.get_workstation(db(), workstation_id).name
    db().commit()
    flash(_("本浏览器已登记为阅览室终端 %(name)s。", name=name), "success")
    resp = redirect(url_for("workstations.index"))
    resp.set_cookie(ws.COOKIE, token, max_age=ws.COOKIE_MAX_AGE, httponly=True,
                    samesite="Strict", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return resp


@bp.route("/admin/workstations/<int:workstation_id>/revoke", methods=["POST"])
@login_required
def revoke(workstation_id: int) -> ResponseReturnValue:
    w = ws.revoke(db(), me(), workstation_id)
    db().commit()
    flash(_("已撤销阅览室终端 %(name)s：该浏览器不再能查阅机密档案。", name=w.name), "success")
    return redirect(url_for("workstations.index"))
