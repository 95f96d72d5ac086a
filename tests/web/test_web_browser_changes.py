"""In real Chromium against a real `dangan serve` (#13.3): an archivist edits a title and is
told it awaits approval; the record is unchanged until the archive manager approves it in
the approvals queue; then the item shows the new title and the history with both names.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import json

import pytest

from tests.browser import MARKS, shot
from tests.scanfactory import text_pdf_bytes
from tests.served import dangan, served_archive

PASSWORD = "browser-pass-123"

pytestmark = MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("dangan-changes")
    with served_archive(data, PASSWORD, workers=1) as site:
        dangan(data, "user", "add", "xiaoli", "--password", PASSWORD, "--role", "archivist")
        dangan(data, "user", "add", "zhuren", "--password", PASSWORD, "--role", "manager")
        pdf = data / "租赁合同.pdf"
        pdf.write_bytes(text_pdf_bytes([["Lease contract page one"]], media_box=(420, 300)))
        item = json.loads(dangan(data, "ingest", str(pdf), "--fonds", "J001", "--category",
                                 "HT", "--year", "2024", "--retention", "D30", "--secrecy",
                                 "内部", "--title", "租凭合同", "--json"))
        yield {**site, "item": int(item["id"])}


def test_an_edit_waits_for_the_archive_managers_approval(server, signed_in) -> None:
    from playwright.sync_api import expect

    base, item_id = server["base"], server["item"]

    # the archivist corrects a misspelt title
    arc = signed_in(base, "xiaoli", PASSWORD)
    arc.goto(f"{base}/items/{item_id}")
    arc.click("#edit-item")
    expect(arc.locator("#approval-note")).to_contain_text("经档案室主任批准")
    arc.fill("input[name=title]", "租赁合同")
    arc.fill("input[name=reason]", "题名错字：凭→赁")
    shot(arc, "changes-01-edit")
    arc.click("#save-edit")
    expect(arc.locator(".flashes")).to_contain_text("待档案室主任审批后生效")
    expect(arc.locator("h1")).to_have_text("租凭合同")  # not changed yet
    pending = arc.locator("#pending-changes")
    expect(pending).to_contain_text("xiaoli")
    expect(pending).to_contain_text("题名错字：凭→赁")
    expect(pending).to_contain_text("租凭合同 → 租赁合同")
    expect(arc.locator("#history")).to_have_count(0)
    shot(arc, "changes-02-awaiting-approval")

    # the archive manager compares old and new in the queue and approves
    boss = signed_in(base, "zhuren", PASSWORD)
    boss.click("#nav-changes")
    card = boss.locator(".change-request").first
    expect(card.locator(".requester")).to_have_text("xiaoli")
    expect(card.locator(".compare")).to_contain_text("租凭合同")
    expect(card.locator(".compare .proposed")).to_have_text("租赁合同")
    shot(boss, "changes-03-queue")
    card.locator("input[name=note]").fill("已核对原件")
    card.locator("button.approve").click()
    expect(boss.locator(".flashes")).to_contain_text("档案著录已更新")
    expect(boss.locator("#no-changes")).to_be_visible()

    # the item shows the new title and the history with who asked and who approved
    arc.goto(f"{base}/items/{item_id}")
    expect(arc.locator("h1")).to_have_text("租赁合同")
    expect(arc.locator("#pending-changes")).to_have_count(0)
    row = arc.locator("#history tbody tr").first
    expect(row.locator(".requester")).to_have_text("xiaoli")
    expect(row.locator(".approver")).to_have_text("zhuren")
    expect(row).to_contain_text("题名错字：凭→赁")
    expect(row).to_contain_text("租凭合同 → 租赁合同")
    shot(arc, "changes-04-history")

    # the search index followed: the item is found by its approved title
    arc.goto(f"{base}/search?q=租赁合同")
    expect(arc.locator("main")).to_contain_text("J001-HT·2024-D30-0001")
