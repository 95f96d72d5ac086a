"""Items flagged as holding ID copies (身份证复印件) open only to users with the privacy right,
on every path (their content: text, snippets, page images, thumbnails, files; the catalogue
entry is looked up in scope as any item's, with why it does not open); the flag is set at
registration (upload form, API, catalogue sheet) and on the edit screen, and shown on the
item page (#13.6)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.web.test_upload_rules import FIELDS, png

TITLE = "张三身份证复印件"


def _flag(archive, item_id: int, value: bool = True) -> None:
    """Flag an item as a registrar would and let the index follow (as the edit screen does)."""
    from service.models import ArchiveItem
    from service.search_docs import page_docs

    with archive.session() as s:
        item = s.get(ArchiveItem, item_id)
        item.id_copies = value
        s.flush()
        archive.search.index_pages(page_docs(s, item), conn=s.connection())


def _set_right(archive, username: str, right: bool | None) -> None:
    from service.models import User

    with archive.session() as s:
        s.scalar(select(User).where(User.username == username)).privacy_right = right


@pytest.fixture(scope="module")
def flagged(archive):
    """alice's item (she owns it: in her scope) holding ID copies, and one beside it."""
    from tests.web.conftest import make_item

    words = [{"t": "身份证复印件", "x": 40, "y": 40, "w": 320, "h": 40, "c": 90, "l": 1}]
    item_id = make_item(archive, title=TITLE, text="居民身份证复印件 姓名张三 复印无效",
                        owner="alice", department="销售部", words=words)
    plain = make_item(archive, title="张三借款合同", text="借款合同 姓名张三 复印无效",
                      owner="alice", department="销售部")
    _flag(archive, item_id)
    with archive.session() as s:
        from service.models import StoredFile

        file_id = s.scalar(select(StoredFile.id).where(StoredFile.item_id == item_id))
    return item_id, plain, file_id


def _sees(app, h, archive, user: str, item_id: int, file_id: int) -> dict[str, bool]:
    """Which paths show the flagged item's content to `user` (each must agree)."""
    from service.search import parse_search_params, run_search

    client = app.test_client()
    h.login(client, user, h.ADMIN_PW if user == "admin" else h.PW)
    seen = {p: client.get(p).status_code == 200 for p in (
        f"/items/{item_id}/pages/1/image", f"/items/{item_id}/pages/1/thumb",
        f"/items/{item_id}/files/{file_id}")}
    page = client.get(f"/items/{item_id}")
    assert page.status_code == 200  # the catalogue entry, in scope, says why it is closed
    seen["item page text"] = "姓名张三" in page.get_data(as_text=True)
    api_item = client.get(f"/api/v1/items/{item_id}").get_json()
    assert api_item["id_copies"] is True
    seen["api item text"] = "pages" in api_item and "content_withheld" not in api_item
    api = client.get("/api/v1/search?q=复印无效").get_json()
    seen["api search"] = any(hit["id"] == item_id for hit in api["hits"])
    web = client.get("/search?q=复印无效").get_data(as_text=True)
    seen["web search"] = TITLE in web
    seen["snippet"] = "居民身份证" in web
    res = run_search(archive, parse_search_params({"q": "复印无效", "per_page": "100"}),
                     username=user, facets=True, raw=True)
    seen["cli search"] = any(hit.id == item_id for hit in res.hits)
    res = run_search(archive, parse_search_params({"q": "居民身份证"}), username=user, raw=True,
                     facets=True)
    # totals and facet counts: nothing of the flagged item when it is not seen
    seen["counts"] = res.total == 1 and sum(res.facets.get("secrecy", {}).values()) == 1
    # the catalogue entry stays listed (filters alone) for who may look it up
    res = run_search(archive, parse_search_params({"q": "", "per_page": "100"}), username=user,
                     raw=True)
    assert any(hit.id == item_id for hit in res.hits)
    return seen


