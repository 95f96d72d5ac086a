"""Flask test-client tests of the web app: sign-in, CSRF, API tokens, permissions, escaping."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ sign-in and CSRF


def test_pages_require_login(client):
    for url in ("/search", "/upload", "/shelves", "/customers", "/items/1",
                "/items/1/pages/1/thumb", "/account/token"):
        r = client.get(url)
        assert r.status_code == 302, url
        assert "/login" in r.headers["Location"]


def test_api_requires_token(client):
    r = client.get("/api/v1/search?q=合同")
    assert r.status_code == 401
    assert "error" in r.get_json()
    r = client.get("/api/v1/search?q=合同", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401


def test_login_logout_and_wrong_password(client, h):
    token = h.csrf(client)
    r = client.post("/login", data={"username": "admin", "password": "wrong-one",
                                    "csrf_token": token})
    assert r.status_code == 401
    assert "用户名或密码不正确" in r.get_data(as_text=True)
    h.login(client, "admin", h.ADMIN_PW)
    assert client.get("/search").status_code == 200
    r = client.post("/logout", data={"csrf_token": h.csrf(client, "/search")})
    assert r.status_code == 302
    assert client.get("/search").status_code == 302


def test_session_cookie_flags(client, h):
    token = h.csrf(client)
    r = client.post("/login", data={"username": "admin", "password": h.ADMIN_PW,
                                    "csrf_token": token})
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith("dangan_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_redirect_is_same_site_only(client, h):
    token = h.csrf(client)
    r = client.post("/login?next=//evil.example/x", data={
        "username": "admin", "password": h.ADMIN_PW, "csrf_token": token})
    assert r.headers["Location"].endswith("/search")


def test_csrf_enforced_on_forms_and_cookie_api_writes(client, h):
    r = client.post("/login", data={"username": "admin", "password": h.ADMIN_PW})
    assert r.status_code == 400
    assert "安全令牌" in r.get_data(as_text=True)
    h.login(client, "arc")
    r = client.post("/customers/new", data={"number": "KH-202401001", "name": "无令牌"})
    assert r.status_code == 400
    # the upload XHR: a cookie-authenticated API write needs X-CSRFToken
    r = client.post("/api/v1/items", data={"title": "x"})
    assert r.status_code == 400 and "error" in r.get_json()
    r = client.post("/api/v1/items", data={"title": "x", "category": "HT", "year": "2024",
                                           "retention": "D30", "secrecy": "内部"},
                    headers={"X-CSRFToken": h.csrf(client, "/upload")})
    assert r.status_code == 400
    assert "没有选择文件" in r.get_json()["error"]


def test_must_change_password_first(client, h):
    h.login(client, "newbie")
    r = client.get("/search")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/password")
    token = h.csrf(client, "/account/password")
    r = client.post("/account/password", data={"current": h.PW, "new": "short",
                                               "confirm": "short", "csrf_token": token})
    assert r.status_code == 400 and "8" in r.get_data(as_text=True)
    r = client.post("/account/password", data={"current": h.PW, "new": "brand-new-pass",
                                               "confirm": "brand-new-pass", "csrf_token": token})
    assert r.status_code == 302
    assert client.get("/search").status_code == 200


def test_token_page_and_bearer_auth(app, h):
    client = app.test_client()
    h.login(client, "alice")
    r = client.post("/account/token", data={"csrf_token": h.csrf(client, "/account/token")})
    m = re.search(r'id="token" class="mono" value="([^"]+)"', r.get_data(as_text=True))
    assert m
    api = app.test_client()
    r = api.get("/api/v1/search?q=合同", headers={"Authorization": f"Bearer {m.group(1)}"})
    assert r.status_code == 200 and "total" in r.get_json()
    # token-authenticated writes need no CSRF token (no cookie involved)
    r = api.post("/api/v1/items", data={}, headers={"Authorization": f"Bearer {m.group(1)}"})
    assert r.status_code == 400


def test_openapi_description(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/search", "/items", "/items/{item_id}", "/items/{item_id}/progress",
                 "/codes/preview"):
        assert path in spec["paths"]


# ------------------------------------------------------------------ API


def test_api_search_equals_cli_json(archive, client, h):
    h.item(title="租赁合同（仓库）", text="出租方同意将仓库租给承租方使用，租金按季度支付。")
    h.item(title="仓库保管协议", text="保管方负责仓库货物的保管，承租方另行支付保管费。")
    h.login(client, "admin", h.ADMIN_PW)
    api = client.get("/api/v1/search?q=仓库&limit=10").get_json()
    env = {**os.environ, "DANGAN_DATA": str(archive.settings.data_dir)}
    out = subprocess.run([sys.executable, "-m", "cli", "search", "仓库", "--json",
                          "--limit", "10"], capture_output=True, text=True, env=env, cwd=ROOT,
                         check=True, timeout=60)
    assert api == json.loads(out.stdout)
    assert api["total"] == 2


def test_api_item_progress_and_code_preview(client, h):
    item_id = h.item(title="预览测试", text="预览测试页面文字")
    h.login(client, "admin", h.ADMIN_PW)
    data = client.get(f"/api/v1/items/{item_id}").get_json()
    assert data["title"] == "预览测试" and data["pages"][0]["text"] == "预览测试页面文字"
    p = client.get(f"/api/v1/items/{item_id}/progress").get_json()
    assert p["status"] == "ready" and p["pages_done"] == p["pages_total"] == 1
    r = client.get("/api/v1/codes/preview?fonds=J001&category=WS&year=2023&retention=Y&org=BGS")
    assert r.get_json() == {"archival_code": "J001-WS·2023-Y-BGS-NNNN"}
    for args, needle in (("fonds=J001&category=ZZ", "ZZ"), ("fonds=J999&category=WS", "J999")):
        r = client.get(f"/api/v1/codes/preview?{args}&year=2023&retention=Y")
        assert r.status_code == 404 and needle in r.get_json()["error"]  # as registering would
    r = client.get("/api/v1/codes/preview?fonds=J001&category=X&year=2023&retention=Y")
    assert r.status_code == 400 and "门类代码" in r.get_json()["error"]
    assert client.get("/api/v1/items/999999").status_code == 404


@pytest.mark.parametrize("path", ["/items/{}", "/items/{}/pages/1/image", "/items/1/files/{}",
                                  "/api/v1/items/{}", "/api/v1/items/{}/progress",
                                  "/shelves/{}", "/shelves/rooms/{}"])
def test_an_id_no_column_can_hold_is_not_found(client, h, path: str) -> None:
    """A number past the database's 64-bit ids is a page that does not exist, not a 500."""
    h.login(client, "admin", h.ADMIN_PW)
    for n in (2**63, 10**20):
        r = client.get(path.format(n))
        assert r.status_code == 404, (path, n, r.status_code)


