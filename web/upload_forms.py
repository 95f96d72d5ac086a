"""Uploads: the upload page, and turning an upload form (the page, the API, a file
replacement) into an ingest request, with the files in a private temp dir.

The page's XHR posts to /api/v1/items; the page's own POST is the no-script fallback.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path, PurePosixPath, PureWindowsPath

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.datastructures import FileStorage, MultiDict

from service import batch_folders
from service.access import registrable_secrecy
from service.archive import Archive
from service.browse import all_boxes, list_customers
from service.catalogue import list_categories
from service.codes import RETENTIONS
from service.errors import N_, DanganError, InvalidInput, Listing, Message
from service.fields import yes_no
from service.ingest import IngestRequest, IngestResult, ingest
from service.models import Fonds, User

from .ctx import archive, db, error_status, me, signed_in, tr
from .search_views import retention_label, section_names

_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


def _text(form: MultiDict, name: str, limit: int = 1000) -> str | None:
    v = (form.get(name) or "").strip()
    if len(v) > limit:
        raise InvalidInput(N_("字段 %(name)s 过长（最多 %(limit)s 字）。"), name=name, limit=limit)
    return v or None


def _int(form: MultiDict, name: str, label: str, required: bool = False) -> int | None:
    """``label`` names the field: a message id marked with N_."""
    raw = (form.get(name) or "").strip()
    if not raw:
        if required:
            raise InvalidInput(N_("请填写%(field)s。"), field=Message(label))
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(N_("%(field)s应为整数：“%(raw)s”。"), field=Message(label),
                           raw=raw) from None


def _date(form: MultiDict, name: str) -> date | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(N_("日期格式应为 YYYY-MM-DD：“%(raw)s”。"), raw=raw) \
            from None


def client_name(filename: str | None, n: int) -> str:
    """The file's own name without any directory part the browser may send."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name.strip()
    return name[:255] or f"file-{n}"


def catalogue_fields(form: MultiDict) -> dict:
    """The catalogue fields of the form, checked for type; the service checks the rest."""
    org = _text(form, "org", 3)
    return {
        "fonds": (_text(form, "fonds", 4) or "J001").upper(),
        "category": (_text(form, "category", 2) or "").upper(),
        "year": _int(form, "year", N_("年度"), required=True),
        "retention": _text(form, "retention", 3) or "",
        "secrecy": _text(form, "secrecy", 4) or "",
        "title": _text(form, "title") or "",
        "org": org.upper() if org else None,
        "customer": _text(form, "customer", 20),
        "customer_section": _text(form, "customer_section", 20),
        "box": _text(form, "box", 40),
        "doc_number": _text(form, "doc_number", 100),
        "responsible": _text(form, "responsible", 200),
        "doc_date": _date(form, "doc_date"),
        "paper_pages": _int(form, "paper_pages", N_("纸质页数")),
        "remarks": _text(form, "remarks", 5000),
        "id_copies": yes_no(form.get("id_copies"), N_("含身份证复印件")),
    }


def _real_files(files: list[FileStorage]) -> list[FileStorage]:
    return [f for f in files if f is not None and (f.filename or "").strip()]


@contextlib.contextmanager
def upload_dir(archive: Archive) -> Iterator[Path]:
    try:
        parent: str | None = str(batch_folders.root(archive))
    except OSError:
        parent = None
    with tempfile.TemporaryDirectory(prefix="upload-", dir=parent) as tmp:
        yield Path(tmp)


def ingest_upload(archive: Archive, user: User, form: MultiDict,
                  files: list[FileStorage]) -> IngestResult:
    """Validate the form, save the files to a private temp dir, ingest, always clean up."""
    fields = catalogue_fields(form)
    files = _real_files(files)
    if not files:
        raise InvalidInput(N_("没有选择文件：请至少选择一个扫描文件。"))
    with upload_dir(archive) as tmp:
        paths, names, empty = [], [], []
        for n, fs in enumerate(files, start=1):
            name = client_name(fs.filename, n)
            suffix = Path(name).suffix
            path = tmp / f"{n:05d}{suffix if _SUFFIX.match(suffix) else ''}"
            fs.save(path)
            if path.stat().st_size == 0:
                empty.append(name)
            paths.append(path)
            names.append(name)
        if empty:
            raise InvalidInput(N_("以下文件是空文件（0 字节），请重新扫描或去掉后再上传：%(listed)s。"),
                               listed=Listing(empty))
        req = IngestRequest(files=paths, original_names=names, actor=user.username,
                            uploader=user, **fields)
        return ingest(archive, req)


bp = Blueprint("upload", __name__)


def _render(values: dict, error: str | None = None, status: int = 200,
            details: dict | None = None) -> ResponseReturnValue:
    s = db()
    user = me()
    details = details or {}
    return render_template(
        "upload.html", values=values, error=error, existing=details.get("existing", []),
        failed_files=details.get("failed_files", []),
        fonds=list(s.query(Fonds).order_by(Fonds.code)), categories=list_categories(s),
        retentions=RETENTIONS, retention_label=retention_label, secrecy_levels=registrable_secrecy(user),
        customers=list_customers(s, user), boxes=all_boxes(s), sections=section_names(),
        this_year=date.today().year), status


@bp.route("/upload", methods=["GET", "POST"])
@login_required
def upload() -> ResponseReturnValue:
    if request.method == "GET":
        return _render(request.args.to_dict())
    try:
        result = ingest_upload(archive(), signed_in(), request.form, request.files.getlist("files"))
    except DanganError as exc:
        return _render(request.form.to_dict(), tr(exc.msg), error_status(exc),
                       exc.details)
    if result.failed_files:
        for f in result.failed_files:
            flash(f"{f['name']}: {tr(f['reason'])}", "error")
    flash(_("已登记 %(code)s，正在识别文字。", code=result.archival_code), "success")
    return redirect(url_for("items.show", item_id=result.id))
