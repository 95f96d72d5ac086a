"""In real Chromium: deletion (request → approve → undo; request → approve → 30 days → final)
and destruction (due → appraise → approve → six months → confirm → register) end to end
(#13.4). The web app is served in this process (werkzeug) so that the test can move the
archive's one clock (service.clock) the 30 days and six months the rules wait; the scans are
text-layer PDFs read in-process. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, MARKS, shot
from tests.scanfactory import text_pdf_bytes
from tests.served import MovableClock, serve_app
from tests.web.conftest import PW, new_archive

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

pytestmark = MARKS


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    from service import clock
    from web.app import create_app

    data = tmp_path_factory.mktemp("dangan-disposal")
    arc = new_archive(data, {"arc": {"role": "archivist", "display_name": "档案员小李"},
                             "arc2": {"role": "archivist", "display_name": "档案员老周"},
                             "mgr": {"role": "manager", "display_name": "主任王"},
                             "boss": {"role": "executive", "display_name": "领导赵"}})
    app = create_app(arc, {"SECRET_KEY": "browser-disposal"})
    the_clock = MovableClock(T0)  # the rules' 30 days and six months, passed at once
    try:
        with clock.use_clock(the_clock), serve_app(app, threaded=False) as base:
            yield {"base": base, "archive": arc, "clock": the_clock, "data": data}
    finally:
        from service.db import dispose_all

        dispose_all()


def _item(site: dict, title: str, words: str, *, year: int = 2024, retention: str = "D30",
          secrecy: str = "内部") -> int:
    from service.ingest import IngestRequest, ingest
    from service.jobs.pipeline import run_page
    from tests.queued import QueuedPages

    arc = site["archive"]
    pdf = Path(site["data"]) / f"{title}.pdf"
    pdf.write_bytes(text_pdf_bytes([[words]], media_box=(300, 120)))
    queued = QueuedPages(arc)
    res = ingest(arc, IngestRequest(files=[pdf], fonds="J001", category="HT", year=year,
                                    retention=retention, secrecy=secrecy, title=title))
    while len(queued):
        run_page(arc, queued.pop(0))
    return res.id


def test_deletion_request_approve_undo_then_final_after_30_days(site, signed_in) -> None:
    from playwright.sync_api import expect

    item = _item(site, "误登记的租赁合同", "Lease contract kappa44 signed")
    arc, mgr = signed_in(site["base"], "arc", PW), signed_in(site["base"], "mgr", PW)

    # the archivist asks, with a reason
    arc.goto(f"{site['base']}/items/{item}")
    arc.click("#disposal summary")
    arc.fill("#deletion-reason", "重复登记")
    arc.click("#request-deletion")
    expect(arc.locator(".notice-success")).to_contain_text("删除申请已提交")
    expect(arc.locator("#disposal")).to_contain_text("待档案室主任审批")

    # the archive manager approves: held 30 days, marked, with undo
    mgr.click("nav >> text=删除与销毁")
    expect(mgr.locator("#asked")).to_contain_text("重复登记")
    shot(mgr, "disposal-1-requests")
    mgr.click("#asked button.approve")
    expect(mgr.locator("#held")).to_contain_text("2026-04-01")
    mgr.goto(f"{site['base']}/items/{item}")
    expect(mgr.locator("#disposal")).to_contain_text("待删除，2026-04-01 正式删除")
    shot(mgr, "disposal-2-held")
    mgr.goto(f"{site['base']}/search?q=kappa44")
    expect(mgr.locator(".hit")).to_have_count(0)
    # out of the index, but the catalogue listing shows the archive's roles it, marked
    mgr.goto(f"{site['base']}/search?category=HT")
    expect(mgr.locator(".hit .status-held")).to_contain_text("2026-04-01")
    shot(mgr, "disposal-2b-listed")

    # undo: the item is back, in search too
    mgr.goto(f"{site['base']}/items/{item}")
    mgr.click("#undo-deletion")
    expect(mgr.locator(".notice-success")).to_contain_text("已撤销删除")
    expect(mgr.locator("#disposal summary")).to_be_visible()
    mgr.goto(f"{site['base']}/search?q=kappa44")
    expect(mgr.locator(".hit")).to_have_count(1)

    # again, and this time 30 days pass: the scheduled purge makes it final
    arc.goto(f"{site['base']}/items/{item}")
    arc.click("#disposal summary")
    arc.fill("#deletion-reason", "确认重复登记")
    arc.click("#request-deletion")
    mgr.goto(f"{site['base']}/deletions")
    mgr.click("#asked button.approve")
    site["clock"].advance(days=29)
    assert site["archive"].queue.purge.call_local()["final"] == 0
    site["clock"].advance(days=1)
    assert site["archive"].queue.purge.call_local()["final"] == 1
    mgr.goto(f"{site['base']}/items/{item}")
    expect(mgr.locator("#disposal")).to_contain_text("本件已删除")
    expect(mgr.locator(".status-deleted")).to_be_visible()
    shot(mgr, "disposal-3-final")
    mgr.goto(f"{site['base']}/deletions")
    expect(mgr.locator("#final")).to_contain_text("确认重复登记")
    mgr.goto(f"{site['base']}/search?q=kappa44")
    expect(mgr.locator(".hit")).to_have_count(0)


def test_destruction_due_appraise_approve_six_months_confirm_register(site, signed_in) -> None:
    from playwright.sync_api import expect

    item = _item(site, "2010年供货合同", "Supply contract lambda55 expired", year=2010,
                 retention="D10")
    keep = _item(site, "2010年框架协议", "Frame agreement mu66", year=2010, retention="D10")
    arc, mgr = signed_in(site["base"], "arc", PW), signed_in(site["base"], "mgr", PW)

    # the due list, and the archivist's appraisal of each item
    arc.click("nav >> text=删除与销毁")
    arc.click("main >> text=到期销毁")
    expect(arc.locator(f"#due-{item}")).to_contain_text("2021-01-01")
    shot(arc, "disposal-4-due")
    row = arc.locator(f"#due-{keep}")
    row.locator("select[name=decision]").select_option("keep")
    row.locator("input[name=years]").fill("5")
    row.locator("input[name=reason]").fill("仍在履行的框架协议")
    row.locator("button[type=submit]").click()
    expect(arc.locator(".notice-success")).to_contain_text("继续保存")
    expect(arc.locator(f"#due-{keep}")).to_have_count(0)
    row = arc.locator(f"#due-{item}")
    row.locator("select[name=decision]").select_option("destroy")
    row.locator("input[name=reason]").fill("保管期满，已无保存价值")
    row.locator("button[type=submit]").click()
    expect(arc.locator("#appraised")).to_contain_text("保管期满，已无保存价值")
    expect(arc.locator("#appraised")).to_contain_text("待档案室主任审批")

    # the office head approves (内部); held apart six months
    mgr.goto(f"{site['base']}/destruction")
    mgr.click("#appraised button.approve")
    expect(mgr.locator(".notice-success")).to_contain_text("已批准销毁")
    expect(mgr.locator("#held")).to_contain_text(item_code := mgr.locator(
        "#held a.code").first.inner_text())
    mgr.goto(f"{site['base']}/items/{item}")
    expect(mgr.locator("#disposal")).to_contain_text("隔离保存至")
    shot(mgr, "disposal-5-held-apart")

    # too early, then the same person as supervisor: both refused with a reason
    arc.goto(f"{site['base']}/destruction")
    arc.fill("#held input[name=supervisor]", "arc2")
    arc.click("#held form.confirm button")
    expect(arc.locator(".notice-error")).to_contain_text("六个月")
    site["clock"].advance(days=185)
    arc.goto(f"{site['base']}/destruction")
    arc.fill("#held input[name=supervisor]", "arc")
    arc.click("#held form.confirm button")
    expect(arc.locator(".notice-error")).to_contain_text("监销人不能是销毁执行人本人")
    arc.fill("#held input[name=supervisor]", "arc2")
    arc.click("#held form.confirm button")
    expect(arc.locator(".notice-success")).to_contain_text("已记入销毁清册")
    expect(arc.locator("#register")).to_contain_text(item_code)
    expect(arc.locator("#register")).to_contain_text("arc2")
    shot(arc, "disposal-6-register")
    pdf = arc.request.get(f"{site['base']}/destruction/register.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    xlsx = arc.request.get(f"{site['base']}/destruction/register.xlsx")
    assert xlsx.ok and xlsx.body()[:2] == b"PK"
    (ARTIFACTS / "disposal-register.pdf").write_bytes(pdf.body())
    arc.goto(f"{site['base']}/items/{item}")
    expect(arc.locator("#disposal")).to_contain_text("本件已销毁")
    arc.goto(f"{site['base']}/search?q=lambda55")
    expect(arc.locator(".hit")).to_have_count(0)
