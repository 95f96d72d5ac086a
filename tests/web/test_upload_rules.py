"""What an upload may register, and what it answers when it may not (issue 8: 3, 4, 12, 16).

Every refusal here is checked to leave nothing behind: no item, no stored original, no
档号 taken from its group.
"""

from __future__ import annotations

import io
import random
import re

import pytest
from sqlalchemy import func, select

FIELDS = {"fonds": "J001", "category": "HT", "year": "2024", "retention": "D30",
          "secrecy": "内部", "title": "上传规则测试"}


def png(seed: int) -> bytes:
    """A small real scan whose bytes differ with `seed` (so duplicates are deliberate)."""
    from PIL import Image

    rng = random.Random(seed)
    img = Image.new("RGB", (120, 160), "white")
    for _ in range(40):
        img.putpixel((rng.randrange(120), rng.randrange(160)), (rng.randrange(256),) * 3)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def post(client, h, url="/api/v1/items", files=(), **fields):
    data = {**FIELDS, **fields, "files": [(io.BytesIO(b), name) for name, b in files]}
    token = h.csrf(client, "/upload")
    if url == "/upload":
        return client.post(url, data={**data, "csrf_token": token})
    return client.post(url, data=data, headers={"X-CSRFToken": token})


def counts(archive) -> tuple[int, int, int]:
    """Items, stored originals and the sum of every group's last 件号."""
    from service.models import ArchivalCodeCounter, ArchiveItem, StoredFile

    with archive.session() as s:
        return (s.scalar(select(func.count(ArchiveItem.id))),
                s.scalar(select(func.count(StoredFile.id))),
                s.scalar(select(func.coalesce(func.sum(ArchivalCodeCounter.last_no), 0))))


def stored_original(archive, item_id: int) -> bytes:
    from service.models import StoredFile

    with archive.session() as s:
        key = s.scalar(select(StoredFile.key).where(StoredFile.item_id == item_id,
                                                    StoredFile.role == "original"))
    with archive.store.open(key) as fh:
        return fh.read()


# ------------------------------------------------------------------ 3: duplicates


def test_duplicate_upload_says_already_stored_and_saves_nothing(archive, client, h):
    h.login(client, "arc")
    first = post(client, h, files=[("合同.png", png(1))], title="原题名")
    assert first.status_code == 201, first.get_json()
    item = first.get_json()
    before = counts(archive)
    again = post(client, h, files=[("合同-重扫.png", png(1))], title="新题名", category="WS",
                 year="2023")
    assert again.status_code == 409
    body = again.get_json()
    assert "id" not in body and "archival_code" not in body  # not a result that looks like success
    assert body["duplicate"] is True
    assert body["existing"] == [{"name": "合同-重扫.png", "id": item["id"],
                                 "archival_code": item["archival_code"], "title": "原题名"}]
    assert "已经入库" in body["error"] and item["archival_code"] in body["error"]
    assert "未保存" in body["error"]  # the new catalogue data is said to be dropped
    assert counts(archive) == before
    # the web page (no script) says so too, with a link to open the stored item
    page = post(client, h, "/upload", files=[("合同.png", png(1))], title="新题名")
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert "已经入库" in html and f'href="/items/{item["id"]}"' in html
    assert 'value="新题名"' in html  # what was typed is kept for a correction
    assert counts(archive) == before


def test_upload_with_one_stored_file_among_new_ones_returns_no_item(archive, client, h):
    h.login(client, "arc")
    old = post(client, h, files=[("旧.png", png(2))], year="2022").get_json()
    before = counts(archive)
    r = post(client, h, files=[("新1.png", png(3)), ("旧.png", png(2)), ("新2.png", png(4))],
             year="2022", title="混合上传")
    assert r.status_code == 409
    body = r.get_json()
    assert "id" not in body
    assert [e["name"] for e in body["existing"]] == ["旧.png"]
    assert body["existing"][0]["id"] == old["id"]
    assert "新1.png" not in body["error"]
    assert counts(archive) == before  # the new files were not stored either


# ------------------------------------------------------------------ 16: what a duplicate names


