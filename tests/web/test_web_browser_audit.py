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

import pytest

from tests.served import CLI, ROOT, dangan_serve

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "browser-pass-123"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed"),
]


def test_the_audit_page_in_the_browser(tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    data = tmp_path / "data"
    data.mkdir()
    problems: list[str] = []
    with dangan_serve(data, PASSWORD, serve_args=("--no-workers",)) as port, \
            sync_playwright() as pw:
        base = f"http://127.0.0.1:{port}"
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN",
                                   accept_downloads=True).new_page()
        page.set_default_timeout(15000)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(base + "/login")
        page.fill("#username", "admin")
        page.fill("#password", "not-the-password")
        page.click("button[type=submit].primary")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url("**/search")
        page.goto(base + "/search?q=租赁合同")
        page.click("nav >> text=审计")
        page.wait_for_url("**/audit")
        rows = page.locator("#audit-entries tbody tr")
        expect(rows.first).to_contain_text("catalogue.search")
        expect(page.locator("#audit-entries")).to_contain_text("auth.login_failed")
        expect(page.locator("#audit-entries")).to_contain_text("127.0.0.1")
        page.screenshot(path=str(ARTIFACTS / "audit-01-trail.png"), full_page=True)

        page.select_option("select[name=action]", "catalogue.search")
        page.fill("input[name=origin]", "127.0.0.")
        page.click("#audit-filters button[type=submit]")
        page.wait_for_url("**/audit?**action=catalogue.search**")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("租赁合同")
        page.screenshot(path=str(ARTIFACTS / "audit-02-filtered.png"), full_page=True)

        with page.expect_download() as dl:
            page.click("text=CSV")
        text = open(dl.value.path(), encoding="utf-8-sig").read()
        exported = list(csv.reader(io.StringIO(text)))
        assert [(r[2], r[3], r[5]) for r in exported[1:]] == [
            ("admin", "catalogue.search", "127.0.0.1")]
        browser.close()
    assert problems == []
    env = {**os.environ, "DANGAN_DATA": str(data)}
    proc = subprocess.run([*CLI, "check", "--audit", "--json"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    report = json.loads(proc.stdout)["audit"]
    assert proc.returncode == 0, proc.stdout
    assert report["anchor_problem"] is None and report["unanchored"] == 0
    assert report["checked"] >= 5  # failed and good sign-in, search, two audit views, export
