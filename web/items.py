"""The item page, its page viewer, and the page images / files streamed after a permission check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from service import repairs
from service.access import (
    can_approve_change,
    can_approve_deletion,
    can_edit_item,
    can_repair_files,
    can_request_deletion,
    can_withdraw_change,
    may_cache,
    may_export,
    open_decision,
)
from service.arrange import counted_pages
from service.audit_actions import AuditAction
from service.changes import pending_changes
from service.deletion import item_deletion
from service.destruction import item_destruction
from service.edits import change_labels, history
from service.errors import N_, DanganError, InvalidInput, NotFound, PermissionDenied
from service.fourprops_report import item_panel
from service.items import (
    downloadable_file,
    get_page,
    hit_boxes,
    pages_with_matches,
    record_access,
    record_denied,
    source_files,
    text_segments,
    visible_item,
)
from service.page_render import masked_download, page_view
from service.privacy import text_for
from service.twoset import electronic_side, paper_side
from service.vocab import FileStatus, PageStatus, PaperCondition

from .ctx import archive, db, int_arg, me, reader, signed_in, tr
from .search_views import retention_label, section_names, status_label
from .upload_forms import client_name, upload_dir

bp = Blueprint("items", __name__)
CHUNK = 256 * 1024


@bp.route("/items/<int:item_id>")
@login_required
def show(item_id: int) -> ResponseReturnValue:
    who = reader()
    user = me()
    s = db()
    item = visible_item(s, who, item_id)
    decision = open_decision(who, item)
    if not decision.allowed:
        # the catalogue entry and where the paper is, with why and what to do; no content
        record_denied(s, who, item, decision.remedy or "scope")
        return render_template(
            "item_closed.html", item=item, decision=decision, sections=section_names(),
            retention_label=retention_label, status_label=status_label), 200, \
            {"Cache-Control": "private, no-store"}
    q = request.args.get("q", "").strip()[:200]
    match_pages = pages_with_matches(item, q, who)
    default_page = match_pages[0] if match_pages else 1
    n = int_arg("page", default_page, 1, max(1, len(item.pages))) or 1
    page = get_page(item, n) if item.pages else None
    boxes = hit_boxes(page, q, who) if page is not None and page.status == PageStatus.DONE else []
    segments = text_segments(text_for(user, page.text) if page else None, q)
    originals = source_files(item)
    pdf = next((f for f in item.files if f.role == "searchable_pdf" and f.status == FileStatus.STORED),
               None)
    record_access(s, who, AuditAction.ITEM_VIEW, item, {"page": n})
    s.commit()
    html = render_template(
        "item.html", item=item, page=page, n=n, q=q, boxes=boxes, segments=segments,
        match_pages=match_pages, originals=originals, pdf=pdf,
        may_download=may_export(who, item), sections=section_names(),
        reading_room=who.reading_room,
        retention_label=retention_label, status_label=status_label,
        problems=repairs.file_problems(item), may_repair=can_repair_files(user, item),
        paper=paper_side(s, item), scans=electronic_side(item), conditions=list(PaperCondition),
        may_edit=can_edit_item(user, item), changes=history(s, item.id),
        pending=pending_changes(s, item.id), may_decide=can_approve_change,
        may_withdraw=can_withdraw_change,
        change_labels=change_labels(), counted=counted_pages(item),
        deletion=item_deletion(archive(), item.id),
        destruction=item_destruction(archive(), item.id),
        may_request_deletion=can_request_deletion(user, item),
        may_decide_deletion=can_approve_deletion(user),
        four_panel=item_panel(s, user, item.id))
    # The page carries the text: screen-only items are not kept in the browser's cache.
    return html, {} if may_cache(who, item) else {"Cache-Control": "private, no-store"}


def _stream_object(key: str, mimetype: str, *, filename: str | None = None,
                   cache: bool = False) -> Response:
    store = archive().store
    try:
        size = store.stat(key).size
    except KeyError:
        abort(404)

    def gen() -> Iterator[bytes]:
        with store.open(key) as fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    resp = Response(stream_with_context(gen()), mimetype=mimetype)
    resp.headers["Content-Length"] = str(size)
    resp.headers["Cache-Control"] = "private, max-age=3600" if cache else "private, no-store"
    if filename:
        resp.headers["Content-Disposition"] = (
            f"attachment; filename=\"download\"; filename*=UTF-8''{quote(filename)}")
    return resp


def _page_view(item_id: int, n: int, kind: str) -> ResponseReturnValue:
    """A page image or thumbnail as service.page_render draws it for this reader."""
    try:
        view = page_view(archive(), db(), reader(), item_id, n, kind)
    except NotFound:
        abort(404)
    if view.data is not None:
        resp = Response(view.data, mimetype="image/webp")
        resp.headers["Cache-Control"] = "private, no-store"
        return resp
    assert view.key is not None
    return _stream_object(view.key, "image/webp", cache=view.cache)


@bp.route("/items/<int:item_id>/pages/<int:n>/image")
@login_required
def page_image(item_id: int, n: int) -> ResponseReturnValue:
    return _page_view(item_id, n, "image")


@bp.route("/items/<int:item_id>/pages/<int:n>/thumb")
@login_required
def page_thumb(item_id: int, n: int) -> ResponseReturnValue:
    return _page_view(item_id, n, "thumb")


@bp.route("/items/<int:item_id>/files/<int:file_id>")
@login_required
def download(item_id: int, file_id: int) -> ResponseReturnValue:
    s = db()
    user = reader()
    f = downloadable_file(s, user, item_id, file_id)
    name = f.original_name or f"{f.item.archival_code}.{f.format or 'bin'}"
    mimetype = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg",
                "tiff": "image/tiff", "bmp": "image/bmp", "webp": "image/webp"}.get(
        f.format or "", "application/octet-stream")
    key = f.key
    masked = masked_download(archive(), user, f)
    record_access(s, user, AuditAction.FILE_DOWNLOAD, f.item, {"file": name, "role": f.role,
                                                "sha256": f.sha256, "masked": masked is not None})
    s.commit()
    if masked is not None:
        return _attachment(Response(masked, mimetype=mimetype), name)
    return _stream_object(key, mimetype, filename=name)


def _attachment(resp: Response, filename: str) -> Response:
    """A download built for this request (e.g. with personal data masked): never cached."""
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=\"download\"; filename*=UTF-8''{quote(filename)}")
    return resp


# -- bad files: retry, replace, remove (the archive's own roles; service.repairs decides) ------

def _repair(item_id: int, action: Callable[[], object], done_message: str) -> ResponseReturnValue:
    """Run one repair action; a refusal is shown on the item page, not as an error page."""
    try:
        action()
    except PermissionDenied:
        raise
    except DanganError as exc:
        flash(tr(exc.msg), "error")
    else:
        flash(done_message, "success")
    return redirect(url_for("items.show", item_id=item_id) + "#problems")


@bp.route("/items/<int:item_id>/files/<int:file_id>/retry", methods=["POST"])
@login_required
def retry_file(item_id: int, file_id: int) -> ResponseReturnValue:
    return _repair(item_id, lambda: repairs.retry_file(archive(), signed_in(), item_id, file_id),
                   _("已重新处理该文件，状态已更新。"))


@bp.route("/items/<int:item_id>/files/<int:file_id>/remove", methods=["POST"])
@login_required
def remove_file(item_id: int, file_id: int) -> ResponseReturnValue:
    return _repair(item_id, lambda: repairs.remove_file(archive(), signed_in(), item_id, file_id),
                   _("已从本件移除该文件（原件仍保存），状态已更新。"))


@bp.route("/items/<int:item_id>/files/<int:file_id>/replace", methods=["POST"])
@login_required
def replace_file(item_id: int, file_id: int) -> ResponseReturnValue:
    upload = request.files.get("file")

    def run() -> None:
        if upload is None or not (upload.filename or "").strip():
            raise InvalidInput(N_("请选择替换文件。"))
        with upload_dir(archive()) as tmp:
            name = client_name(upload.filename, 1)
            path = tmp / "replacement"
            upload.save(path)
            repairs.replace_file(archive(), signed_in(), item_id, file_id, path, name)

    return _repair(item_id, run, _("已上传替换文件，正在识别。"))
