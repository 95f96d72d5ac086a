"""Search without words browses the catalogue; every search parameter is checked (#8.1, 8.11, 8.12)."""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalogue(archive):
    """Items over two categories and years, with owners and secrecy levels."""
    spec = importlib.util.spec_from_file_location("web_conftest",
                                                  Path(__file__).with_name("conftest.py"))
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    make_item = helpers.make_item

    ids = {
        "ht26": make_item(archive, title="二〇二六年供货合同", text="供货方按月交货。",
                          category="HT", year=2026, owner="alice", secrecy="内部"),
        "ht26b": make_item(archive, title="二〇二六年仓储合同", text="仓储方负责保管。",
                           category="HT", year=2026, owner="bob", secrecy="内部"),
        "ht26c": make_item(archive, title="二〇二六年保密协议", text="双方保守商业秘密。",
                           category="HT", year=2026, secrecy="机密"),
        "ht26d": make_item(archive, title="二〇二六年绝密合同", text="绝密事项。",
                           category="HT", year=2026, secrecy="绝密", owner="alice"),
        "ht24": make_item(archive, title="二〇二四年供货合同", text="供货方按季交货。",
                          category="HT", year=2024, owner="alice"),
        "ws26": make_item(archive, title="二〇二六年会议纪要", text="会议决定事项。",
                          category="WS", year=2026, owner="alice"),
    }
    return ids


def _listed(html: str, item_id: int) -> bool:
    return re.search(rf"/items/{item_id}(?!\d)", html) is not None


def _codes(result: dict) -> list[str]:
    return [h["archival_code"] for h in result["hits"]]


def test_filters_alone_browse_the_web_page(client, h, catalogue):
    h.login(client, "admin", h.ADMIN_PW)
    r = client.get("/search?category=HT&year_from=2026")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for key in ("ht26", "ht26b", "ht26c"):
        assert _listed(html, catalogue[key])
    for key in ("ht24", "ws26", "ht26d"):  # other filters, and 绝密 is never listed
        assert not _listed(html, catalogue[key])
    assert "共找到 3 件" in html or "3 items" in html


def test_filters_alone_browse_the_api_sorted_by_code_with_paging(client, h, catalogue):
    h.login(client, "admin", h.ADMIN_PW)
    full = client.get("/api/v1/search?category=HT&year_from=2026").get_json()
    assert full["total"] == 3
    assert _codes(full) == sorted(_codes(full))
    assert {x["id"] for x in full["hits"]} == {catalogue[k] for k in ("ht26", "ht26b", "ht26c")}
    first = client.get("/api/v1/search?category=HT&year_from=2026&limit=2").get_json()
    second = client.get("/api/v1/search?category=HT&year_from=2026&limit=2&page=2").get_json()
    assert first["total"] == second["total"] == 3
    assert _codes(first) + _codes(second) == _codes(full)


def test_browse_applies_the_search_visibility(client, h, catalogue):
    h.login(client, "alice")
    r = client.get("/api/v1/search?year=2026").get_json()
    # alice owns ht26 and ws26; ht26d (绝密) is hers too but never shown; ht26b is bob's
    assert {x["id"] for x in r["hits"]} == {catalogue["ht26"], catalogue["ws26"]}
    assert r["total"] == 2
    page = client.get("/search?year=2026").get_data(as_text=True)
    assert _listed(page, catalogue["ht26"])
    assert not _listed(page, catalogue["ht26b"]) and not _listed(page, catalogue["ht26c"])


def test_browse_facets_count_only_visible_items(archive, catalogue):
    from sqlalchemy import select

    from service.models import User
    from service.search import parse_search_params, run_search

    with archive.session() as s:
        alice = s.scalar(select(User).where(User.username == "alice"))
    res = run_search(archive, parse_search_params({"year": "2026"}), user=alice, facets=True,
                     raw=True)
    assert res.total == 2
    assert res.facets["category"] == {"HT": 1, "WS": 1}
    assert sum(res.facets["secrecy"].values()) == 2 and "绝密" not in res.facets["secrecy"]


