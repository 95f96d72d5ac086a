"""In real Chromium against a real `dangan serve`: the administrator's sign-in and search
appear on the audit page with the browser's address, the page filters them and exports them,
and `dangan check --audit` finds the served process's chain anchored. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess

from tests.browser import MARKS, log_in, shot
from tests.served import CLI, ROOT, served_archive

PASSWORD = "browser-pass-123"

pytestmark = MARKS


def test_the_audit_page_in_the_browser(tmp_path, new_page) -> None:
    from playwright.sync_api import expect

    data = tmp_path / "data"
    data.mkdir()
    problems: list[str] = []
    with served_archive(data, PASSWORD) as site:
        base = site["base"]
        page = new_page(accept_downloads=True)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(base + "/login")
        log_in(page, "admin", "not-the-password")
        log_in(page, "admin", PASSWORD)
        page.wait_for_url("**/search")
        page.goto(base + "/search?q=租赁合同")
        page.click("nav >> text=审计")
        page.wait_for_url("**/audit")
        rows = page.locator("#audit-entries tbody tr")
        expect(rows.first).to_contain_text("catalogue.search")
        expect(page.locator("#audit-entries")).to_contain_text("auth.login_failed")
        expect(page.locator("#audit-entries")).to_contain_text("127.0.0.1")
        shot(page, "audit-01-trail")

        page.select_option("select[name=action]", "catalogue.search")
        page.fill("input[name=origin]", "127.0.0.")
        page.click("#audit-filters button[type=submit]")
        page.wait_for_url("**/audit?**action=catalogue.search**")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("租赁合同")
        shot(page, "audit-02-filtered")

        with page.expect_download() as dl:
            page.click("text=CSV")
        text = open(dl.value.path(), encoding="utf-8-sig").read()
        exported = list(csv.reader(io.StringIO(text)))
        assert [(r[2], r[3], r[5]) for r in exported[1:]] == [
            ("admin", "catalogue.search", "127.0.0.1")]
        page.context.close()
    assert problems == []
    env = {**os.environ, "DANGAN_DATA": str(data)}
    proc = subprocess.run([*CLI, "check", "--audit", "--json"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    report = json.loads(proc.stdout)["audit"]
    assert proc.returncode == 0, proc.stdout
    assert report["anchor_problem"] is None and report["unanchored"] == 0
    assert report["checked"] >= 5  # failed and good sign-in, search, two audit views, export