def test_duplicate_of_an_item_the_uploader_may_not_open_is_not_named(archive, client, h):
    top = h.item(title="绝密扫描", text="绝密正文", secrecy="绝密", year=2020)
    conf = h.item(title="机密扫描", text="机密正文", secrecy="机密", year=2020)
    h.login(client, "admin", h.ADMIN_PW)
    r = post(client, h, files=[("copy.webp", stored_original(archive, top))], year="2020")
    assert r.status_code == 409
    body = r.get_json()
    assert body["existing"] == [{"name": "copy.webp"}]
    with archive.session() as s:
        from service.models import ArchiveItem

        top_code = s.get(ArchiveItem, top).archival_code
        conf_code = s.get(ArchiveItem, conf).archival_code
    assert top_code not in body["error"] and "绝密扫描" not in body["error"]
    client.post("/logout", data={"csrf_token": h.csrf(client, "/search")})
    # staff: a partial duplicate of a 机密 item says only "already stored"
    h.login(client, "alice")
    r = post(client, h, files=[("new.png", png(6)), ("c.webp", stored_original(archive, conf))],
             year="2020")
    assert r.status_code == 409
    body = r.get_json()
    assert body["existing"] == [{"name": "c.webp"}]
    assert conf_code not in body["error"] and "机密扫描" not in body["error"]
    assert str(conf) not in str(body["existing"])


def test_code_preview_does_not_count_items_the_user_may_not_see(client, h):
    h.item(title="看不到的一件", text="预览计数", secrecy="绝密", category="BD", year=2019)
    h.login(client, "alice")
    r = client.get("/api/v1/codes/preview?fonds=J001&category=BD&year=2019&retention=D30")
    assert r.status_code == 200
    code = r.get_json()["archival_code"]
    assert code == "J001-BD·2019-D30-NNNN"  # the 件号 comes at registration
    bad = client.get("/api/v1/codes/preview?fonds=J001&category=BD&year=2099&retention=D30")
    assert bad.status_code == 400 and "2099" in bad.get_json()["error"]


def _without_csrf(html: str) -> str:
    """The page with its CSRF tokens (data.timestamp.signature) blanked."""
    return re.sub(r"[\w-]{20,}\.[\w-]+\.[\w-]{20,}", "CSRF", html)


def test_customer_pages_answer_alike_for_unknown_and_not_yours(client, h):
    h.login(client, "arc")
    token = h.csrf(client, "/customers")
    r = client.post("/customers/new", data={"number": "KH-202403007", "name": "艾丽斯的客户",
                                            "kind": "企业", "grade": "普通", "owner": "alice",
                                            "csrf_token": token})
    assert r.status_code == 302
    client.post("/logout", data={"csrf_token": token})
    h.login(client, "bob")
    mine_not = client.get("/customers/KH-202403007")
    missing = client.get("/customers/KH-202403008")
    assert mine_not.status_code == missing.status_code == 404
    # the same page but for the number (and the CSRF token, whose signature carries the time)
    assert (_without_csrf(mine_not.get_data(as_text=True)).replace("KH-202403007", "KH-X")
            == _without_csrf(missing.get_data(as_text=True)).replace("KH-202403008", "KH-X"))
    # staff cannot file an item into a customer they do not own; the answer is the same
    # as for a customer that does not exist, and nothing is registered
    before = counts(archive_of(client))
    not_mine = post(client, h, files=[("k.png", png(7))], customer="KH-202403007")
    unknown = post(client, h, files=[("k.png", png(7))], customer="KH-202403008")
    assert not_mine.status_code == unknown.status_code == 404
    assert (not_mine.get_json()["error"].replace("KH-202403007", "KH-X")
            == unknown.get_json()["error"].replace("KH-202403008", "KH-X"))
    assert counts(archive_of(client)) == before
    client.post("/logout", data={"csrf_token": h.csrf(client, "/search")})
    h.login(client, "alice")  # the owner may
    assert post(client, h, files=[("k.png", png(7))], customer="KH-202403007").status_code == 201


def archive_of(client):
    return client.application.extensions["dangan_archive"]


