"""Batch import in the browser: the sheet and the scan folder uploaded to a batch folder on
disk, the dry run shown as a table, the registration run in the background with its
progress; the template and the catalogue export as downloads.

A batch of tens of GB cannot be one request (the upload cap): the page posts the sheet
first, then each scan file in a request of its own (the page shows the upload's progress),
all written straight to the batch folder on disk (werkzeug spools each part to a temp file,
never to memory). Without JavaScript the form posts the sheet and the files in one request.
The batch folder (service.batch_folders) is private to the user who made it; its scans are
removed once its registration leaves no row to retry, a batch whose upload fails at once is
removed at once, and the hourly purge sweeps a folder nobody wrote to for a week.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path, PurePosixPath
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.datastructures import FileStorage

from service import batch_folders
from service.archive import Archive
from service.batch import batch_progress, plan_batch, register_batch, require_import
from service.errors import N_, DanganError, InvalidInput, dumps, msg
from service.export import export_sheet, write_template
from service.models import User
from service.scan_zip import safe_relative, unpack_scans
from service.search import parse_search_params
from service.sheets import SHEET_SUFFIXES

from .ctx import archive, error_status, me, tr

bp = Blueprint("imports", __name__)


# ----------------------------------------------------------------- the batch folder


def _folder(token: str) -> Path:
    """The batch folder of `token`, if it is the signed-in user's (404 otherwise)."""
    user = me()
    if not token.replace("-", "").replace("_", "").isalnum() or len(token) > 64:
        abort(404)
    folder = batch_folders.folder(archive(), token)
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        abort(404)
    if user is None or meta.get("user") != user.username:
        abort(404)
    return folder


def _sheet(folder: Path) -> Path:
    found = [p for p in (folder / "sheet").iterdir() if p.suffix.lower() in SHEET_SUFFIXES]
    if not found:
        abort(404)
    return found[0]


def _save_sheet(folder: Path, fs: FileStorage | None) -> None:
    name = PurePosixPath((fs.filename or "").replace("\\", "/")).name if fs else ""
    suffix = Path(name).suffix.lower()
    if not name or suffix not in SHEET_SUFFIXES:
        raise InvalidInput(N_("请选择目录表文件（.xlsx 或 .csv）。"))
    target = folder / "sheet"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    assert fs is not None
    fs.save(target / name)


def _relative(name: str, picked_folder: bool) -> Path:
    """A scan's path inside the batch's scans folder, from the browser's name for it: a
    folder upload names files `picked/sub/file`, and the picked folder's own name is dropped."""
    return safe_relative(name, drop_first=picked_folder)


def _save_scan(folder: Path, fs: FileStorage, path: str | None) -> int:
    """Save one uploaded scan (or unpack a .zip of scans) into the batch's scans folder."""
    scans = folder / "scans"
    rel = _relative(path or fs.filename or "", picked_folder=bool(path and "/" in path)
                    or "/" in (fs.filename or ""))
    target = scans / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    fs.save(target)
    if target.suffix.lower() != ".zip":
        return 1
    try:
        return unpack_scans(target, scans, archive().settings.max_upload_bytes)
    finally:
        target.unlink(missing_ok=True)


# ----------------------------------------------------------------- pages


def _user() -> User:
    user = me()
    require_import(user)
    assert user is not None
    return user


@bp.route("/import", methods=["GET", "POST"])
@login_required
def start() -> ResponseReturnValue:
    try:
        user = _user()
        if request.method == "GET":
            return render_template("import.html", error=None)
        token, folder = batch_folders.new_folder(archive(), user.username)
        try:
            _save_sheet(folder, request.files.get("sheet"))
            for fs in request.files.getlist("scans"):
                if fs.filename:
                    _save_scan(folder, fs, None)
        except BaseException:  # a batch that never began leaves nothing behind
            batch_folders.remove(folder)
            raise
    except DanganError as exc:
        if request.accept_mimetypes.best == "application/json":
            return jsonify(error=tr(exc.msg)), error_status(exc)
        return render_template("import.html", error=tr(exc.msg)), error_status(exc)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(token=token, files=url_for("imports.files", token=token),
                       check=url_for("imports.check", token=token))
    return redirect(url_for("imports.check", token=token))


@bp.route("/import/<token>/files", methods=["POST"])
@login_required
def files(token: str) -> ResponseReturnValue:
    """One or more scans of the batch (the page sends one per request, with its path)."""
    folder = _folder(token)
    try:
        _user()
        n = sum(_save_scan(folder, fs, request.form.get("path"))
                for fs in request.files.getlist("scans") if fs.filename)
    except DanganError as exc:
        return jsonify(error=tr(exc.msg)), error_status(exc)
    return jsonify(saved=n)