def test_api_upload_real_scan_then_search_and_view(archive, client, h, tmp_path, no_queue):
    """Upload through the API, run the queued OCR pages here, then find and view the hit."""
    from service.jobs.pipeline import run_page
    from tests.scanfactory import render_page, write_png

    scan = write_png(tmp_path / "合同第1页.png",
                     render_page(["购销合同", "甲方应于二〇二四年三月前支付合同款。"],
                                 size=(1240, 500)))
    h.login(client, "arc")
    with open(scan, "rb") as fh:
        r = client.post("/api/v1/items", data={
            "fonds": "J001", "category": "HT", "year": "2024", "retention": "D30",
            "secrecy": "内部", "title": "某某公司购销合同", "paper_pages": "1",
            "files": [(fh, "合同第1页.png"), (io.BytesIO(b"not an image"), "坏文件.jpg")]},
            headers={"X-CSRFToken": h.csrf(client, "/upload")})
    assert r.status_code == 201, r.get_json()
    res = r.get_json()
    assert res["pages"] == 1 and res["status"] == "processing"
    assert [f["name"] for f in res["failed_files"]] == ["坏文件.jpg"]
    for page_id in no_queue:
        assert run_page(archive, page_id) == "done"
    p = client.get(f"/api/v1/items/{res['id']}/progress").get_json()
    assert p["status"] == "partial" and p["pages_done"] == 1  # usable; one of its files failed
    assert p["failed_files"][0]["name"] == "坏文件.jpg"
    hits = client.get("/api/v1/search?q=支付合同款").get_json()
    assert res["id"] in [hit["id"] for hit in hits["hits"]]
    page = client.get(f"/items/{res['id']}?q=支付合同款").get_data(as_text=True)
    assert page.count('class="hitbox"') >= 1
    assert "<mark>支付合同款</mark>" in page
    assert "坏文件.jpg" in page
    # no temp upload files are left behind
    assert not any((archive.settings.data_dir / "tmp").iterdir())


