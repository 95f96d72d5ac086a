"""Batch import end to end in real Chromium against a real `dangan serve` with OCR workers:
download the template, fill it in, upload it with the scans (the page's script sends each
file on its own), read the dry run's table of problems, register, watch the registration and
the OCR finish, and find the registered items by their text.
Screenshots of every step go to test-artifacts/import-*.png.
"""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.browser import MARKS, shot
from tests.scanfactory import render_page, write_png
from tests.served import served_archive

PASSWORD = "browser-pass-123"
PHRASES = ("关于档案数字化加工的请示", "二〇一九年第三季度工作会议纪要")

pytestmark = MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("dangan-browser-import")
    with served_archive(data, PASSWORD, workers=2) as site:
        yield site["base"]


def test_batch_import_from_the_template_to_searchable_items(signed_in, server, tmp_path):
    page = signed_in(server, "admin", PASSWORD, timeout=20000, accept_downloads=True)
    page.click("nav >> text=批量登记")
    page.wait_for_url("**/import")
    shot(page, "import-01-start")

    with page.expect_download() as dl:
        page.click("#template-link")
    template = tmp_path / "template.xlsx"
    dl.value.save_as(template)

    scans = tmp_path / "scans"
    scans.mkdir()
    files = []
    for i, phrase in enumerate(PHRASES, start=1):
        files.append(write_png(scans / f"扫描{i}.png", render_page(
            [phrase, "特此报告，请予审批。"], size=(1100, 500))))
    wb = load_workbook(template)
    ws = wb["目录"]
    headers = [c.value for c in ws[1]]
    rows = [
        {"全宗号": "J001", "门类": "WS", "年度": 2019, "保管期限": "Y", "题名": PHRASES[0],
         "责任者": "办公室", "日期": "2019-07-02", "页数": 1, "密级": "内部", "文件名": "扫描1.png"},
        {"全宗号": "J001", "门类": "WS", "年度": 2019, "保管期限": "Y", "题名": PHRASES[1],
         "日期": "2019-09-30", "密级": "公开", "文件名": "扫描2.png"},
        {"全宗号": "J001", "门类": "WS", "年度": 2019, "保管期限": "永远", "题名": "有问题的一行",
         "密级": "内部", "文件名": "扫描3.png"},
    ]
    for r in rows:
        ws.append([r.get(h) for h in headers])
    sheet = tmp_path / "目录.xlsx"
    wb.save(sheet)

    page.set_input_files("#sheet", str(sheet))
    page.set_input_files("#scan-files", [str(f) for f in files])
    assert "2 个扫描文件" in page.inner_text("#import-summary")
    page.click("#import-button")
    page.wait_for_selector("#plan-counts")
    shot(page, "import-02-dry-run")
    counts = page.inner_text("#plan-counts")
    assert "可登记 2 件" in counts and "有问题 1 行" in counts
    problems = page.inner_text("#problems")
    assert "保管期限" in problems and "永远" in problems and "找不到“扫描3.png”" in problems

    page.click("#register-button")
    page.wait_for_url("**/progress")
    page.wait_for_selector("#result-counts", timeout=60000)
    page.wait_for_selector("#run-status.notice-success", timeout=180000)
    shot(page, "import-03-registered-and-read")
    assert "已登记 2 件" in page.inner_text("#result-counts")
    assert "未登记 1 行" in page.inner_text("#result-counts")
    registered = page.inner_text("#registered")
    assert "J001-WS·2019-Y-0001" in registered and "J001-WS·2019-Y-0002" in registered
    assert page.inner_text("#ocr-progress-text") == "2 / 2 页"

    page.goto(server + "/search?q=数字化加工")
    shot(page, "import-04-search")
    assert "J001-WS·2019-Y-0001" in page.inner_text(".results")

    with page.expect_download() as dl:
        page.click("#export-xlsx")
    exported = tmp_path / "export.xlsx"
    dl.value.save_as(exported)
    got = list(load_workbook(exported).active.iter_rows(values_only=True))
    assert got[0] == tuple(headers) and got[1][0] == "J001-WS·2019-Y-0001"
