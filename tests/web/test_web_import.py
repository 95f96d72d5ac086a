"""Batch import and export in the web app (the no-script form path; the browser test drives
the page's script): who may import, the dry run's table, registration, the downloads."""

from __future__ import annotations

import io
import time

from openpyxl import load_workbook
from PIL import Image

from service.sheet_columns import HEADERS
from service.sheets import SheetWriter


def _png(n: int) -> bytes:
    img = Image.new("L", (70, 30), 255)
    for bit in range(20):
        if (n + 1000) >> bit & 1:
            img.putpixel((bit * 3, 4), 0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _sheet(tmp_path, rows) -> bytes:
    path = tmp_path / "sheet.xlsx"
    w = SheetWriter(path, HEADERS)
    for r in rows:
        w.append([r.get(h) for h in HEADERS])
    w.close()
    return path.read_bytes()


def _row(i: int, **kw):
    row = {"全宗号": "J001", "门类": "WS", "年度": 2019, "保管期限": "Y", "题名": f"会议纪要第{i}期",
           "密级": "内部", "文件名": f"w{i}.png"}
    row.update(kw)
    return row


def _wait(client, token: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        st = client.get(f"/import/{token}/state.json").get_json()
        if not st["running"]:
            return st
        time.sleep(0.2)
    raise AssertionError("the registration did not finish")


def test_staff_may_not_import(app, h):
    client = app.test_client()
    h.login(client, "alice")
    assert client.get("/import").status_code == 403
    assert "批量登记" not in client.get("/search").get_data(as_text=True)


def test_import_by_form_dry_run_then_register(app, h, tmp_path):
    client = app.test_client()
    h.login(client, "arc")
    token = h.csrf(client, "/import")
    rows = [_row(1), _row(2), _row(3, 日期="2018-01-01")]
    data = {"csrf_token": token, "sheet": (io.BytesIO(_sheet(tmp_path, rows)), "目录.xlsx"),
            "scans": [(io.BytesIO(_png(i)), f"scans/w{i}.png") for i in (1, 2, 3, 4)]}
    r = client.post("/import", data=data, content_type="multipart/form-data")
    assert r.status_code == 302
    check_url = r.headers["Location"]
    page = client.get(check_url).get_data(as_text=True)
    assert "有问题 1 行" in page and "可登记 2 件" in page
    assert "不在年度 2019 内" in page and "w4.png" in page  # the bad cell, the unused file
    token_part = check_url.rstrip("/").split("/")[-1]
    r = client.post(f"/import/{token_part}/register", data={"csrf_token": token})
    assert r.status_code == 302
    st = _wait(client, token_part)
    assert st["finished"]["registered"] == 2 and st["finished"]["failed"] == 1
    assert st["ocr"]["pages"] == 2
    page = client.get(f"/import/{token_part}/progress").get_data(as_text=True)
    assert "J001-WS·2019-Y-0001" in page and "J001-WS·2019-Y-0002" in page
    # a retry with the corrected sheet registers the last row; the scans are then removed
    rows[2]["日期"] = "2019-01-01"
    r = client.post(f"/import/{token_part}/sheet", data={
        "csrf_token": token, "sheet": (io.BytesIO(_sheet(tmp_path, rows)), "目录.xlsx")},
        content_type="multipart/form-data")
    assert "可登记 1 件" in client.get(check_url).get_data(as_text=True)
    assert "此前已登记 2 件" in client.get(check_url).get_data(as_text=True)
    client.post(f"/import/{token_part}/register", data={"csrf_token": token})
    st = _wait(client, token_part)
    assert st["finished"]["registered"] == 1 and st["finished"]["done"] == 2
    assert st["finished"]["failed"] == 0
    assert client.get(check_url).status_code == 302  # to the finished batch's results
    # another user cannot see this batch
    other = app.test_client()
    h.login(other, "admin", h.ADMIN_PW)
    assert other.get(check_url).status_code == 404


def test_template_and_export_downloads(app, h):
    h.item(title="导出测试档案", text="导出测试")
    client = app.test_client()
    h.login(client, "arc")
    r = client.get("/import/template.xlsx")
    assert r.status_code == 200 and "no-store" in r.headers["Cache-Control"]
    wb = load_workbook(io.BytesIO(r.data))
    assert [c.value for c in wb["目录"][1]] == list(HEADERS)
    r = client.get("/export.xlsx")
    rows = list(load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    assert list(rows[0]) == list(HEADERS) and any("导出测试档案" in r for r in rows[1:])
    r = client.get("/export.csv?q=导出测试")
    text = r.data.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(HEADERS) and "导出测试档案" in text
    assert client.get("/export.pdf").status_code == 404
    assert "export-xlsx" in client.get("/search?q=导出测试").get_data(as_text=True)


def test_a_zip_bomb_among_the_scans_is_refused(archive, h, monkeypatch):
    """A zip of scans unpacks only up to the upload cap, counted as written (the headers lie)."""
    import dataclasses
    import zipfile

    from web.app import create_app

    monkeypatch.setattr(archive, "settings",
                        dataclasses.replace(archive.settings, max_upload_bytes=4 * 1024 * 1024))
    app = create_app(archive, {"TESTING": True})
    client = app.test_client()
    h.login(client, "arc")
    token = h.csrf(client, "/import")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("w1.png", _png(1))
        zf.writestr("w2.png", bytes(64 * 1024 * 1024))
    bomb.seek(0)
    data = {"csrf_token": token, "sheet": (io.BytesIO(b"\xe9\xa2\x98\xe5\x90\x8d\n"), "s.csv"),
            "scans": [(bomb, "scans.zip")]}
    r = client.post("/import", data=data, content_type="multipart/form-data")
    assert r.status_code == 400
    assert "解开后超过" in r.get_data(as_text=True)
    left = [p for p in (archive.settings.data_dir / "tmp").glob("import-*/scans/**/*")
            if p.is_file()]
    assert left == []


def test_a_failed_start_leaves_no_folder_and_the_purge_sweeps_abandoned_ones(
        app, archive, h, tmp_path):
    """An upload refused at once leaves no batch folder; the hourly purge removes a batch
    nobody wrote to for a week, never one in use."""
    from datetime import timedelta

    from service import clock
    from service.deletion import finalise_due

    tmp = archive.settings.data_dir / "tmp"
    before = set(tmp.glob("import-*"))  # other tests' batches, written just now
    client = app.test_client()
    h.login(client, "arc")
    token = h.csrf(client, "/import")
    r = client.post("/import", data={"csrf_token": token,
                                     "sheet": (io.BytesIO(b"x"), "notes.txt")},
                    content_type="multipart/form-data")
    assert r.status_code == 400
    assert set(tmp.glob("import-*")) == before
    data = {"csrf_token": token, "sheet": (io.BytesIO(_sheet(tmp_path, [_row(1)])), "目录.xlsx"),
            "scans": [(io.BytesIO(_png(1)), "scans/w1.png")]}
    check_url = client.post("/import", data=data,
                            content_type="multipart/form-data").headers["Location"]
    (batch,) = set(tmp.glob("import-*")) - before
    assert finalise_due(archive)["temporaries_removed"] == 0  # in use
    there = set(tmp.iterdir())  # this batch among them
    later = clock.now() + timedelta(days=8)
    with clock.use_clock(lambda: later):
        assert finalise_due(archive)["temporaries_removed"] == len(there)
    assert not batch.exists() and client.get(check_url).status_code == 404