def test_upload_rejects_no_files_and_empty_files(client, h):
    h.login(client, "arc")
    fields = {"fonds": "J001", "category": "HT", "year": "2024", "retention": "D30",
              "secrecy": "内部", "title": "空文件测试"}
    token = h.csrf(client, "/upload")
    r = client.post("/upload", data={**fields, "csrf_token": token})
    assert r.status_code == 400
    assert "没有选择文件" in r.get_data(as_text=True)
    r = client.post("/upload", data={**fields, "csrf_token": token,
                                     "files": [(io.BytesIO(b""), "空白.png")]})
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    assert "空文件" in body and "空白.png" in body
    assert 'value="空文件测试"' in body  # the form keeps what was typed
    r = client.post("/api/v1/items", data={**fields, "files": [(io.BytesIO(b""), "空白.png")]},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 400 and "空白.png" in r.get_json()["error"]
    r = client.post("/upload", data={**fields, "year": "二〇二四", "csrf_token": token,
                                     "files": [(io.BytesIO(b"x"), "a.png")]})
    assert r.status_code == 400 and "年度" in r.get_data(as_text=True)


def test_upload_size_cap(archive):
    from web.app import create_app

    small = create_app(archive, {"TESTING": True, "MAX_CONTENT_LENGTH": 1000,
                                 "WTF_CSRF_ENABLED": False}).test_client()
    small.post("/login", data={"username": "arc", "password": "password-123"})
    r = small.post("/api/v1/items", data={"files": [(io.BytesIO(b"x" * 5000), "big.png")]})
    assert r.status_code == 413 and "error" in r.get_json()


# ------------------------------------------------------------------ permissions


def test_staff_cannot_see_other_owners_items(client, h):
    item_id = h.item(title="艾丽斯的客户合同", text="独有暗号紫罗兰七号条款", owner="alice")
    h.login(client, "bob")
    assert client.get(f"/items/{item_id}").status_code == 403
    assert client.get(f"/items/{item_id}/pages/1/thumb").status_code == 403
    assert client.get(f"/items/{item_id}/pages/1/image").status_code == 403
    assert client.get(f"/items/{item_id}/files/1").status_code == 403
    assert client.get(f"/api/v1/items/{item_id}").status_code == 403
    page = client.get("/search?q=紫罗兰七号").get_data(as_text=True)
    assert "艾丽斯" not in page and "共找到 0 件" in page
    assert client.get("/api/v1/search?q=紫罗兰七号").get_json()["total"] == 0
    client.post("/logout", data={"csrf_token": h.csrf(client, "/search")})
    h.login(client, "alice")
    assert client.get(f"/items/{item_id}").status_code == 200
    assert client.get(f"/items/{item_id}/pages/1/thumb").status_code == 200
    page = client.get("/search?q=紫罗兰七号").get_data(as_text=True)
    assert "艾丽斯的客户合同" in page and "<mark>紫罗兰七号</mark>" in page


def test_confidential_is_view_only_and_top_secret_hidden(archive, client, h):
    from service.models import AuditEntry, StoredFile

    conf = h.item(title="机密协议", text="机密内容第一页", secrecy="机密")
    top = h.item(title="绝密文件", text="绝密内容", secrecy="绝密")
    h.login(client, "admin", h.ADMIN_PW)
    page = client.get(f"/items/{conf}").get_data(as_text=True)
    assert "机密协议" in page and f"/items/{conf}/files/" not in page
    with archive.session() as s:
        fid = s.scalar(select(StoredFile.id).where(StoredFile.item_id == conf))
    assert client.get(f"/items/{conf}/files/{fid}").status_code == 403
    # on screen only at a reading-room workstation (issue 13: the policy)
    assert client.get(f"/items/{conf}/pages/1/image").status_code == 403
    h.reading_room(client)
    assert client.get(f"/items/{conf}/pages/1/image").status_code == 200
    assert client.get(f"/items/{conf}/files/{fid}").status_code == 403
    client.get(f"/items/{conf}")
    assert client.get(f"/items/{top}").status_code == 403
    assert client.get("/api/v1/search?q=绝密内容").get_json()["total"] == 0
    with archive.session() as s:
        actions = {(e.action, e.target) for e in s.scalars(select(AuditEntry))}
    assert ("item.view", f"item:{conf}") in actions


def test_download_is_streamed_and_audited(archive, client, h):
    from service.models import AuditEntry, StoredFile

    item_id = h.item(title="可下载文件", text="可下载文件内容")
    h.login(client, "admin", h.ADMIN_PW)
    with archive.session() as s:
        f = s.scalars(select(StoredFile).where(StoredFile.item_id == item_id)).one()
    r = client.get(f"/items/{item_id}/files/{f.id}")
    assert r.status_code == 200 and len(r.data) == f.size
    assert "attachment" in r.headers["Content-Disposition"]
    with archive.session() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last.action == "file.download" and last.target == f"item:{item_id}"


# ------------------------------------------------------------------ escaping


def test_title_and_ocr_text_are_escaped(client, h):
    item_id = h.item(title="<script>alert('t')</script>恶意题名合同",
                     text="正文<script>alert(\"ocr\")</script>恶意识别文字 <img src=x onerror=alert(1)>")
    h.login(client, "admin", h.ADMIN_PW)
    for url in ("/search?q=恶意识别文字", f"/items/{item_id}?q=恶意识别文字", "/search"):
        body = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in body, url
        assert "<img src=x" not in body, url
        assert "&lt;script&gt;" in body, url
    body = client.get("/search?q=恶意识别文字").get_data(as_text=True)
    assert "<mark>恶意识别文字</mark>" in body


def test_safe_snippet_keeps_only_mark():
    from web.ctx import safe_snippet

    assert str(safe_snippet("a &lt;b&gt; <mark>c</mark>")) == "a &lt;b&gt; <mark>c</mark>"
    assert str(safe_snippet("<script>x</script><mark>y")) == \
        "&lt;script&gt;x&lt;/script&gt;<mark>y</mark>"
    assert str(safe_snippet("</mark><mark onclick=1>z")) == "&lt;mark onclick=1&gt;z"


def test_a_message_is_shown_in_the_users_language():
    from indexer.errors import REASONS
    from service.errors import N_, Listing, about, msg
    from web.i18n import render

    missing = msg(N_("文件不存在：%(p)s。请检查路径。"), p="/tmp/a b")
    assert render(missing, "zh_CN") == "文件不存在：/tmp/a b。请检查路径。"
    assert render(missing, "en") == "File not found: /tmp/a b. Check the path."
    assert render("plain", "en") == "plain"
    two = Listing([about("坏.jpg", REASONS["corrupt-image"]), about("好.png", REASONS["empty-file"])],
                  "\n")
    assert render(two, "en").startswith("坏.jpg: The image data is corrupt")
    assert "\n好.png: The file is empty" in render(two, "en")
    assert render(two, "zh_CN").startswith("坏.jpg：图像数据已损坏")
    assert "\n好.png：文件为空" in render(two, "zh_CN")


# ------------------------------------------------------------------ i18n, shelves, customers


def test_language_switch(client, h):
    h.login(client, "admin", h.ADMIN_PW)
    assert "检索" in client.get("/search").get_data(as_text=True)
    client.post("/lang", data={"lang": "en", "next": "/search",
                               "csrf_token": h.csrf(client, "/search")})
    body = client.get("/search").get_data(as_text=True)
    assert ">Search<" in body and ">Upload<" in body and 'lang="en"' in body
    body = client.get("/items/999999").get_data(as_text=True)
    assert "Item 999999 does not exist" in body


def test_shelves_boxes_and_labels(client, h):
    h.login(client, "arc")
    token = h.csrf(client, "/shelves")
    r = client.post("/shelves/new", data={"room": "A", "room_name": "一号库房", "rack": "3",
                                          "section": "2", "shelf": "4", "csrf_token": token})
    assert r.status_code == 302
    shelf_id = int(r.headers["Location"].rsplit("/", 1)[1])
    r = client.post("/boxes/new", data={"barcode": "BOX-2024-0001", "year": "2024",
                                        "retention": "D30", "shelf_id": str(shelf_id),
                                        "csrf_token": token})
    assert r.status_code == 302
    r = client.post("/boxes/new", data={"barcode": "BOX-2024-0001", "csrf_token": token})
    assert r.status_code == 400 and "已存在" in r.get_data(as_text=True)
    overview = client.get("/shelves").get_data(as_text=True)
    assert "一号库房" in overview
    assert "一号库房/3架/2节/4层" in client.get(f"/shelves/{shelf_id}").get_data(as_text=True) \
        or "BOX-2024-0001" in client.get(f"/shelves/{shelf_id}").get_data(as_text=True)
    box = client.get("/boxes/BOX-2024-0001").get_data(as_text=True)
    assert "一号库房/3架/2节/4层" in box and "入库" in box
    r = client.post("/boxes/BOX-2024-0001/move", data={"shelf_id": "", "note": "盘点",
                                                       "csrf_token": token})
    assert r.status_code == 302
    box = client.get("/boxes/BOX-2024-0001").get_data(as_text=True)
    assert "盘点" in box and "未上架" in box
    label = client.get("/boxes/BOX-2024-0001/label").get_data(as_text=True)
    assert "<svg" in label and 'class="qr"' in label and "BOX-2024-0001" in label


def test_location_forms_answer_numbers_past_the_database(client, h):
    """A year or shelf id no column can hold is a bad value or an unknown shelf, not a 500."""
    h.login(client, "arc")
    token = h.csrf(client, "/shelves")
    huge = "99999999999999999999"
    r = client.post("/boxes/new", data={"barcode": "BOX-HUGE-1", "year": huge, "csrf_token": token})
    assert r.status_code == 400 and "年度" in r.get_data(as_text=True)
    r = client.post("/boxes/new", data={"barcode": "BOX-HUGE-2", "shelf_id": huge,
                                        "csrf_token": token})
    assert r.status_code in (400, 404) and "不存在" in r.get_data(as_text=True)
    client.post("/boxes/new", data={"barcode": "BOX-HUGE-3", "csrf_token": token})
    r = client.post("/boxes/BOX-HUGE-3/move", data={"shelf_id": huge, "csrf_token": token})
    assert r.status_code in (400, 404) and "不存在" in r.get_data(as_text=True)


def test_staff_cannot_manage_locations(client, h):
    h.login(client, "alice")
    r = client.post("/shelves/new", data={"room": "Z", "rack": "1", "section": "1", "shelf": "1",
                                          "csrf_token": h.csrf(client, "/shelves")})
    assert r.status_code == 400 and "档案管理员" in r.get_data(as_text=True)


def test_customers(client, h, archive):
    h.login(client, "arc")
    token = h.csrf(client, "/customers")
    r = client.post("/customers/new", data={"number": "KH-202405001", "name": "华东精密机械有限公司",
                                            "kind": "企业", "grade": "重点", "owner": "alice",
                                            "department": "销售部", "csrf_token": token})
    assert r.status_code == 302
    r = client.post("/customers/new", data={"number": "bad", "name": "x", "kind": "企业",
                                            "grade": "普通", "csrf_token": token})
    assert r.status_code == 400 and "KH-" in r.get_data(as_text=True)
    page = client.get("/customers/KH-202405001").get_data(as_text=True)
    assert "华东精密机械有限公司" in page and "合同协议" in page and "基础资料" in page
    client.post("/logout", data={"csrf_token": token})
    h.login(client, "bob")
    assert client.get("/customers/KH-202405001").status_code == 404
    assert "华东精密机械" not in client.get("/customers").get_data(as_text=True)


def test_empty_states_and_long_titles(client, h):
    long_title = "关于" + "华东精密机械有限公司年度框架采购" * 12 + "的合同"
    h.item(title=long_title, text="长题名测试文字")
    h.login(client, "admin", h.ADMIN_PW)
    assert "没有找到" in client.get("/search?q=不存在的词语组合").get_data(as_text=True)
    body = client.get("/search?q=长题名测试文字").get_data(as_text=True)
    assert long_title in body


@pytest.mark.parametrize("url", ["/search", "/upload", "/shelves", "/customers", "/account/token"])
def test_pages_render_for_archivist(client, h, url):
    h.login(client, "arc")
    assert client.get(url).status_code == 200
