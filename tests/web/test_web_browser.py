"""End to end in real Chromium: a real `dangan serve` with OCR workers, driven by Playwright.

sign in → upload a rendered Chinese scan → OCR progress → search → the hit boxed on the
page image; a corrupt file shows its reason; shelves, box label and customer pages.
Screenshots of every step go to test-artifacts/.
"""

from __future__ import annotations

import sys

import pytest

from tests.browser import MARKS, log_in, shot, wait_until
from tests.served import ROOT, served_archive

PHRASE = "甲方应于二〇二四年三月前支付合同款"
PASSWORD = "browser-pass-123"

pytestmark = MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("dangan-browser")
    with served_archive(data, PASSWORD, workers=2) as site:
        yield site


@pytest.fixture
def page(signed_in, server):
    """The administrator, signed in (the tests go on from each other's catalogue)."""
    return signed_in(server["base"], "admin", PASSWORD)


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    sys.path.insert(0, str(ROOT))
    from tests.scanfactory import render_page, write_corrupt_image, write_png

    d = tmp_path_factory.mktemp("scans")
    good = write_png(d / "购销合同-第1页.png", render_page(
        ["购销合同", PHRASE + "。", "乙方收到款项后十日内交付全部货物。", "合同编号：HT-2024-0317"],
        size=(1240, 1000), seal=True))
    bad = write_corrupt_image(d / "损坏的扫描.jpg")
    return {"good": good, "bad": bad}


def test_sign_in(new_page, server):
    page = new_page()
    page.goto(server["base"] + "/search")
    assert "/login" in page.url
    shot(page, "01-login")
    log_in(page, "admin", PASSWORD)
    page.wait_for_url("**/search")
    assert page.locator("nav a[aria-current=page]").inner_text() == "检索"
    shot(page, "02-search-empty")


def test_register_shelf_box_and_customer(page, server):
    base = server["base"]
    page.goto(base + "/shelves")
    shot(page, "03-shelves-empty")
    page.fill("input[name=room]", "A")
    page.fill("input[name=room_name]", "一号库房")
    page.fill("input[name=rack]", "3")
    page.fill("input[name=section]", "2")
    page.fill("input[name=shelf]", "4")
    page.click("text=登记位置")
    page.wait_for_url("**/shelves/*")
    page.goto(base + "/shelves")
    page.fill("input[name=barcode]", "BOX-2024-0001")
    page.fill("aside input[name=year]", "2024")
    page.select_option("aside select[name=retention]", "D30")
    page.select_option("select[name=shelf_id]", label="一号库房/3架/2节/4层")
    page.click("button:has-text('登记档案盒')")
    page.wait_for_url("**/boxes/BOX-2024-0001")
    page.goto(base + "/customers")
    page.fill("input[name=number]", "KH-202405001")
    page.fill("input[name=name]", "华东精密机械有限公司")
    page.select_option("select[name=grade]", "重点")
    page.fill("input[name=industry]", "装备制造")
    page.click("button:has-text('登记客户')")
    page.wait_for_url("**/customers/KH-202405001")
    assert page.locator("h1").inner_text() == "华东精密机械有限公司"


def test_upload_ocr_search_and_highlight(page, server, scans):
    page.goto(server["base"] + "/upload")
    page.select_option("select[name=category]", "HT")
    page.fill("input[name=year]", "2024")
    page.select_option("select[name=retention]", "D30")
    page.fill("input[name=title]", "华东精密机械有限公司购销合同（二〇二四年度框架协议）")
    page.fill("input[name=responsible]", "华东精密机械有限公司")
    page.fill("input[name=paper_pages]", "1")
    page.select_option("select[name=customer]", "KH-202405001")
    page.select_option("select[name=customer_section]", "contract")
    page.select_option("select[name=box]", "BOX-2024-0001")
    wait_until(page,
               "document.getElementById('code-preview').textContent.startsWith('J001-HT')")
    assert page.locator("#code-preview").inner_text() == "J001-HT·2024-D30-NNNN"
    page.set_input_files("#files", str(scans["good"]))
    assert "1" in page.locator("#file-summary").inner_text()
    shot(page, "04-upload-form")
    page.click("#upload-button")
    page.wait_for_selector("#upload-progress-block:not([hidden])")
    page.wait_for_selector("#upload-done:not([hidden])", timeout=60000)
    assert page.locator("#upload-progress").get_attribute("value") == "100"
    assert page.locator("#ocr-progress").evaluate("el => el.value") == 100
    assert "J001-HT·2024-D30-0001" in page.locator("#upload-done").inner_text()
    shot(page, "05-upload-ocr-done")

    page.click("nav >> text=检索")
    page.fill("#q", "支付合同款")
    page.press("#q", "Enter")
    page.wait_for_selector(".hit")
    assert "q=" in page.url  # the whole query lives in the URL
    assert page.locator(".hit mark").first.inner_text() == "支付合同款"
    assert page.locator(".hit .thumb img").count() == 1
    assert "一号库房/3架/2节/4层/盒 BOX-2024-0001" in page.locator(".hit .location").inner_text()
    shot(page, "06-search-results")

    page.click(".hit h3 a")
    page.wait_for_selector("#page-image")
    wait_until(page, "document.getElementById('page-image').naturalWidth > 0")
    boxes = page.locator("rect.hitbox")
    assert boxes.count() >= 1
    bb = boxes.first.bounding_box()
    img = page.locator("#page-image").bounding_box()
    assert bb and img and bb["width"] > 5 and bb["height"] > 5
    assert img["x"] <= bb["x"] <= img["x"] + img["width"]
    assert img["y"] <= bb["y"] <= img["y"] + img["height"] / 2  # the phrase is near the top
    assert page.locator(".ocr-text mark").first.inner_text() == "支付合同款"
    shot(page, "07-item-highlight")
    page.click("#zoom-in")
    assert page.locator("#zoom-level").inner_text() == "125%"
    page.click("#zoom-fit")


