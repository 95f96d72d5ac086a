"""Lending (借阅) in real Chromium (#13.2): staff request an electronic loan of a 秘密 item, an
executive approves, an archivist issues, the borrower opens the page image, time passes and
access ends by itself; a paper loan counted out and back with a mismatch shown.

The server runs in this process (a threaded werkzeug server over the real app and an
embedded archive) so the test can move the archive's one clock (service.clock) that the
server reads: the loan's end is reached without waiting hours. Screenshots go to
test-artifacts/loans-*.png.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest

from service import clock
from tests.served import ROOT, free_port

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ADMIN_PW = "admin-pass-123"
PW = "password-123"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed"),
]


class MovableClock:
    """The system clock plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from werkzeug.serving import make_server

    from service.archive import Archive
    from service.config import Settings
    from service.setup import init_archive
    from service.users import create_user
    from tests.web.conftest import make_item
    from web.app import create_app

    data = tmp_path_factory.mktemp("dangan-loans")
    archive = Archive(Settings.from_env({"DANGAN_DATA": str(data)}))
    init_archive(archive, admin_password=ADMIN_PW)
    with archive.session() as s:
        create_user(s, "arc", PW, role="archivist", display_name="档案员小李")
        create_user(s, "alice", PW, role="staff", department="销售部", display_name="张丽")
        create_user(s, "dm", PW, role="dept_manager", department="销售部", display_name="部门经理")
        create_user(s, "exe", PW, role="executive", display_name="高管王总")
    secret = make_item(archive, title="供货保密协议", text="保密条款 甲方乙方", secrecy="秘密",
                       owner="alice", department="销售部")
    paper = make_item(archive, title="租赁合同原件", text="租赁合同", secrecy="内部", owner="alice",
                      department="销售部")
    from service.models import ArchiveItem

    with archive.session() as s:
        s.get(ArchiveItem, paper).paper_pages = 12
    moving = MovableClock()
    clock.set_clock(moving)
    app = create_app(archive, {})
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{port}", "secret": secret, "paper": paper,
               "clock": moving, "archive": archive}
    finally:
        server.shutdown()
        clock.set_clock(None)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def signed_in(browser, site, username: str):
    page = browser.new_context(viewport={"width": 1360, "height": 900},
                               locale="zh-CN").new_page()
    page.set_default_timeout(15000)
    page.goto(site["base"] + "/login")
    page.fill("#username", username)
    page.fill("#password", PW)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/search")
    return page


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"loans-{name}.png"), full_page=True)


def test_an_electronic_loan_of_a_secret_item_ends_by_itself(browser, site) -> None:
    from playwright.sync_api import expect

    base, secret = site["base"], site["secret"]
    alice = signed_in(browser, site, "alice")
    alice.goto(f"{base}/loans/new?item={secret}")
    expect(alice.locator(".loan-chosen")).to_contain_text("供货保密协议")
    expect(alice.locator("#loan-rules")).to_contain_text("纸质原件不外借")
    alice.fill("textarea[name=purpose]", "核对供货保密条款")
    # five hours is refused for 秘密
    start = alice.input_value("input[name=starts_at]")
    alice.evaluate("""(start) => {
        const d = new Date(start); d.setHours(d.getHours() + 5);
        const p = (n) => String(n).padStart(2, '0');
        document.querySelector('input[name=ends_at]').value =
            `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    }""", start)
    alice.click("#submit-loan")
    expect(alice.locator("#form-error")).to_contain_text("秘密档案电子借阅最长 4 小时")
    shot(alice, "01-four-hours-refused")
    alice.evaluate("""(start) => {
        const d = new Date(start); d.setHours(d.getHours() + 2);
        const p = (n) => String(n).padStart(2, '0');
        document.querySelector('input[name=ends_at]').value =
            `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    }""", start)
    alice.click("#submit-loan")
    expect(alice.locator(".flashes")).to_contain_text("已提交，等待审批")
    number = alice.locator("#loan-number").inner_text()
    loan_url = alice.url
    shot(alice, "02-requested")

    # the department manager may not approve 秘密; the executive does
    dm = signed_in(browser, site, "dm")
    dm.goto(loan_url)
    expect(dm.locator("#approve-loan")).to_have_count(0)
    exe = signed_in(browser, site, "exe")
    expect(exe.locator("#loan-approve-reminder")).to_be_visible()
    exe.goto(f"{base}/loans/approvals")
    exe.get_by_role("link", name=number).click()
    exe.fill("#decide input[name=note]", "限当日核对")
    exe.click("#approve-loan")
    expect(exe.locator(".flashes")).to_contain_text("已批准")
    shot(exe, "03-approved")

    # the archivist issues it at the lending desk
    arc = signed_in(browser, site, "arc")
    arc.goto(f"{base}/loans/desk")
    expect(arc.locator("#to-issue")).to_contain_text(number)
    shot(arc, "04-desk")
    arc.locator("#to-issue").get_by_role("link", name=number).click()
    arc.click("#issue-loan")
    expect(arc.locator(".flashes")).to_contain_text("已借出")

    # the borrower opens the item and its page image
    alice.goto(loan_url)
    expect(alice.locator("#loan-open-hint")).to_be_visible()
    alice.locator(".loan-items a").first.click()
    expect(alice.locator("h1")).to_contain_text("供货保密协议")
    image = alice.request.get(f"{base}/items/{secret}/pages/1/image")
    assert image.status == 200 and image.headers["content-type"] == "image/webp"
    shot(alice, "05-borrower-reads")

    # two hours later the grant has ended by itself, to the minute
    site["clock"].offset = timedelta(hours=2, minutes=1)
    alice.goto(loan_url)
    expect(alice.locator(".loan-status")).to_contain_text("已到期")
    shot(alice, "06-expired")
    from service import grants

    with site["archive"].session() as s:
        from service.users import get_user

        assert not grants.has_grant(s, get_user(s, "alice").id, secret)
    image = alice.request.get(f"{base}/items/{secret}/pages/1/image")
    assert image.status in (403, 404)
    alice.goto(f"{base}/items/{secret}")
    expect(alice.locator("main")).not_to_contain_text("保密条款")
    shot(alice, "07-access-ended")
    site["clock"].offset = timedelta()