# ------------------------------------------------------------------ 4: what the uploader may create


@pytest.mark.parametrize("level", ["机密", "绝密"])
def test_staff_cannot_register_what_they_could_not_open(archive, client, h, level):
    h.login(client, "alice")
    before = counts(archive)
    r = post(client, h, files=[("s.png", png(8))], secrecy=level)
    assert r.status_code == 403
    assert level in r.get_json()["error"]
    assert counts(archive) == before
    page = post(client, h, "/upload", files=[("s.png", png(8))], secrecy=level)
    assert page.status_code == 403 and level in page.get_data(as_text=True)
    assert counts(archive) == before


def test_upload_form_offers_only_levels_the_user_may_register(client, h):
    h.login(client, "alice")
    options = client.get("/upload").get_data(as_text=True)
    assert ">秘密</option>" in options
    assert ">机密<" not in options and ">绝密<" not in options
    client.post("/logout", data={"csrf_token": h.csrf(client, "/search")})
    h.login(client, "arc")
    options = client.get("/upload").get_data(as_text=True)
    assert ">机密<" in options and ">绝密<" not in options


def test_archivist_cannot_register_top_secret_through_the_api(archive, client, h):
    h.login(client, "arc")
    before = counts(archive)
    r = post(client, h, files=[("t.png", png(9))], secrecy="绝密")
    assert r.status_code == 403 and "绝密" in r.get_json()["error"]
    assert counts(archive) == before


# ------------------------------------------------------------------ 12: input checks


@pytest.mark.parametrize("fields,needle", [
    ({"year": "2099"}, "2099"),
    ({"year": "2024", "doc_date": "2023-12-31"}, "不在年度 2024 内"),
    ({"customer": "KH-12"}, "KH-YYYYMMNNN"),
    ({"customer": "KH-202413001"}, "KH-YYYYMMNNN"),
    # a number no column holds, and a NUL that PostgreSQL cannot store: 400, not 500
    ({"paper_pages": "99999999999999999999"}, "纸质页数"),
    ({"title": "合同\x00正文"}, "控制字符"),
    ({"remarks": "备注\x07"}, "控制字符"),
])
def test_upload_input_checks(archive, client, h, fields, needle):
    h.login(client, "arc")
    before = counts(archive)
    r = post(client, h, files=[("i.png", png(10))], **fields)
    assert r.status_code == 400, r.get_json()
    assert needle in r.get_json()["error"]
    assert counts(archive) == before


def test_upload_with_nothing_readable_registers_nothing(archive, client, h):
    h.login(client, "arc")
    before = counts(archive)
    r = post(client, h, files=[("坏1.jpg", b"not an image"), ("坏2.png", b"\x89PNG broken")],
             year="2021", category="CW")
    assert r.status_code == 400
    body = r.get_json()
    assert "没有占用档号" in body["error"]
    assert [f["name"] for f in body["failed_files"]] == ["坏1.jpg", "坏2.png"]
    assert all(f["reason"] for f in body["failed_files"])
    assert counts(archive) == before
    page = post(client, h, "/upload", files=[("坏1.jpg", b"not an image")], year="2021",
                category="CW")
    assert page.status_code == 400
    assert "坏1.jpg" in page.get_data(as_text=True)
    assert counts(archive) == before
    ok = post(client, h, files=[("好.png", png(11))], year="2021", category="CW")
    assert ok.get_json()["archival_code"] == "J001-CW·2021-D30-0001"  # no number was used


def test_customer_number_field_explains_the_format(client, h):
    h.login(client, "arc")
    html = client.get("/customers").get_data(as_text=True)
    assert 'data-pattern-message="客户编号格式为 KH-年月-序号（KH-YYYYMMNNN），如 KH-202405001。"' in html
    token = h.csrf(client, "/customers")
    r = client.post("/customers/new", data={"number": "KH-2024051", "name": "x", "kind": "企业",
                                            "grade": "普通", "csrf_token": token})
    assert r.status_code == 400 and "KH-YYYYMMNNN" in r.get_data(as_text=True)
