"""Lending (借阅) in real Chromium (#13.2): staff request an electronic loan of a 秘密 item, an
executive approves, an archivist issues, the borrower opens the page image, time passes and
access ends by itself; a paper loan counted out and back with a mismatch shown.

The server runs in this process (a threaded werkzeug server over the real app and an
embedded archive) so the test can move the archive's one clock (service.clock) that the
server reads: the loan's end is reached without waiting hours. Screenshots go to
test-artifacts/loans-*.png.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from service import clock
from tests.browser import MARKS, shot
from tests.served import MovableClock, serve_app
from tests.web.conftest import PW, new_archive

pytestmark = [*MARKS, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from tests.web.conftest import make_item
    from web.app import create_app

    archive = new_archive(tmp_path_factory.mktemp("dangan-loans"), {
        "arc": {"role": "archivist", "display_name": "档案员小李"},
        "alice": {"role": "staff", "department": "销售部", "display_name": "张丽"},
        "dm": {"role": "dept_manager", "department": "销售部", "display_name": "部门经理"},
        "exe": {"role": "executive", "display_name": "高管王总"}})
    secret = make_item(archive, title="供货保密协议", text="保密条款 甲方乙方", secrecy="秘密",
                       owner="alice", department="销售部")
    paper = make_item(archive, title="租赁合同原件", text="租赁合同", secrecy="内部", owner="alice",
                      department="销售部")
    from service.models import ArchiveItem

    with archive.session() as s:
        s.get(ArchiveItem, paper).paper_pages = 12
    moving = MovableClock()  # the system's time, moved past a loan's end
    with clock.use_clock(moving), serve_app(create_app(archive, {}), threaded=True) as base:
        yield {"base": base, "secret": secret, "paper": paper, "clock": moving,
               "archive": archive}


def test_an_electronic_loan_of_a_secret_item_ends_by_itself(signed_in, site) -> None:
    from playwright.sync_api import expect

    base, secret = site["base"], site["secret"]
    alice = signed_in(base, "alice", PW)
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
    shot(alice, "loans-01-four-hours-refused")
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
    shot(alice, "loans-02-requested")

    # the department manager may not approve 秘密; the executive does
    dm = signed_in(base, "dm", PW)
    dm.goto(loan_url)
    expect(dm.locator("#approve-loan")).to_have_count(0)
    exe = signed_in(base, "exe", PW)
    expect(exe.locator("#loan-approve-reminder")).to_be_visible()
    exe.goto(f"{base}/loans/approvals")
    exe.get_by_role("link", name=number).click()
    exe.fill("#decide input[name=note]", "限当日核对")
    exe.click("#approve-loan")
    expect(exe.locator(".flashes")).to_contain_text("已批准")
    shot(exe, "loans-03-approved")

    # the archivist issues it at the lending desk
    arc = signed_in(base, "arc", PW)
    arc.goto(f"{base}/loans/desk")
    expect(arc.locator("#to-issue")).to_contain_text(number)
    shot(arc, "loans-04-desk")
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
    shot(alice, "loans-05-borrower-reads")

    # two hours later the grant has ended by itself, to the minute
    site["clock"].offset = timedelta(hours=2, minutes=1)
    alice.goto(loan_url)
    expect(alice.locator(".loan-status")).to_contain_text("已到期")
    shot(alice, "loans-06-expired")
    from service import grants

    with site["archive"].session() as s:
        from service.users import get_user

        assert not grants.has_grant(s, get_user(s, "alice").id, secret)
    image = alice.request.get(f"{base}/items/{secret}/pages/1/image")
    assert image.status in (403, 404)
    alice.goto(f"{base}/items/{secret}")
    expect(alice.locator("main")).not_to_contain_text("保密条款")
    shot(alice, "loans-07-access-ended")
    site["clock"].offset = timedelta()


def test_a_paper_loan_counted_out_and_back_with_a_mismatch(signed_in, site) -> None:
    from playwright.sync_api import expect

    base, paper = site["base"], site["paper"]
    alice = signed_in(base, "alice", PW)
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

    dm = signed_in(base, "dm", PW)
    dm.goto(loan_url)
    dm.click("#approve-loan")
    expect(dm.locator(".flashes")).to_contain_text("已批准")

    arc = signed_in(base, "arc", PW)
    arc.goto(loan_url)
    expect(arc.locator(f"input[name=out-{paper}]")).to_have_value("12")
    shot(arc, "loans-08-count-out")
    arc.click("#issue-loan")
    expect(arc.locator(".flashes")).to_contain_text("已借出")

    # past the end: the borrower is reminded on every page, the archivist sees it listed
    site["clock"].offset = timedelta(hours=3)
    alice.goto(f"{base}/search")
    expect(alice.locator("#loan-overdue-reminder")).to_contain_text(number)
    shot(alice, "loans-09-overdue-reminder")
    arc.goto(f"{base}/loans/overdue")
    expect(arc.locator("#overdue")).to_contain_text(number)

    arc.goto(loan_url)
    arc.fill(f"input[name=back-{paper}]", "11")
    arc.fill(f"input[name=note-{paper}]", "缺第7页")
    arc.click("#return-loan")
    expect(arc.locator(".flashes")).to_contain_text("归还页数与借出页数不符")
    expect(arc.locator(".loan-items tr.mismatch")).to_contain_text("借出 12 页，归还 11 页")
    shot(arc, "loans-10-mismatch")
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
    shot(arc, "loans-11-register")
    with arc.expect_download() as download:
        arc.click("#register-pdf")
    assert download.value.suggested_filename.endswith(".pdf")
    site["clock"].offset = timedelta()