def test_corrupt_file_shows_reason(page, server, scans):
    page.goto(server["base"] + "/upload")
    page.fill("input[name=title]", "损坏文件测试")
    page.set_input_files("#files", str(scans["bad"]))
    page.click("#upload-button")
    page.wait_for_selector("#failed-block:not([hidden])", timeout=30000)
    text = page.locator("#failed-list").inner_text()
    assert "损坏的扫描.jpg" in text and "损坏" in text
    shot(page, "13-upload-corrupt")


def test_next_upload_keeps_only_batch_fields_and_a_stored_file_says_so(page, server, scans,
                                                                      tmp_path):
    """继续上传下一件 keeps fonds, category, year, retention, secrecy and org only; uploading a
    stored file says it is already stored, as which item, with a link (issue 8: 12, 3)."""
    from tests.scanfactory import render_page, write_png

    page.goto(server["base"] + "/upload")
    assert page.locator("#upload-reset").is_hidden()  # offered once an item is registered
    page.select_option("select[name=category]", "HT")
    page.fill("input[name=year]", "2024")
    page.select_option("select[name=retention]", "D30")
    page.select_option("select[name=secrecy]", "秘密")
    page.fill("input[name=title]", "第二件：补充协议")
    page.fill("input[name=doc_number]", "HT-2024-0318")
    page.fill("input[name=responsible]", "华东精密机械有限公司")
    page.fill("input[name=doc_date]", "2024-03-05")
    page.fill("input[name=paper_pages]", "1")
    page.fill("textarea[name=remarks]", "附件一份")
    page.select_option("select[name=customer]", "KH-202405001")
    page.select_option("select[name=customer_section]", "contract")
    page.select_option("select[name=box]", "BOX-2024-0001")
    page.set_input_files("#files", str(write_png(tmp_path / "补充协议.png", render_page(
        ["补充协议", "双方同意延长交货期限。"], size=(900, 500)))))
    page.click("#upload-button")
    page.wait_for_selector("#upload-reset:not([hidden])", timeout=60000)
    page.click("#upload-reset")
    assert page.locator("#upload-reset").is_hidden()
    value = lambda name: page.locator(f"[name={name}]").input_value()  # noqa: E731
    assert [value(n) for n in ("fonds", "category", "year", "retention", "secrecy", "org")] == [
        "J001", "HT", "2024", "D30", "秘密", ""]
    assert [value(n) for n in ("title", "doc_number", "responsible", "doc_date", "paper_pages",
                               "remarks", "customer", "customer_section", "box")] == [""] * 9
    shot(page, "14-upload-next")

    # the first test's scan again, with new catalogue data
    page.fill("input[name=title]", "重复上传的合同")
    page.set_input_files("#files", str(scans["good"]))
    page.click("#upload-button")
    page.wait_for_selector("#upload-error:not([hidden])")
    assert "已经入库" in page.locator("#upload-error").inner_text()
    link = page.locator("#upload-existing a")
    assert "J001-HT·2024-D30-0001" in link.inner_text()
    shot(page, "15-upload-duplicate")
    link.click()
    page.wait_for_url("**/items/*")
    assert "华东精密机械有限公司购销合同" in page.locator("h1").inner_text()


def test_customer_number_field_shows_the_format(page, server):
    page.goto(server["base"] + "/customers")
    field = page.locator("input[name=number]")
    field.fill("KH-2024051")
    message = field.evaluate("el => el.validationMessage")
    assert "KH-YYYYMMNNN" in message


def test_box_label_and_customer_pages(page, server):
    base = server["base"]
    page.goto(base + "/shelves")
    shot(page, "08-shelves")
    page.click("a.chip:has-text('4 层')")
    page.click("text=BOX-2024-0001")
    page.wait_for_url("**/boxes/BOX-2024-0001")
    assert "华东精密机械有限公司购销合同" in page.locator("table").inner_text()
    shot(page, "09-box")
    page.click("text=打印盒脊标签")
    assert page.locator("svg.qr").count() == 1
    assert "J001-HT·2024-D30-0001" in page.locator(".spine").inner_text()
    shot(page, "10-box-label")
    page.goto(base + "/customers/KH-202405001")
    assert "华东精密机械有限公司购销合同" in page.locator("section:has(h2:has-text('合同协议'))").inner_text()
    shot(page, "11-customer")
    page.click("button[name=lang][value=en]")
    page.wait_for_load_state()
    assert page.locator("nav a").first.inner_text() == "Search"
    assert page.locator("h2:has-text('Contracts and agreements')").count() == 1
    shot(page, "12-customer-en")
    page.click("button[name=lang][value=zh_CN]")