def test_flagged_items_refused_without_the_privacy_right_on_every_path(app, h, archive,
                                                                          flagged) -> None:
    item_id, plain, file_id = flagged
    alice = _sees(app, h, archive, "alice", item_id, file_id)
    assert not any(alice.values()), alice
    arc = _sees(app, h, archive, "arc", item_id, file_id)
    assert all(arc.values()), arc
    # the item beside it is alice's as before
    client = app.test_client()
    h.login(client, "alice")
    assert "姓名张三" in client.get(f"/items/{plain}").get_data(as_text=True)
    closed = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "只有有个人信息查看权限的用户可以打开" in closed
    denied = client.get(f"/items/{item_id}/pages/1/image")
    assert denied.status_code == 403 and "个人信息查看权限" in denied.get_data(as_text=True)


def test_the_right_given_and_taken_opens_and_closes_flagged_items(app, h, archive,
                                                                   flagged) -> None:
    item_id, _, file_id = flagged
    _set_right(archive, "alice", True)
    _set_right(archive, "arc", False)
    try:
        alice = _sees(app, h, archive, "alice", item_id, file_id)
        assert all(alice.values()), alice
        arc = _sees(app, h, archive, "arc", item_id, file_id)
        assert not any(arc.values()), arc
    finally:
        _set_right(archive, "alice", None)
        _set_right(archive, "arc", None)


def test_the_item_page_shows_the_flag(app, h, flagged) -> None:
    item_id, plain, _ = flagged
    client = app.test_client()
    h.login(client, "arc")
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert 'id="id-copies"><span class="badge warn"' in page and "含身份证复印件" in page
    assert client.get(f"/api/v1/items/{item_id}").get_json()["id_copies"] is True
    assert client.get(f"/api/v1/items/{plain}").get_json()["id_copies"] is False


def _approve_all(archive, item_id: int) -> None:
    """The archive manager approves the item's waiting change requests (service.changes)."""
    from service.changes import approve_change, pending_changes
    from service.models import User
    from service.users import create_user

    with archive.session() as s:
        boss = s.scalar(select(User).where(User.username == "idboss")) or create_user(
            s, "idboss", "password-123", role="manager")
        requests = pending_changes(s, item_id)
        assert requests
        for req in requests:
            approve_change(s, boss, req.id)


def _counts(archive) -> tuple[int, int]:
    from service.models import ArchiveItem

    with archive.session() as s:
        return (s.scalar(select(func.count(ArchiveItem.id))),
                s.scalar(select(func.count(ArchiveItem.id)).where(ArchiveItem.id_copies)))


def _post(client, h, url: str, seed: int, **fields):
    data = {**FIELDS, "title": "客户身份证复印件", **fields,
            "files": [(io.BytesIO(png(seed)), "id.png")]}
    token = h.csrf(client, "/upload")
    if url == "/upload":
        return client.post(url, data={**data, "csrf_token": token})
    return client.post(url, data=data, headers={"X-CSRFToken": token})


def test_registration_sets_the_flag_for_who_may_open_it(app, h, archive) -> None:
    client = app.test_client()
    h.login(client, "arc")
    r = _post(client, h, "/api/v1/items", 9101, id_copies="是")
    assert r.status_code == 201, r.get_data(as_text=True)
    item_id = r.get_json()["id"]
    assert client.get(f"/api/v1/items/{item_id}").get_json()["id_copies"] is True
    r = _post(client, h, "/upload", 9102, id_copies="是")
    assert r.status_code in (302, 303), r.get_data(as_text=True)[:300]
    before = _counts(archive)
    r = _post(client, h, "/api/v1/items", 9103, id_copies="也许")
    assert r.status_code == 400 and "应填“是”或“否”" in r.get_json()["error"]
    # staff without the privacy right could not open it afterwards: refused, nothing written
    staff = app.test_client()
    h.login(staff, "alice")
    r = _post(staff, h, "/api/v1/items", 9104, id_copies="是")
    assert r.status_code == 403 and "个人信息" in r.get_json()["error"]
    r = _post(staff, h, "/upload", 9105, id_copies="on")
    assert r.status_code == 403
    assert _counts(archive) == before
    assert before[1] >= 2