def test_cli_search_without_query_browses(archive, catalogue):
    env = {**os.environ, "DANGAN_DATA": str(archive.settings.data_dir)}
    out = subprocess.run([sys.executable, "-m", "cli", "search", "--category", "HT",
                          "--year-from", "2026", "--json"], capture_output=True, text=True,
                         env=env, cwd=ROOT, check=True, timeout=60)
    data = json.loads(out.stdout)
    # the operator sees everything shown electronically: never 绝密
    assert {x["id"] for x in data["hits"]} == {catalogue[k] for k in ("ht26", "ht26b", "ht26c")}
    bad = subprocess.run([sys.executable, "-m", "cli", "search", "合同", "--year",
                          "abcd"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert bad.returncode == 2
    assert "year" in bad.stderr and "四位" in bad.stderr and "four-digit" in bad.stderr


@pytest.mark.parametrize("query", [
    "q=合同&year=abcd", "q=合同&limit=abc", "q=合同&year_from=20x6", "q=合同&page=0",
    "q=合同&sort=sideways", "q=合同&secrecy=最高", "q=合同&retention=D99",
    "category=HT&year_from=2027&year_to=2026", "year=２０２６", "limit=1000",
])
def test_bad_search_parameters_are_rejected(client, h, catalogue, query):
    h.login(client, "admin", h.ADMIN_PW)
    r = client.get(f"/api/v1/search?{query}")
    assert r.status_code == 400
    msg = r.get_json()["error"]
    assert "。/ " in msg  # Chinese first, then English
    page = client.get(f"/search?{query}")
    assert page.status_code == 400
    shown = page.get_data(as_text=True)
    assert html.escape(msg.split("。/ ")[0], quote=False) in shown.replace("&#34;", '"')


def test_secrecy_filter_offers_only_findable_levels(app, client, h, catalogue):
    h.login(client, "alice")
    html = client.get("/search").get_data(as_text=True)
    options = html[html.index('name="secrecy"'):html.index("</select>", html.index('name="secrecy"'))]
    assert "公开" in options and "秘密" in options
    assert "机密" not in options and "绝密" not in options
    admin = app.test_client()
    h.login(admin, "admin", h.ADMIN_PW)
    html = admin.get("/search").get_data(as_text=True)
    options = html[html.index('name="secrecy"'):html.index("</select>", html.index('name="secrecy"'))]
    assert "机密" in options and "绝密" not in options


def test_moving_a_box_on_the_web_updates_the_search_index(archive, client, h, catalogue):
    """The web's request session keeps the index current too (#8.2)."""
    from sqlalchemy import select

    from service.locations import create_box, ensure_shelf
    from service.models import ArchiveItem, Shelf

    with archive.session() as s:
        box = create_box(s, "BOX-WEB-1", year=2026, retention="D30",
                         shelf=ensure_shelf(s, "W", "1", "1", "1"), actor="test")
        s.get(ArchiveItem, catalogue["ht26"]).box_id = box.id
        ensure_shelf(s, "W", "2", "2", "2")
    with archive.session() as s:
        target = next(sh.id for sh in s.scalars(select(Shelf)) if sh.path.endswith("/2架/2节/2层"))
    h.login(client, "admin", h.ADMIN_PW)
    token = h.csrf(client, "/boxes/BOX-WEB-1")
    r = client.post("/boxes/BOX-WEB-1/move", data={"shelf_id": target, "csrf_token": token})
    assert r.status_code == 302
    res = client.get("/api/v1/search?q=供货方按月交货").get_json()
    assert [x["id"] for x in res["hits"]] == [catalogue["ht26"]]
    new = "W库房/2架/2节/2层/盒 BOX-WEB-1"
    moved = client.get("/api/v1/search", query_string={"q": "供货方按月交货", "location": new})
    assert [x["id"] for x in moved.get_json()["hits"]] == [catalogue["ht26"]]
    from service.checks import check_index

    assert catalogue["ht26"] not in check_index(archive)["stale"]


def test_item_page_does_not_confirm_a_masked_number(app, h, catalogue):
    """Opening an item with ?q=<number> marks no page and outlines no word for a user who
    may not see personal data (#8.15): the item page matches the text as they read it."""
    text = "乙方联系人王五，联系电话138 1234 5678，负责本合同的履行。"
    words = [{"t": t, "x": 40 + 90 * i, "y": 40, "w": 80, "h": 30, "c": 90, "l": 1}
             for i, t in enumerate(["乙方联系人王五，联系电话", "138", "1234", "5678", "，负责"])]
    item_id = h.item(title="联系人登记", text=text, owner="alice", words=words)
    for user, shown in (("alice", False), ("arc", True)):
        client = app.test_client()
        h.login(client, user)
        page = client.get(f"/items/{item_id}", query_string={"q": "1234"}).get_data(as_text=True)
        assert ('data-hits="0"' not in page) is shown, user
        # the whole number: its readable parts (138, 5678) may be outlined, never the
        # hidden middle: one box over 138 1234 5678 (x 130-390) only for who may read it
        page = client.get(f"/items/{item_id}", query_string={"q": '"138 1234 5678"'})
        assert ('x="126" y="36" width="268"' in page.get_data(as_text=True)) is shown, user
        page = client.get(f"/items/{item_id}?q=联系电话").get_data(as_text=True)
        assert 'data-hits="0"' not in page  # what everyone may read is still outlined
