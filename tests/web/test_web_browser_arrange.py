"""In real Chromium against a real `dangan serve`: an archivist asks for a change of an
item's record (it waits for approval, #13.3) and splits a scanned volume into two items
(#12.2, #12.3). Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.browser import MARKS, shot
from tests.scanfactory import text_pdf_bytes
from tests.served import dangan, served_archive

PASSWORD = "browser-pass-123"

pytestmark = MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("dangan-arrange")
    with served_archive(data, PASSWORD, workers=1) as site:
        yield site


def _ingest(data: Path) -> int:
    """A four-page volume (two contracts scanned together) registered from the command line."""
    pdf = data / "两份合同.pdf"
    pdf.write_bytes(text_pdf_bytes([["Lease contract A page one"], ["Lease contract A page two"],
                                    ["Supply contract B page one"],
                                    ["Supply contract B page two"]], media_box=(420, 300)))
    out = dangan(data, "ingest", str(pdf), "--fonds", "J001", "--category", "HT",
                 "--year", "2024", "--retention", "D30", "--secrecy", "内部",
                 "--title", "两份合同合订扫描", "--json")
    return int(json.loads(out)["id"])


def test_edit_an_item_and_split_it_in_the_browser(server, signed_in) -> None:
    from playwright.sync_api import expect

    item_id = _ingest(server["data"])
    page = signed_in(server["base"], "admin", PASSWORD)

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
    shot(page, "arrange-01-pages")
    page.fill("#split-form input[name=ranges]", "1-2, 3-4")
    page.fill("#split-form textarea[name=titles]", "供货合同（乙）")
    page.fill("#split-form input[name=reason]", "两份合同分别立件")
    page.click("#split-submit")
    expect(page.locator("#history")).to_contain_text("两份合同分别立件")
    expect(page.locator("#page-input")).to_have_attribute("max", "2")
    shot(page, "arrange-02-after-split")
    new_code = page.locator("#history .change", has_text="拆出新件").inner_text().split()[-1]

    # the new item is found by its text and by its 档号
    page.goto(f"{server['base']}/search?q=Supply contract B")
    expect(page.locator("main")).to_contain_text("供货合同（乙）")
    expect(page.locator("main")).to_contain_text(new_code)
    page.get_by_role("link", name="供货合同（乙）").first.click()
    expect(page.locator("#page-input")).to_have_attribute("max", "2")
    expect(page.locator(".ocr-text")).to_contain_text("Supply contract B page one")
    shot(page, "arrange-03-new-item")
