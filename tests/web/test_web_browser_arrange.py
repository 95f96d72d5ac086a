"""In real Chromium against a real `dangan serve`: an archivist asks for a change of an
item's record (it waits for approval, #13.3) and splits a scanned volume into two items
(#12.2, #12.3). Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.scanfactory import text_pdf_bytes
from tests.served import CLI, ROOT, dangan_serve

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "browser-pass-123"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("dangan-arrange")
    with dangan_serve(data, PASSWORD, {"DANGAN_WORKERS": "1", "OMP_THREAD_LIMIT": "1"}) as port:
        yield {"base": f"http://127.0.0.1:{port}", "data": data}


def _ingest(data: Path) -> int:
    """A four-page volume (two contracts scanned together) registered from the command line."""
    pdf = data / "两份合同.pdf"
    pdf.write_bytes(text_pdf_bytes([["Lease contract A page one"], ["Lease contract A page two"],
                                    ["Supply contract B page one"],
                                    ["Supply contract B page two"]], media_box=(420, 300)))
    out = subprocess.run([*CLI, "ingest", str(pdf), "--fonds", "J001", "--category", "HT",
                          "--year", "2024", "--retention", "D30", "--secrecy", "内部",
                          "--title", "两份合同合订扫描", "--json"],
                         env={**os.environ, "DANGAN_DATA": str(data)}, cwd=ROOT, check=True,
                         capture_output=True, timeout=120)
    return int(json.loads(out.stdout)["id"])


def test_edit_an_item_and_split_it_in_the_browser(server) -> None:
    from playwright.sync_api import expect, sync_playwright

    item_id = _ingest(server["data"])
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_context(viewport={"width": 1360, "height": 900},
                                   locale="zh-CN").new_page()
        page.set_default_timeout(15000)
        page.goto(server["base"] + "/login")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url("**/search")

        deadline = time.monotonic() + 90  # the server's worker reads the four pages
        while True:
            page.goto(f"{server['base']}/items/{item_id}")
            if page.locator(".status-ready").count() or time.monotonic() > deadline:
                break
            time.sleep(1)
        expect(page.locator(".status-ready")).to_be_visible()

        # edit the record, with a reason
        page.click("#edit-item")
        page.fill("input[name=title]", "租赁合同（甲）")
        page.fill("input[name=doc_number]", "沪租〔2024〕17号")
        page.fill("input[name=reason]", "按原件更正题名")
        page.click("#save-edit")
        # a change request: it waits for the archive manager (tests/web/test_web_browser_changes.py
        # follows one through the approval)
        expect(page.locator("h1")).to_have_text("两份合同合订扫描")
        pending = page.locator("#pending-changes")
        expect(pending).to_contain_text("按原件更正题名")
        expect(pending).to_contain_text("租赁合同（甲）")
        expect(pending).to_contain_text("两份合同合订扫描")  # the previous value

        # split: pages 3-4 become a new item
        page.click("#arrange-item")
        expect(page.locator(".page-card")).to_have_count(4)
        page.screenshot(path=str(ARTIFACTS / "arrange-01-pages.png"), full_page=True)
        page.fill("#split-form input[name=ranges]", "1-2, 3-4")
        page.fill("#split-form textarea[name=titles]", "供货合同（乙）")
        page.fill("#split-form input[name=reason]", "两份合同分别立件")
        page.click("#split-submit")
        expect(page.locator("#history")).to_contain_text("两份合同分别立件")
        expect(page.locator("#page-input")).to_have_attribute("max", "2")
        page.screenshot(path=str(ARTIFACTS / "arrange-02-after-split.png"), full_page=True)
        new_code = page.locator("#history .change", has_text="拆出新件").inner_text().split()[-1]

        # the new item is found by its text and by its 档号
        page.goto(f"{server['base']}/search?q=Supply contract B")
        expect(page.locator("main")).to_contain_text("供货合同（乙）")
        expect(page.locator("main")).to_contain_text(new_code)
        page.get_by_role("link", name="供货合同（乙）").first.click()
        expect(page.locator("#page-input")).to_have_attribute("max", "2")
        expect(page.locator(".ocr-text")).to_contain_text("Supply contract B page one")
        page.screenshot(path=str(ARTIFACTS / "arrange-03-new-item.png"), full_page=True)
        browser.close()
