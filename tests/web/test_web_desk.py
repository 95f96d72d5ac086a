"""The cross-check desk over HTTP (#11): queue, a box opened by its barcode, signing with
clear errors, who may do what, the JSON API, the generated cross-references on the item page,
and the archivist's rescan upload. The keyboard flow in Chromium: test_web_desk_browser.py."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

BOX = "WB-1"


@pytest.fixture(scope="module")
def boxed(archive):
    """An officer and a box holding two items (one finished page each)."""
    from service.locations import create_box, ensure_shelf, put_in_box
    from service.models import ArchiveItem
    from service.users import create_user
    from tests.web.conftest import make_item

    with archive.session() as s:
        create_user(s, "officer", "password-123", role="officer", display_name="核查员老周")
    ids = [make_item(archive, title=f"核对用合同{i}", text=f"合同正文第{i}件") for i in (1, 2)]
    with archive.session() as s:
        box = create_box(s, BOX, shelf=ensure_shelf(s, "A", "3", "2", "4"))
        for i in ids:
            put_in_box(box, s.get(ArchiveItem, i))
    return ids


def _token(archive, username: str) -> str:
    from service.models import User
    from service.users import issue_token

    with archive.session() as s:
        return issue_token(s.scalar(select(User).where(User.username == username)))


def test_queue_open_box_and_sign(client, h, boxed) -> None:
    first, second = boxed
    h.login(client, "officer")
    html = client.get("/desk").get_data(as_text=True)
    assert 'id="barcode"' in html and "autofocus" in html
    assert html.count("核对用合同") == 2 and "未核对" in html
    r = client.get("/desk/open?barcode=NOPE")
    assert r.status_code == 302 and "/desk?barcode=NOPE" in r.headers["Location"]
    assert "NOPE" in client.get(r.headers["Location"]).get_data(as_text=True)
    r = client.get(f"/desk/open?barcode=%20{BOX}%20")
    assert r.headers["Location"].endswith(f"/desk/boxes/{BOX}")
    html = client.get(f"/desk/boxes/{BOX}").get_data(as_text=True)
    assert f'action="/desk/items/{first}/check"' in html
    assert "A库房/3架/2节/4层" in html and "desk.js" in html
    token = h.csrf(client, f"/desk/boxes/{BOX}")
    url = f"/desk/items/{first}/check"
    for form, message in (({}, "核对结果"), ({"result": "discrepancy", "kind": "illegible",
                                            "pages": "9"}, "页码 9"),
                          ({"result": "discrepancy", "kind": "illegible", "pages": "x"}, "页码“x”")):
        r = client.post(url, data={"csrf_token": token, "box": BOX, **form})
        assert r.status_code == 400 and message in r.get_data(as_text=True)
    r = client.post(url, data={"csrf_token": token, "box": BOX, "result": "agrees"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"item={second}")
    r = client.post(f"/desk/items/{second}/check", data={
        "csrf_token": token, "box": BOX, "result": "discrepancy", "kind": "seal_not_visible",
        "pages": "1", "finding_note": "印章模糊"})
    assert r.status_code == 302
    html = client.get(r.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "本盒已全部核对" in html
    html = client.get(f"/desk/boxes/{BOX}?item={second}").get_data(as_text=True)
    assert "印章或签名不可见" in html and "印章模糊" in html and "核查员老周" in html
    queue = client.get("/desk").get_data(as_text=True)
    assert "差异未解决" in queue and "核对用合同1" not in queue


def test_who_may_use_the_desk(app, client, h, boxed) -> None:
    staff = app.test_client()
    h.login(staff, "alice")
    assert staff.get("/desk").status_code == 403
    assert staff.get(f"/desk/boxes/{BOX}").status_code == 403
    h.login(client, "arc")  # archivists get the rescan list instead
    r = client.get("/desk")
    assert r.status_code == 302 and r.headers["Location"].endswith("/desk/rescans")
    token = h.csrf(client, "/search")
    r = client.post(f"/desk/items/{boxed[0]}/check", data={"csrf_token": token,
                                                          "result": "agrees"})
    assert r.status_code == 403


def test_api_signs_and_lists(client, archive, boxed) -> None:
    first = boxed[0]
    auth = {"Authorization": f"Bearer {_token(archive, 'officer')}"}
    for body, status, message in (
            ([1], 400, "JSON"), ({"result": "discrepancy", "findings": "x"}, 400, "findings"),
            ({"result": "discrepancy", "findings": [{"kind": "page_order", "pages": ["1"]}]},
             400, "pages"),
            ({"result": "discrepancy", "findings": [{"kind": "nope", "pages": [1]}]}, 400,
             "nope")):
        r = client.post(f"/api/v1/items/{first}/checks", json=body, headers=auth)
        assert r.status_code == status and message in r.get_json()["error"], r.get_json()
    r = client.post(f"/api/v1/items/{first}/checks", headers=auth, json={
        "result": "discrepancy", "note": "复核",
        "findings": [{"kind": "page_order", "pages": "1"}]})
    assert r.status_code == 201, r.get_json()
    signed = r.get_json()
    assert (signed["officer"], signed["result"], signed["findings"]) == (
        "officer", "discrepancy", [{"kind": "page_order", "pages": [1], "note": None}])
    checks = client.get(f"/api/v1/items/{first}/checks", headers=auth).get_json()["checks"]
    assert checks[0] == signed and len(checks) >= 2
    items = client.get(f"/api/v1/checks/queue?box={BOX}", headers=auth).get_json()["items"]
    assert (first, "open") in [(i["id"], i["reason"]) for i in items]
    assert client.get("/api/v1/checks/queue?year=20x4", headers=auth).status_code == 400
    staff = {"Authorization": f"Bearer {_token(archive, 'alice')}"}
    assert client.get("/api/v1/checks/queue", headers=staff).status_code == 403
    r = client.post(f"/api/v1/items/{first}/checks", json={"result": "agrees"}, headers=staff)
    assert r.status_code in (403, 404)


def test_item_page_shows_the_generated_cross_references(client, h, archive, boxed) -> None:
    from service.models import ArchiveItem

    with archive.session() as s:
        item = s.get(ArchiveItem, boxed[0])
        code, sha, key = item.archival_code, item.files[0].sha256, item.files[0].key
    h.login(client, "arc")
    html = client.get(f"/items/{boxed[0]}").get_data(as_text=True)
    paper = re.sub(r"<[^>]+>", "", re.search(r'id="paper-reference">(.*?)</dd>', html, re.S)[1])
    electronic = re.search(r'id="electronic-reference">(.*?)</dd>', html, re.S)[1]
    assert code in paper and "A库房/3架/2节/4层/盒 WB-1" in paper and "第 1 件" in paper
    assert sha in electronic and key in electronic and f"E{boxed[0]:08d}" in electronic


def test_archivist_uploads_a_rescan_from_the_task_list(client, h, archive, boxed, no_queue) -> None:
    from service.models import Page

    second = boxed[1]  # its check found a seal not visible on page 1
    h.login(client, "arc")
    html = client.get("/desk/rescans").get_data(as_text=True)
    assert f'id="task-{second}"' in html and "印章或签名不可见" in html
    token = h.csrf(client, "/desk/rescans")
    buf = io.BytesIO()
    Image.new("RGB", (300, 420), "white").save(buf, "PNG")
    r = client.post(f"/items/{second}/rescan", data={
        "csrf_token": token, "pages": "1", "note": "重扫盖章页",
        "file": (io.BytesIO(buf.getvalue()), "重扫.png")}, content_type="multipart/form-data")
    assert r.status_code == 302
    html = client.get("/desk/rescans").get_data(as_text=True)
    assert "已上传重扫件" in html and f'id="task-{second}"' not in html
    with archive.session() as s:
        page_id = s.scalar(select(Page.id).where(Page.item_id == second, Page.n == 1))
    assert list(no_queue) == [page_id]
    r = client.post(f"/items/{second}/rescan", data={
        "csrf_token": token, "pages": "1", "file": (io.BytesIO(b"not a scan"), "x.png")},
        content_type="multipart/form-data")
    assert "仍在识别中" in client.get("/desk/rescans").get_data(as_text=True)


def test_archivist_records_the_paper_side_and_moves_the_item(app, client, h, archive, boxed) -> None:
    from service.locations import create_box

    with archive.session() as s:
        create_box(s, "WB-2")
    item_id = boxed[0]
    arc = app.test_client()
    h.login(arc, "arc")
    token = h.csrf(arc, f"/items/{item_id}")
    r = arc.post(f"/items/{item_id}/paper", data={"csrf_token": token, "paper_pages": "x",
                                                  "condition": "damaged"})
    assert "纸质页数应为整数" in arc.get(r.headers["Location"]).get_data(as_text=True)
    r = arc.post(f"/items/{item_id}/paper", data={
        "csrf_token": token, "paper_pages": "2", "condition": "damaged",
        "paper_remarks": "第2页右下角破损"})
    html = arc.get(r.headers["Location"]).get_data(as_text=True)
    assert "已更新纸质原件信息" in html and "第2页右下角破损" in html and "破损" in html
    r = arc.post(f"/items/{item_id}/move", data={"csrf_token": token, "box": "WB-2",
                                                 "position": "5", "note": "调整装盒"})
    html = arc.get(r.headers["Location"]).get_data(as_text=True)
    paper = re.sub(r"<[^>]+>", "", re.search(r'id="paper-reference">(.*?)</dd>', html, re.S)[1])
    assert "未上架/盒 WB-2" in paper and "第 5 件" in paper
    history = re.search(r'id="location-history">(.*?)</ol>', html, re.S)[1]
    assert "盒 WB-1 #1" in history and "盒 WB-2 #5" in history and "调整装盒" in history
    staff = app.test_client()
    h.login(staff, "alice")
    r = staff.post(f"/items/{item_id}/move", data={"csrf_token": h.csrf(staff, "/search"),
                                                   "box": "WB-1"})
    assert r.status_code in (302, 403, 404)
    with archive.session() as s:
        from service.models import ArchiveItem

        assert s.get(ArchiveItem, item_id).box.barcode == "WB-2"
    officer = app.test_client()
    h.login(officer, "officer")
    assert "核对后有变更" in officer.get("/desk?box=WB-2").get_data(as_text=True)
