"""In real Chromium against a real `dangan serve`: the statistics page draws its charts with
the vendored ECharts (canvases with pixels drawn on them, no script or CSP error), and keeps
its tables. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from tests.browser import MARKS, shot, sign_in
from tests.served import served_archive

PASSWORD = "browser-pass-123"

pytestmark = MARKS

#: For each chart: its canvas's size and how many of its pixels are drawn (neither blank
#: nor the white background).
_PIXELS = """() => Array.from(document.querySelectorAll('[data-chart]:not([hidden])')).map(el => {
  const canvas = el.querySelector('canvas');
  if (!canvas) return {key: el.dataset.chart, drawn: 0, width: 0};
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235)) drawn++;
  }
  return {key: el.dataset.chart, drawn: drawn, width: canvas.width, height: canvas.height};
})"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("dangan-statistics")
    with served_archive(data, PASSWORD) as site:
        from service.archive import Archive
        from service.config import Settings
        from tests.statsworld import World

        archive = Archive(Settings.from_env({"DANGAN_DATA": str(data)}))
        World(archive)
        yield site
        from service.db import dispose_all

        dispose_all()


def test_the_statistics_page_draws_its_charts(server, new_page) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page = new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(server["base"]) else None)
    sign_in(page, server["base"], "admin", PASSWORD)
    page.click("nav >> text=统计")
    page.wait_for_url("**/statistics")
    expect(page.locator("body[data-charts]")).to_have_count(1)
    charts = page.evaluate(_PIXELS)
    shot(page, "statistics-01-charts")
    by_key = {c["key"]: c for c in charts}
    # every table with figures has its chart, each drawn (a bar, a slice or a line)
    assert set(by_key) == {"holdings_fonds", "holdings_category", "holdings_year",
                           "holdings_retention", "holdings_secrecy", "additions_month",
                           "use_month", "loans_month", "loans_status", "cross_check", "paper_condition", "storage",
                           "storage_growth"}
    for c in charts:
        assert c["width"] > 200 and c["drawn"] > 500, c
    # the tables stay, with the figures
    expect(page.locator("#holdings_secrecy tfoot td").first).to_have_text("5")
    expect(page.locator('#cross_check tr[data-key="agrees"] td')).to_have_text("2")

    # narrowed to one fonds: the charts are drawn again from the narrowed figures
    page.select_option("select[name=fonds]", "J002")
    page.click("#stats-filters button[type=submit]")
    page.wait_for_url("**/statistics?fonds=J002**")
    expect(page.locator("#holdings_fonds tbody tr")).to_have_count(1)
    assert all(c["drawn"] > 500 for c in page.evaluate(_PIXELS))
    shot(page, "statistics-02-one-fonds")

    # in English, the chart labels too
    page.click("button[name=lang][value=en]")
    expect(page.locator("h1")).to_contain_text("Archive statistics")
    expect(page.locator("body[data-charts]")).to_have_count(1)
    shot(page, "statistics-03-english")
    assert problems == []
    assert outside == []