@bp.route("/import/<token>")
@login_required
def check(token: str) -> ResponseReturnValue:
    """The dry run: every row and file checked, nothing written."""
    folder = _folder(token)
    sheet = _sheet(folder)
    if not (folder / "scans").exists():  # registered in full, its scans removed
        return redirect(url_for("imports.progress", token=token))
    try:
        plan = plan_batch(archive(), _user(), sheet, folder / "scans")
    except DanganError as exc:
        return render_template("import_check.html", token=token, sheet=sheet.name, plan=None,
                               error=tr(exc.msg)), error_status(exc)
    return render_template("import_check.html", token=token, sheet=sheet.name, plan=plan,
                           error=None, state=_state(folder))


@bp.route("/import/<token>/sheet", methods=["POST"])
@login_required
def replace_sheet(token: str) -> ResponseReturnValue:
    """A corrected sheet for the same scans (the rows that failed, fixed)."""
    folder = _folder(token)
    try:
        _user()
        _save_sheet(folder, request.files.get("sheet"))
    except DanganError as exc:
        return render_template("import.html", error=tr(exc.msg)), error_status(exc)
    (folder / "state.json").unlink(missing_ok=True)
    return redirect(url_for("imports.check", token=token))


def _state(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        return None


def _write_state(folder: Path, state: dict[str, Any]) -> None:
    tmp = folder / "state.json.tmp"
    tmp.write_text(json.dumps(state, ensure_ascii=False))
    os.replace(tmp, folder / "state.json")


def _run(arch: Archive, user_id: int, folder: Path) -> None:
    """The registration, in a thread of the server: progress and result in state.json."""
    state: dict[str, Any] = {"running": True, "done": 0, "total": 0, "result": None}
    last = 0.0

    def progress(_stage: str, done: int, total: int) -> None:
        nonlocal last
        state.update(done=done, total=total)
        if time.monotonic() - last > 0.3 or done == total:
            last = time.monotonic()
            _write_state(folder, state)

    try:
        with arch.session() as s:
            user = s.get(User, user_id)
            assert user is not None
            s.expunge(user)
        result = register_batch(arch, user, _sheet(folder), folder / "scans", progress=progress)
        state["result"] = result.to_json()
        if not result.failed:  # nothing left to retry: the scans are in the archive now
            shutil.rmtree(folder / "scans", ignore_errors=True)
    except DanganError as exc:
        state["error"] = dumps(exc.msg)
    except Exception as exc:  # noqa: BLE001 - reported on the page, the rows retryable
        state["error"] = dumps(msg(N_("登记中断：%(cause)s。已登记的档案保留，重新登记会跳过它们。"),
                                   cause=type(exc).__name__))
    state["running"] = False
    _write_state(folder, state)


@bp.route("/import/<token>/register", methods=["POST"])
@login_required
def register(token: str) -> ResponseReturnValue:
    folder = _folder(token)
    user = _user()
    running = _state(folder)
    if not (running and running.get("running")):
        _write_state(folder, {"running": True, "done": 0, "total": 0, "result": None})
        threading.Thread(target=_run, args=(archive(), user.id, folder), daemon=True,
                         name=f"import-{token[:8]}").start()
    return redirect(url_for("imports.progress", token=token))


@bp.route("/import/<token>/progress")
@login_required
def progress(token: str) -> ResponseReturnValue:
    folder = _folder(token)
    return render_template("import_run.html", token=token, sheet=_sheet(folder).name,
                           state=_state(folder) or {})


@bp.route("/import/<token>/state.json")
@login_required
def state(token: str) -> ResponseReturnValue:
    folder = _folder(token)
    st = _state(folder) or {}
    result = st.get("result") or {}
    ids = [r["id"] for r in (*result.get("registered", []), *result.get("done", []))]
    with archive().session() as s:
        ocr = batch_progress(s, ids)
    return jsonify(running=st.get("running", False), done=st.get("done", 0),
                   total=st.get("total", 0), finished=result.get("counts"),
                   error=tr(st["error"]) if st.get("error") else None, ocr=ocr)


# ----------------------------------------------------------------- downloads


def _download(path: Path, name: str, mimetype: str) -> Response:
    resp = send_file(path, mimetype=mimetype, as_attachment=True, download_name=name)
    resp.call_on_close(lambda: path.unlink(missing_ok=True))
    resp.headers["Cache-Control"] = "no-store"
    return resp


_MIME = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8"}


def _temp(suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="export-", suffix=suffix, dir=batch_folders.root(archive()))
    os.close(fd)
    return Path(name)


@bp.route("/import/template.xlsx")
@login_required
def template() -> ResponseReturnValue:
    path = _temp(".xlsx")
    write_template(archive(), me(), path)
    return _download(path, "档案目录模板.xlsx", _MIME["xlsx"])


@bp.route("/export.<fmt>")
@login_required
def export(fmt: str) -> ResponseReturnValue:
    """The catalogue, or the search result the query string describes, as a sheet."""
    if fmt not in _MIME:
        abort(404)
    try:
        params = parse_search_params(request.args)
    except DanganError as exc:
        return Response(tr(exc.msg), status=error_status(exc), mimetype="text/plain")
    path = _temp(f".{fmt}")
    export_sheet(archive(), me(), params, path)
    return _download(path, f"档案目录-{time.strftime('%Y%m%d')}.{fmt}", _MIME[fmt])
