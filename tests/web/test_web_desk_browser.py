"""The cross-check desk in real Chromium, keyboard only (#11): a records officer scans a box's
barcode (typed, then Enter), and signs each item of the box: agrees, a page missing from the
scans with its page number and a note, agrees; J/K move between items. A real `dangan serve`
over an archive whose scans were read by Tesseract. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json

import pytest

from tests.browser import MARKS, shot, wait_until
from tests.served import dangan, served_archive

PASSWORD = "desk-pass-123"
BOX = "BOX-DESK-1"

pytestmark = [*MARKS, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.scanfactory import render_page, write_pdf_image_only, write_png

    data = tmp_path_factory.mktemp("dangan-desk")
    scans = tmp_path_factory.mktemp("desk-scans")
    dangan(data, "init", "--admin-password", PASSWORD)
    dangan(data, "user", "add", "officer", "--password", PASSWORD, "--role", "officer")
    dangan(data, "box", "add", BOX, "--room", "A", "--rack", "3", "--section", "2", "--shelf",
           "4", "--year", "2024", "--retention", "D30")
    one = write_png(scans / "委托书.png", render_page(["授权委托书", "兹委托张三办理合同签订事宜。"],
                                                      size=(900, 1200), seal=True))
    two = write_pdf_image_only(scans / "购销合同.pdf", [
        render_page(["购销合同 第一页", "甲方应于三月前支付合同款。"], size=(900, 1200)),
        render_page(["购销合同 第二页", "乙方收到款项后十日内交货。"], size=(900, 1200), seal=True)])
    three = write_png(scans / "收据.png", render_page(["收款收据", "今收到货款人民币壹万元整。"],
                                                    size=(900, 1200)))
    ids = []
    for path, title, paper in ((one, "授权委托书", 1), (two, "购销合同", 3), (three, "收款收据", 1)):
        out = dangan(data, "ingest", str(path), "--fonds", "J001", "--category", "HT", "--year",
                     "2024", "--retention", "D30", "--secrecy", "内部", "--title", title,
                     "--box", BOX, "--paper-pages", str(paper), "--wait", "--json")
        ids.append(json.loads(out)["id"])
    with served_archive(data, PASSWORD, workers=1) as site:
        yield {**site, "ids": ids}


@pytest.fixture
def page(new_page):
    return new_page(viewport={"width": 1440, "height": 900})


def _focused(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_a_box_is_checked_from_barcode_to_signed_results_by_keyboard(page, server):
    first, second, third = server["ids"]
    base = server["base"]
    page.goto(base + "/login")
    page.fill("#username", "officer")
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/search")
    page.goto(base + "/desk")
    assert page.locator("nav a[aria-current=page]").inner_text() == "核对"
    assert page.locator("table.queue tbody tr").count() == 3
    assert _focused(page) == "barcode"  # the USB scanner types into it at once
    shot(page, "desk-01-queue")

    page.keyboard.type(BOX)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/desk/boxes/{BOX}")
    assert page.locator("#paper-pages").inner_text() == "1"
    assert page.locator("#scan-pages").inner_text() == "1"
    assert page.locator(".desk-list li.current .code").inner_text().endswith("0001")
    wait_until(page, "document.getElementById('full-view').naturalWidth > 0")
    page.keyboard.press("a")
    assert page.locator("#result-agrees").is_checked()
    assert _focused(page) == "sign"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**item={second}")

    # the contract: 3 paper pages, 2 scanned
    assert page.locator("#paper-pages").inner_text() == "3"
    assert page.locator("#scan-pages").inner_text() == "2"
    assert page.locator(".counts.mismatch").is_visible()
    assert page.locator("#thumbs .thumb-btn").count() == 2
    page.keyboard.press("ArrowRight")
    assert page.locator("#thumbs .thumb-btn.selected").get_attribute("data-n") == "2"
    wait_until(page, "document.getElementById('full-view').src.endsWith('/pages/2/image')"
                     " && document.getElementById('full-view').complete")
    page.keyboard.press("1")  # the first kind: a page missing from the scans
    assert page.locator("#result-discrepancy").is_checked()
    assert page.locator("#kind").input_value() == "missing_scan"
    assert _focused(page) == "pages"
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    assert _focused(page) == "finding_note"
    page.keyboard.type("第3页未扫描")
    shot(page, "desk-02-discrepancy")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**item={third}")

    page.keyboard.press("k")  # back to the contract: its signed discrepancy in the history
    page.wait_for_url(f"**item={second}")
    history = page.locator("#check-history li").first.inner_text()
    assert "有差异" in history and "缺扫" in history and "第 3 页" in history
    assert "第3页未扫描" in history and "officer" in history
    assert "差异未解决" in page.locator(".desk-list li.current").inner_text()
    shot(page, "desk-03-history")
    page.keyboard.press("j")
    page.wait_for_url(f"**item={third}")
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=本盒已全部核对")
    shot(page, "desk-04-box-done")

    checks = page.request.get(f"{base}/api/v1/items/{second}/checks").json()["checks"]
    assert len(checks) == 1
    c = checks[0]
    assert (c["result"], c["officer"], c["paper_pages"], c["scanned_pages"]) == (
        "discrepancy", "officer", 3, 2)
    assert c["findings"] == [{"kind": "missing_scan", "pages": [3], "note": "第3页未扫描"}]
    assert [x["result"] for x in page.request.get(
        f"{base}/api/v1/items/{first}/checks").json()["checks"]] == ["agrees"]
    queue = page.request.get(f"{base}/api/v1/checks/queue?box={BOX}").json()["items"]
    assert [(q["id"], q["reason"]) for q in queue] == [(second, "open")]
