"""库房 → 架 → 节 → 层 → 盒: browsing, the box page with its spine label, and the forms."""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from service.access import can_manage_locations, can_print_labels
from service.browse import (
    all_shelves,
    box_label,
    box_page,
    boxes_on_shelf,
    get_shelf,
    register_box,
    register_shelf,
    relocate_box,
    room_tree,
    shelving_tree,
    unshelved_boxes,
)
from service.codes import RETENTIONS
from service.errors import N_, DanganError
from service.locations import box_path
from service.paperwork_pdf import print_boxes, print_shelf

from .ctx import db, me, tr
from .search_views import retention_label

bp = Blueprint("shelves", __name__)


def _int_or_none(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


def _overview(error: str | None = None, values: dict | None = None, status: int = 200) -> ResponseReturnValue:
    s = db()
    return render_template("shelves.html", rooms=shelving_tree(s),
                           unshelved=unshelved_boxes(s, me()), shelves=all_shelves(s),
                           retentions=RETENTIONS, retention_label=retention_label,
                           error=error, values=values or {}), status


@bp.route("/shelves")
@login_required
def overview() -> ResponseReturnValue:
    return _overview()


@bp.route("/shelves/rooms/<int:room_id>")
@login_required
def room(room_id: int) -> ResponseReturnValue:
    s = db()
    node = room_tree(s, room_id)
    return render_template("room.html", room=node)


@bp.route("/shelves/<int:shelf_id>")
@login_required
def shelf(shelf_id: int) -> ResponseReturnValue:
    s = db()
    sh = get_shelf(s, shelf_id)
    return render_template("shelf.html", shelf=sh, boxes=boxes_on_shelf(s, me(), shelf_id),
                           can_print=can_print_labels(me()), retention_label=retention_label)


@bp.route("/shelves/new", methods=["POST"])
@login_required
def new_shelf() -> ResponseReturnValue:
    f = request.form
    try:
        sh = register_shelf(db(), me(), f.get("room", ""), f.get("rack", ""),
                            f.get("section", ""), f.get("shelf", ""), f.get("room_name"))
        db().commit()
    except DanganError as exc:
        db().rollback()
        return _overview(tr(exc.msg), f.to_dict(), 400)
    flash(_("已登记位置 %(path)s。", path=sh.path), "success")
    return redirect(url_for("shelves.shelf", shelf_id=sh.id))


@bp.route("/boxes/new", methods=["POST"])
@login_required
def new_box() -> ResponseReturnValue:
    f = request.form
    try:
        year = _int_or_none(f.get("year"))
        if (f.get("year") or "").strip() and year is None:
            raise DanganError(N_("年度应为4位数字。"))
        org = (f.get("org") or "").strip().upper() or None
        box = register_box(db(), me(), f.get("barcode", ""), year=year,
                           retention=(f.get("retention") or "").strip() or None, org_code=org,
                           shelf_id=_int_or_none(f.get("shelf_id")))
        db().commit()
    except DanganError as exc:
        db().rollback()
        return _overview(tr(exc.msg), f.to_dict(), 400)
    flash(_("已登记档案盒 %(barcode)s。", barcode=box.barcode), "success")
    return redirect(url_for("shelves.box", barcode=box.barcode))


def _box_view(barcode: str, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    s = db()
    box, items = box_page(s, me(), barcode)
    return render_template("box.html", box=box, items=items, path=box_path(box),
                           shelves=all_shelves(s) if can_manage_locations(me()) else [],
                           can_print=can_print_labels(me()),
                           retention_label=retention_label, error=error), status


@bp.route("/boxes/<barcode>")
@login_required
def box(barcode: str) -> ResponseReturnValue:
    return _box_view(barcode)


@bp.route("/boxes/<barcode>/move", methods=["POST"])
@login_required
def move(barcode: str) -> ResponseReturnValue:
    try:
        relocate_box(db(), me(), barcode, _int_or_none(request.form.get("shelf_id")),
                     request.form.get("note"))
        db().commit()
    except DanganError as exc:
        db().rollback()
        return _box_view(barcode, tr(exc.msg), 400)
    flash(_("档案盒已移动。"), "success")
    return redirect(url_for("shelves.box", barcode=barcode))


def qr_svg(data: str) -> Markup:
    """A QR code as inline SVG (made by the qrcode library from our own URL)."""
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = img.to_string(encoding="unicode")
    return Markup(svg.replace("<svg ", '<svg class="qr" role="img" aria-label="QR" ', 1))


@bp.route("/boxes/<barcode>/label")
@login_required
def label(barcode: str) -> ResponseReturnValue:
    box, contents = box_label(db(), me(), barcode)
    url = url_for("shelves.box", barcode=box.barcode, _external=True)
    return render_template("label.html", box=box, path=box_path(box), qr=qr_svg(url), url=url,
                           contents=contents, retention_label=retention_label)


def _box_url(barcode: str) -> str:
    return url_for("shelves.box", barcode=barcode, _external=True)


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"})


@bp.route("/boxes/<barcode>/paperwork.pdf")
@login_required
def paperwork(barcode: str) -> ResponseReturnValue:
    """The box's cover, spine, 归档文件目录 and 备考表 (DA/T 22-2015) as one PDF."""
    return _pdf(print_boxes(db(), me(), [barcode], _box_url), f"box-{barcode}.pdf")


@bp.route("/shelves/<int:shelf_id>/paperwork.pdf")
@login_required
def shelf_paperwork(shelf_id: int) -> ResponseReturnValue:
    """The paperwork of every box on the shelf, in one PDF."""
    return _pdf(print_shelf(db(), me(), shelf_id, _box_url), f"shelf-{shelf_id}.pdf")
