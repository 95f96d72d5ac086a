"""The statistics page: its tables and chart data say the figures of the service; the XLSX
download holds them too and is audited; staff are refused; the vendored ECharts file is the
one its README names; the page works in English."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "web/static/vendor/echarts"


@pytest.fixture(scope="module")
def items(archive):
    from tests.web.conftest import make_item

    with archive.session() as s:
        from service.users import create_user

        create_user(s, "boss", "password-123", role="manager", display_name="主任")
        create_user(s, "exec", "password-123", role="executive", display_name="领导")
        create_user(s, "offi", "password-123", role="officer", display_name="核对")
    return [make_item(archive, title="统计页合同一", text="合同正文一", year=2023),
            make_item(archive, title="统计页合同二", text="合同正文二", secrecy="机密", year=2024),
            make_item(archive, title="统计页绝密", text="正文三", secrecy="绝密", year=2024)]


def _data(body: str) -> dict:
    m = re.search(r'<script type="application/json" id="stats-data">(.*?)</script>', body, re.S)
    assert m, "no chart data in the page"
    return json.loads(m.group(1))


def _row(body: str, table: str, key: str) -> list[str]:
    section = body[body.index(f'id="{table}"'):]
    section = section[:section.index("</section>")]
    m = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', section, re.S)
    assert m, (table, key)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", m.group(1))]


def test_the_page_shows_the_figures_as_tables_and_chart_data(app, h, items):
    client = app.test_client()
    h.login(client, "boss")
    client.get(f"/items/{items[0]}")  # a view, counted in this month's use
    body = client.get("/statistics").get_data(as_text=True)
    assert 'aria-current="page">统计</a>' in body
    assert _row(body, "holdings_secrecy", "机密") == ["机密", "1", "1", "1"]
    assert _row(body, "holdings_secrecy", "绝密") == ["绝密", "1", "1", "1"]
    assert _row(body, "holdings_year", "2023")[1] == "1"
    assert "统计页绝密" not in body and "统计页合同二" not in body  # aggregates only
    data = {t["key"]: t for t in _data(body)["tables"]}
    assert data["holdings_secrecy"]["chart"] == "bar"
    assert data["holdings_secrecy"]["labels"] == ["公开", "内部", "秘密", "机密", "绝密"]
    assert data["holdings_secrecy"]["series"][0]["data"][3:] == [1, 1]
    assert data["use_month"]["series"][1]["name"] == "查看次数"
    assert sum(data["use_month"]["series"][1]["data"]) >= 1
    assert 'src="/static/vendor/echarts/echarts.min.js"' in body and "/static/stats.js" in body
    assert "https://" not in body.split("<footer")[0].split("</header>")[1]  # nothing fetched from elsewhere


def test_the_xlsx_holds_the_page_figures_and_is_audited(app, h, items, archive):
    from service.models import AuditEntry

    client = app.test_client()
    h.login(client, "exec")
    body = client.get("/statistics?year_from=2024").get_data(as_text=True)
    assert _row(body, "holdings_year", "2024")[1] == "2"
    assert 'data-key="2023"' not in body
    assert 'href="/statistics.xlsx?year_from=2024"' in body
    r = client.get("/statistics.xlsx?year_from=2024")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(r.data))
    years = list(wb["按年度"].iter_rows(values_only=True))
    assert years[0] == ("年度 / Year", "件数 / Items", "纸质页数 / Paper pages", "扫描页数 / Scanned pages")
    assert years[1] == ("2024", 2, 2, 2) and years[-1][0] == "合计 / Total"
    secrecy = {row[0]: row[1:] for row in wb["按密级"].iter_rows(values_only=True)}
    assert secrecy["机密 / Confidential"] == (1, 1, 1)
    info = list(wb["说明"].iter_rows(values_only=True))
    assert ("起始年度 / From year", 2024, None) in info
    with archive.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "stats.export")
                          .order_by(AuditEntry.id.desc())).first()
        assert entry.actor == "exec" and entry.detail == {"format": "xlsx", "year_from": 2024}


@pytest.mark.parametrize("user", ["alice", "offi"])
def test_staff_and_officers_are_refused(app, h, items, user):
    client = app.test_client()
    h.login(client, user)
    assert 'href="/statistics"' not in client.get("/search").get_data(as_text=True)
    r = client.get("/statistics")
    assert r.status_code == 403 and "可以查看统计" in r.get_data(as_text=True)
    assert client.get("/statistics.xlsx").status_code == 403


def test_a_bad_filter_says_what_is_wrong(app, h, items):
    client = app.test_client()
    h.login(client, "arc")
    r = client.get("/statistics?fonds=J999")
    assert r.status_code == 400 and "全宗“J999”不存在" in r.get_data(as_text=True)
    r = client.get("/statistics?year_from=2025&year_to=2020")
    assert r.status_code == 400 and "起始年度 2025 晚于截止年度 2020" in r.get_data(as_text=True)


def test_the_page_in_english(app, h, items):
    client = app.test_client()
    h.login(client, "boss")
    client.post("/lang", data={"lang": "en", "next": "/statistics",
                               "csrf_token": h.csrf(client, "/statistics")})
    body = client.get("/statistics").get_data(as_text=True)
    assert "Holdings by secrecy" in body and ">Confidential<" in body
    data = {t["key"]: t for t in _data(body)["tables"]}
    assert data["holdings_category"]["labels"] == ["HT Contracts and agreements"]
    assert data["use_month"]["series"][2]["name"] == "Downloads"


def test_the_vendored_echarts_is_the_file_its_readme_names():
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    version = re.search(r"echarts@(\d+\.\d+\.\d+)", readme).group(1)
    sha = re.search(r"`echarts\.min\.js`, sha256 `([0-9a-f]{64})`", readme).group(1)
    data = (VENDOR / "echarts.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha
    assert f't.version="{version}"'.encode() in data
    assert (VENDOR / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert (VENDOR / "NOTICE").exists() and (VENDOR / "LICENSE-d3").exists()