def test_the_edit_screen_sets_and_clears_the_flag(app, h, archive) -> None:
    from service.models import ArchiveItem

    item_id = h.item(title="王五证件复印件", text="证件复印件 王五 仅供核对", owner="alice",
                     department="销售部")
    client = app.test_client()
    h.login(client, "arc")
    form = client.get(f"/items/{item_id}/edit").get_data(as_text=True)
    assert 'name="id_copies"' in form
    token = h.csrf(client, f"/items/{item_id}/edit")
    r = client.post(f"/items/{item_id}/edit", data={
        "csrf_token": token, "title": "王五证件复印件", "id_copies": "是", "reason": "含身份证复印件"})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    _approve_all(archive, item_id)  # a catalogue change waits for the archive manager
    with archive.session() as s:
        assert s.get(ArchiveItem, item_id).id_copies
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "身份证复印件" in page and "否" in page and "是" in page  # the history
    staff = app.test_client()
    h.login(staff, "alice")
    assert staff.get(f"/items/{item_id}/pages/1/image").status_code == 403
    assert "仅供核对" not in staff.get(f"/items/{item_id}").get_data(as_text=True)
    found = staff.get("/api/v1/search?q=仅供核对").get_json()
    assert found["total"] == 0  # the index followed the edit
    r = client.post(f"/items/{item_id}/edit", data={
        "csrf_token": token, "title": "王五证件复印件", "id_copies": "否", "reason": "误标"})
    assert r.status_code == 302
    _approve_all(archive, item_id)
    assert "仅供核对" in staff.get(f"/items/{item_id}").get_data(as_text=True)
    assert staff.get("/api/v1/search?q=仅供核对").get_json()["total"] == 1


def test_the_catalogue_sheet_carries_the_flag(app, h, archive, tmp_path) -> None:
    """Exported as 是, imported back unchanged; a sheet setting it flags the item; a sheet
    without the column leaves it as it is."""
    from service.batch import register_batch
    from service.models import ArchiveItem, User
    from service.sheet_columns import HEADERS
    from service.sheets import SheetWriter

    item_id = h.item(title="赵六证件复印件", text="证件 赵六", owner="alice", department="销售部")
    _flag(archive, item_id)
    client = app.test_client()
    h.login(client, "arc")
    text = client.get("/export.csv?q=赵六证件复印件").data.decode("utf-8-sig")
    header, row = text.splitlines()[:2]
    assert header.split(",")[-1] == "身份证复印件" and row.split(",")[-1] == "是"
    with archive.session() as s:
        code = s.get(ArchiveItem, item_id).archival_code
        arc = s.scalar(select(User).where(User.username == "arc"))

    def sheet(name: str, headers: tuple[str, ...], flag: str | None) -> object:
        path = tmp_path / name
        w = SheetWriter(path, headers)
        values = {"档号": code, "全宗号": "J001", "门类": "HT", "年度": 2024, "保管期限": "D30",
                  "题名": "赵六证件复印件", "密级": "内部", "页数": 1, "身份证复印件": flag}
        w.append([values.get(hd) for hd in headers])
        w.close()
        with archive.session() as s:
            user = s.get(User, arc.id)
            s.expunge(user)
        return register_batch(archive, user, path, None)

    assert sheet("same.csv", HEADERS, "是").unchanged == 1
    without = tuple(hd for hd in HEADERS if hd != "身份证复印件")
    assert sheet("old.csv", without, None).unchanged == 1
    with archive.session() as s:
        assert s.get(ArchiveItem, item_id).id_copies
    res = sheet("clear.csv", HEADERS, "")
    assert [u["changes"] for u in res.submitted] == [{"身份证复印件": ["是", "否"]}]
    _approve_all(archive, item_id)  # a sheet's edit waits for the archive manager too
    with archive.session() as s:
        assert not s.get(ArchiveItem, item_id).id_copies
    res = sheet("set.csv", HEADERS, "是")
    assert [u["changes"] for u in res.submitted] == [{"身份证复印件": ["否", "是"]}]
    _approve_all(archive, item_id)
    with archive.session() as s:
        assert s.get(ArchiveItem, item_id).id_copies