def test_a_paper_loan_counted_out_and_back_with_a_mismatch(browser, site) -> None:
    from playwright.sync_api import expect

    base, paper = site["base"], site["paper"]
    alice = signed_in(browser, site, "alice")
    alice.goto(f"{base}/loans/new")
    alice.fill("#loan-picker input[name=q]", "租赁")
    alice.click("#loan-picker button[type=submit]:not([name])")
    alice.locator(".loan-found li", has_text="租赁合同原件").get_by_role("button").click()
    expect(alice.locator(".loan-chosen")).to_contain_text("租赁合同原件")
    alice.check("input[name=kind][value=paper]")
    alice.fill("textarea[name=purpose]", "查阅租赁合同原件")
    alice.click("#submit-loan")
    expect(alice.locator(".flashes")).to_contain_text("已提交")
    number = alice.locator("#loan-number").inner_text()
    loan_url = alice.url

    dm = signed_in(browser, site, "dm")
    dm.goto(loan_url)
    dm.click("#approve-loan")
    expect(dm.locator(".flashes")).to_contain_text("已批准")

    arc = signed_in(browser, site, "arc")
    arc.goto(loan_url)
    expect(arc.locator(f"input[name=out-{paper}]")).to_have_value("12")
    shot(arc, "08-count-out")
    arc.click("#issue-loan")
    expect(arc.locator(".flashes")).to_contain_text("已借出")

    # past the end: the borrower is reminded on every page, the archivist sees it listed
    site["clock"].offset = timedelta(hours=3)
    alice.goto(f"{base}/search")
    expect(alice.locator("#loan-overdue-reminder")).to_contain_text(number)
    shot(alice, "09-overdue-reminder")
    arc.goto(f"{base}/loans/overdue")
    expect(arc.locator("#overdue")).to_contain_text(number)

    arc.goto(loan_url)
    arc.fill(f"input[name=back-{paper}]", "11")
    arc.fill(f"input[name=note-{paper}]", "缺第7页")
    arc.click("#return-loan")
    expect(arc.locator(".flashes")).to_contain_text("归还页数与借出页数不符")
    expect(arc.locator(".loan-items tr.mismatch")).to_contain_text("借出 12 页，归还 11 页")
    shot(arc, "10-mismatch")
    arc.goto(f"{base}/loans/overdue")
    expect(arc.locator("#mismatched")).to_contain_text(number)
    expect(arc.locator("#overdue")).not_to_contain_text(number)
    arc.goto(loan_url)
    arc.fill("#settle-form input[name=settlement]", "第7页在阅览桌找回，已归卷")
    arc.click("#settle-mismatch")
    expect(arc.locator("#mismatch")).to_contain_text("第7页在阅览桌找回")
    expect(arc.locator("#loan-desk-reminder")).to_have_count(0)
    arc.goto(f"{base}/loans/register")
    expect(arc.locator("main")).to_contain_text("页数不符")
    shot(arc, "11-register")
    with arc.expect_download() as download:
        arc.click("#register-pdf")
    assert download.value.suggested_filename.endswith(".pdf")
    site["clock"].offset = timedelta()
