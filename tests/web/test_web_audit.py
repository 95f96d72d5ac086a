"""Reading is audited with the client's address (issue 13, item 5): item pages, page images,
downloads, searches (page and API), exports and printed paperwork; behind a reverse proxy
the address is the one it forwards."""

from __future__ import annotations

import pytest
from sqlalchemy import select

CLIENT = "203.0.113.9"


def _entries(archive, after: int) -> list:
    from service.models import AuditEntry

    with archive.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.id > after)
                              .order_by(AuditEntry.id)))


def _last_id(archive) -> int:
    from sqlalchemy import func

    from service.models import AuditEntry

    with archive.session() as s:
        return s.scalar(select(func.max(AuditEntry.id))) or 0


@pytest.fixture
def remote(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = CLIENT
    return client


def test_views_downloads_and_searches_are_recorded_with_the_client_address(archive, remote, h):
    from service.models import StoredFile

    item_id = h.item(title="审计测试合同", text="审计测试合同正文")
    h.login(remote, "admin", h.ADMIN_PW)
    with archive.session() as s:
        file_id = s.scalar(select(StoredFile.id).where(StoredFile.item_id == item_id))
    start = _last_id(archive)
    assert remote.get(f"/items/{item_id}").status_code == 200
    assert remote.get(f"/items/{item_id}/pages/1/image").status_code == 200
    assert remote.get(f"/items/{item_id}/files/{file_id}").status_code == 200
    assert remote.get("/search?q=审计测试").status_code == 200
    assert remote.get("/api/v1/search?q=审计测试").status_code == 200
    assert remote.get(f"/api/v1/items/{item_id}").status_code == 200
    assert remote.get("/export.csv?q=审计测试").status_code == 200
    got = [(e.actor, e.action, e.target, e.origin) for e in _entries(archive, start)]
    target = f"item:{item_id}"
    assert got == [("admin", "item.view", target, CLIENT),
                   ("admin", "page.view", target, CLIENT),
                   ("admin", "file.download", target, CLIENT),
                   ("admin", "catalogue.search", "search", CLIENT),
                   ("admin", "catalogue.search", "search", CLIENT),
                   ("admin", "item.view", target, CLIENT),
                   ("admin", "catalogue.export", "search", CLIENT)]
    search = _entries(archive, start)[3]
    assert search.detail["q"] == "审计测试" and search.detail["total"] == 1


def test_sign_in_and_failed_sign_in_are_recorded_with_the_client_address(archive, remote, h):
    start = _last_id(archive)
    token = h.csrf(remote)
    remote.post("/login", data={"username": "bob", "password": "wrong-password",
                                "csrf_token": token})
    h.login(remote, "bob")
    got = [(e.actor, e.action, e.origin) for e in _entries(archive, start)]
    assert got == [("bob", "auth.login_failed", CLIENT), ("bob", "auth.login", CLIENT)]


def test_printed_paperwork_and_reports_are_recorded(archive, remote, h):
    from service.locations import create_box, get_box, put_in_box
    from service.models import ArchiveItem

    item_id = h.item(title="装盒合同", text="装盒合同正文")
    with archive.session() as s:
        create_box(s, "BOX-AUDIT")
        put_in_box(get_box(s, "BOX-AUDIT"), s.get(ArchiveItem, item_id))
    h.login(remote, "arc")
    start = _last_id(archive)
    r = remote.get("/boxes/BOX-AUDIT/paperwork.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert remote.get("/reports/two-set.csv").status_code == 200
    got = [(e.actor, e.action, e.target, e.origin) for e in _entries(archive, start)]
    assert got == [("arc", "box.print", "box:BOX-AUDIT", CLIENT),
                   ("arc", "report.export", "report:two-set", CLIENT)]


def test_behind_a_proxy_the_forwarded_address_is_recorded(archive, h):
    from dataclasses import replace

    from service.archive import Archive
    from web.app import create_app

    proxied = Archive(replace(archive.settings, proxy_hops=1))  # DANGAN_PROXY_HOPS=1
    app = create_app(proxied, {"TESTING": True, "SECRET_KEY": "proxy-test"})
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the proxy
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.77"
    item_id = h.item(title="代理后的合同", text="代理后的合同正文")
    h.login(client, "admin", h.ADMIN_PW)
    start = _last_id(archive)
    assert client.get(f"/items/{item_id}").status_code == 200
    assert [e.origin for e in _entries(archive, start)] == ["198.51.100.77"]


def test_an_audited_view_costs_little(archive, client, h):
    """The audit write (chain head lock, entry, commit, anchor object) adds little to a view:
    measured against the same page with the audit write switched off."""
    import time

    import service.items as items_module
    import web.items as web_items

    item_id = h.item(title="计时合同", text="计时合同正文")
    h.login(client, "admin", h.ADMIN_PW)

    def timed(n: int = 15) -> float:
        client.get(f"/items/{item_id}")
        t0 = time.perf_counter()
        for _ in range(n):
            assert client.get(f"/items/{item_id}").status_code == 200
        return (time.perf_counter() - t0) / n

    audited = timed()
    real = web_items.record_access
    try:
        web_items.record_access = lambda *a, **k: None  # type: ignore[assignment]  # the baseline
        plain = timed()
    finally:
        web_items.record_access = real
    assert items_module.record_access is real
    print(f"item page: {plain * 1000:.1f} ms without the audit write, "
          f"{audited * 1000:.1f} ms with it")
    assert audited < plain * 2 + 0.05


# ------------------------------------------------------------------ the audit page


@pytest.fixture
def mgr(archive):
    from service.users import create_user, find_user

    with archive.session() as s:
        if find_user(s, "auditmgr") is None:
            create_user(s, "auditmgr", "password-123", role="manager", display_name="主任")
    return "auditmgr"


def test_the_audit_page_filters_and_is_only_for_admin_and_manager(archive, app, h, mgr):
    item_id = h.item(title="筛选用合同", text="筛选用合同正文")
    viewer = app.test_client()
    viewer.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    h.login(viewer, "arc")
    assert viewer.get(f"/items/{item_id}").status_code == 200
    assert viewer.get("/audit").status_code == 403
    assert viewer.get("/audit/export.csv").status_code == 403

    client = app.test_client()
    h.login(client, mgr, h.PW)
    page = client.get(f"/audit?actor=arc&action=item.view&target=item:{item_id}"
                      "&origin=192.0.2.").get_data(as_text=True)
    rows = re_rows(page)
    assert len(rows) == 1 and f"item:{item_id}" in rows[0] and "192.0.2.44" in rows[0]
    assert 'href="/audit"' in client.get("/search").get_data(as_text=True)  # in the menu
    # a legacy name selects the same entries; dates bound the list (UTC days)
    assert len(re_rows(client.get("/audit?actor=arc&action=view").get_data(as_text=True))) >= 1
    assert re_rows(client.get("/audit?actor=arc&from=2000-01-01&to=2000-01-02")
                   .get_data(as_text=True)) == []
    # bad filters are refused with a message, never ignored
    r = client.get("/audit?from=2026-13-40")
    assert r.status_code == 400 and "YYYY-MM-DD" in r.get_data(as_text=True)
    r = client.get("/audit?from=2026-05-02&to=2026-05-01")
    assert r.status_code == 400 and "日期范围无效" in r.get_data(as_text=True)
    assert client.get("/audit?action=no.such").status_code == 400
    # reading the trail is itself recorded
    with archive.session() as s:
        from service.models import AuditEntry
        last = s.scalars(select(AuditEntry).where(AuditEntry.actor == mgr)
                         .order_by(AuditEntry.id.desc())).first()
    assert last.action == "audit.view"


def re_rows(html: str) -> list[str]:
    import re

    body = re.search(r'<table class="table" id="audit-entries">(.*?)</table>', html, re.S)
    assert body, html[:2000]
    return [r for r in re.findall(r"<tr data-id=[^>]*>(.*?)</tr>", body.group(1), re.S)]


def test_the_audit_trail_exports_as_csv_and_xlsx(archive, app, h):
    import csv
    import io

    from openpyxl import load_workbook

    item_id = h.item(title="导出用合同", text="导出用合同正文")
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.55"
    h.login(client, "admin", h.ADMIN_PW)
    client.get(f"/items/{item_id}")
    r = client.get(f"/audit/export.csv?target=item:{item_id}&action=item.view")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["序号 / No.", "时间 (UTC) / Time (UTC)", "用户 / User", "操作 / Action"]
    assert [(x[2], x[3], x[4], x[5]) for x in rows[1:]] == [
        ("admin", "item.view", f"item:{item_id}", "192.0.2.55")]
    r = client.get("/audit/export.xlsx?actor=admin")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "序号 / No." and len(values) > 2
    assert any(v[3] == "item.view" and v[4] == f"item:{item_id}" for v in values[1:])
    assert client.get("/audit/export.pdf").status_code == 404
    with archive.session() as s:
        from service.models import AuditEntry
        exports = s.scalars(select(AuditEntry).where(AuditEntry.action == "audit.export")
                            .order_by(AuditEntry.id)).all()
    assert [e.detail["format"] for e in exports[-2:]] == ["csv", "xlsx"]
    assert exports[-2].detail["rows"] == 1 and exports[-2].origin == "192.0.2.55"


def test_every_refused_attempt_to_open_an_item_is_audited(app, archive, h) -> None:
    """A refused attempt on a 绝密 item (its page, a page image, a download, the API) and on
    a 机密 one out of the reading room is on the audit trail as view.denied (#mends.3)."""
    top = h.item(title="绝密合同", text="绝密内容", secrecy="绝密")
    conf = h.item(title="机密合同", text="机密内容", secrecy="机密")
    client = app.test_client()
    h.login(client, "alice")
    arc = app.test_client()
    h.login(arc, "arc")
    tries = [(client, f"/items/{top}"), (client, f"/items/{top}/pages/1/image"),
             (client, f"/items/{top}/files/1"), (client, f"/api/v1/items/{top}"),
             (arc, f"/items/{conf}/pages/1/image"), (arc, f"/items/{top}")]
    for who, url in tries:
        before = _last_id(archive)
        assert who.get(url).status_code in (200, 403, 404), url
        denied = [e for e in _entries(archive, before) if e.action == "view.denied"]
        assert len(denied) == 1, url
        assert denied[0].target in (f"item:{top}", f"item:{conf}")
