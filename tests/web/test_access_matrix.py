"""The access matrix (issue 13, items 1 and 8): every role x every 密级 x every path, each
with its expected allow or deny, and no leak of text, snippet, thumbnail, count or storage
key where the answer is deny.

The expectations are the table of tests/web/accessworld.py (X open and export, O open on
screen only, L look up only, - nothing), written independently of service.access; the world
(five items, one per level, all owned by `owner` of 销售部, in one box; page texts set
directly, no OCR, and indexed) is built once per module by the same module, which the route
sweep (test_route_sweep.py) shares.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from click.testing import CliRunner
from PIL import Image, ImageChops

from tests.web.accessworld import (
    COMMON,
    CUSTODIANS,
    EXPECT,
    LEVELS,
    READING_ROOM,
    ROLES,
    WORD,
    build_world,
    sign_in,
)


@pytest.fixture(scope="module")
def world(archive):
    return build_world(archive)


def _client(app, archive, role: str, room: bool = False):
    return sign_in(app, archive, role, room)


@cache
def _clients(app, archive, room: bool) -> dict:
    return {role: _client(app, archive, role, room) for role in ROLES}


def _get(client, url: str, follow: bool = False):
    r = client.get(url, follow_redirects=follow)
    body = r.get_data()
    r.close()
    return r.status_code, body, r.headers


def _json(client, url: str):
    r = client.get(url)
    return r.status_code, r.get_json(silent=True) or {}


def _no_leak(level: str, body: bytes | str, keys: list[str], where: str) -> None:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    assert WORD[level] not in text, f"{where}: the {level} text leaked"
    for key in keys:
        assert key not in text, f"{where}: a storage key of the {level} item leaked"


@cache
def _cli_search(data_dir: str, role: str, query: str) -> dict:
    from cli.search_cmds import search_cmd

    out = CliRunner(env={"DANGAN_DATA": data_dir}).invoke(
        search_cmd, [query, "--as", role, "--json", "--limit", "50"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def _export(archive, role: str, query: str, tmp: str) -> str:
    from service.export import export_sheet
    from service.search import SearchParams
    from service.users import get_user

    with archive.session() as s:
        user = get_user(s, role)
    out = f"{tmp}/{role}-{abs(hash(query))}.csv"
    from pathlib import Path

    export_sheet(archive, user, SearchParams(q=query), Path(out))
    return Path(out).read_text(encoding="utf-8-sig")


CASES = [(role, level, room) for room in (False, True) for role in ROLES for level in LEVELS
         if not room or role in CUSTODIANS]


@pytest.mark.parametrize("role,level,room", CASES,
                         ids=[f"{r}-{lv}{'-阅览室' if room else ''}" for r, lv, room in CASES])
def test_access_matrix(app, archive, world, tmp_path, role: str, level: str, room: bool) -> None:
    expect = EXPECT[role][level]
    if room:
        expect = READING_ROOM.get(level, expect)
    opens, exports, looks = expect in "XO", expect == "X", expect in "XOL"
    item_id = world["items"][level]
    files = world["files"][level]
    keys = files["keys"]
    client = _clients(app, archive, room)[role]
    signed_in = role != "anonymous"

    # -- search by the level's word: hits, totals, facets, snippets (web page and API)
    status, data = _json(client, f"/api/v1/search?q={WORD[level]}")
    if not signed_in:
        assert status == 401
    else:
        assert {h["id"] for h in data["hits"]} == ({item_id} if opens else set())
        assert data["total"] == (1 if opens else 0)
        if opens:
            assert WORD[level] in data["hits"][0]["snippet"]
        else:
            _no_leak(level, json.dumps(data, ensure_ascii=False), keys, "api search")
    status, body, _h = _get(client, f"/search?q={COMMON}")
    if signed_in:
        page = body.decode()
        assert (f"/items/{item_id}/pages/1/thumb" in page) is opens, "thumbnail in results"
        assert (WORD[level] in page) is opens, "snippet in results"
        _, facet = _json(client, f"/api/v1/search?q={COMMON}&limit=50")
        assert (item_id in {h["id"] for h in facet["hits"]}) is opens
        if not opens:
            _no_leak(level, page, keys, "search page")
    else:
        assert status == 302

    # -- facet counts of a search (the service the search page calls)
    if signed_in:
        from service.access import Reader
        from service.search import SearchParams, run_search
        from service.users import get_user

        with archive.session() as s:
            user = get_user(s, role)
            result = run_search(archive, SearchParams(q=COMMON), facets=True, raw=True,
                                user=Reader(user=user, reading_room=room))
        assert result.facets["secrecy"].get(level, 0) == (1 if opens else 0)

    # -- browsing the catalogue by filters (no words): the entries the user may look up
    status, data = _json(client, f"/api/v1/search?secrecy={level}&box=MX-0001")
    if signed_in:
        assert {h["id"] for h in data["hits"]} == ({item_id} if looks else set())
        assert data["total"] == (1 if looks else 0)
        _no_leak(level, json.dumps(data, ensure_ascii=False), keys, "browse")
        status, body, _h = _get(client, f"/search?secrecy={level}&box=MX-0001")
        page = body.decode()
        assert (f"/items/{item_id}/pages/1/thumb" in page) is opens
        if looks and not opens and expect == "L" and level == "秘密" and role not in CUSTODIANS:
            assert f"/loans/new?item={item_id}" in page  # 申请借阅
        if not opens:
            _no_leak(level, page, keys, "browse page")

    # -- the item page: content, the catalogue entry only, or nothing
    status, body, headers = _get(client, f"/items/{item_id}")
    page = body.decode()
    if not signed_in:
        assert status == 302
    elif opens:
        assert status == 200 and WORD[level] in page and f"/items/{item_id}/pages/1/image" in page
        assert (f"/items/{item_id}/files/{files['original']}" in page) is exports
        assert ("no-store" in headers.get("Cache-Control", "")) is not exports
    elif looks:
        assert status == 200 and f"矩阵{level}件" in page
        reason = {"秘密": "请申请借阅", "机密": "请到阅览室查阅"}.get(level)
        assert reason in page
        _no_leak(level, page, keys, "item page")
    else:
        assert status == 403 and f"矩阵{level}件" not in page
        _no_leak(level, page, keys, "item page")

    # -- page image and thumbnail; a 机密 one watermarked for the reader
    for kind in ("image", "thumb"):
        status, body, headers = _get(client, f"/items/{item_id}/pages/1/{kind}")
        if not signed_in:
            assert status == 302
            continue
        assert status == (200 if opens else 403), kind
        if opens:
            assert ("no-store" in headers["Cache-Control"]) is not exports
        else:
            _no_leak(level, body, keys, kind)

    # -- originals and the searchable PDF (downloads)
    for which in ("original", "pdf"):
        status, body, _h = _get(client, f"/items/{item_id}/files/{files[which]}")
        if signed_in:
            assert status == (200 if exports else 403), which
            if not exports:
                _no_leak(level, body, keys, which)

    # -- the JSON API's item: full text only where it may leave the screen
    status, data = _json(client, f"/api/v1/items/{item_id}")
    dumped = json.dumps(data, ensure_ascii=False)
    if not signed_in:
        assert status == 401
    elif opens:
        assert status == 200 and (WORD[level] in dumped) is exports
        assert ("text_withheld" in data) is not exports
    elif looks:
        assert status == 200 and data["content_withheld"] and "files" not in data
        _no_leak(level, dumped, keys, "api item")
    else:
        assert status == 403
        _no_leak(level, dumped, keys, "api item")

    if room or not signed_in:
        return
    # -- the command line as this user (never in the reading room)
    cli = _cli_search(str(archive.settings.data_dir), role, WORD[level])
    assert {h["id"] for h in cli["hits"]} == ({item_id} if opens else set())
    assert cli["total"] == (1 if opens else 0)
    # -- exports: by words, the items the user may open; catalogue fields only
    sheet = _export(archive, role, WORD[level], str(tmp_path))
    assert (f"矩阵{level}件" in sheet) is opens
    assert WORD[level] not in sheet.replace(f"矩阵{level}件", "")
    # -- printed paperwork: the archive's roles print; a title only of what they may look up
    from service.access import can_print_labels
    from service.box_paperwork import box_sheet
    from service.errors import PermissionDenied
    from service.users import get_user

    with archive.session() as s:
        user = get_user(s, role)
        if can_print_labels(user):
            rows = {r.code: r.title for r in box_sheet(s, user, "MX-0001", str).rows}
            titles = set(rows.values())
            assert (f"矩阵{level}件" in titles) is looks
        else:
            with pytest.raises(PermissionDenied):
                box_sheet(s, user, "MX-0001", str)
    # -- the cross-check desk shows scans only of what the officer may open
    status, body, _h = _get(client, f"/desk/items/{item_id}", follow=True)
    if status == 200:
        page = body.decode()
        assert (f"/items/{item_id}/pages/1/thumb" in page) is opens
        if not opens:
            _no_leak(level, page, keys, "desk")


def _pixels(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB")


def test_confidential_images_carry_the_readers_name_and_time(app, archive, world) -> None:
    """At the reading room the 机密 page image differs from the stored one by a watermark
    drawn per request (name and time), and is never cached."""
    from service import clock
    from service.page_render import watermark, watermark_text

    item_id = world["items"]["机密"]
    client = _client(app, archive, "archivist", room=True)
    t = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)
    with archive.session() as s:
        from service.models import ArchiveItem

        key = s.get(ArchiveItem, item_id).pages[0].image_key
    stored = archive.store.read_bytes(key)
    with clock.use_clock(lambda: t):
        status, body, headers = _get(client, f"/items/{item_id}/pages/1/image")
    assert status == 200 and "no-store" in headers["Cache-Control"]
    shown, plain = _pixels(body), _pixels(stored)
    assert shown.size == plain.size
    diff = ImageChops.difference(shown, plain).convert("L").point(lambda v: 255 if v > 40 else 0)
    assert diff.getbbox() is not None and sum(diff.histogram()[255:]) > 500  # a visible mark
    expected = _pixels(watermark(stored, watermark_text("archivist", t, "阅览室-archivist")))
    assert ImageChops.difference(shown, expected).getbbox() is None  # name, time, place
    with clock.use_clock(lambda: t + timedelta(minutes=1)):
        later = _get(client, f"/items/{item_id}/pages/1/image")[1]
    assert later != body  # drawn for this request: the time moves with the clock


def test_secret_opens_under_a_live_grant_only(app, archive, world) -> None:
    """秘密 for staff: opened (whatever the scope) while a viewing grant lasts, on every path;
    closed again to the minute when it expires."""
    from service import clock, grants
    from service.users import get_user

    t0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    secret, internal = world["items"]["秘密"], world["items"]["内部"]
    with archive.session() as s:
        other = get_user(s, "other")
        grants.give(s, user_id=other.id, item_ids=[secret, internal, world["items"]["机密"]],
                    expires_at=t0 + timedelta(hours=4), granted_by="executive", starts_at=t0)
    client = _client(app, archive, "other")

    def seen(at: datetime) -> dict:
        with clock.use_clock(lambda: at):
            hits = _json(client, f"/api/v1/search?q={WORD['秘密']}")[1]
            listed = _json(client, "/api/v1/search?box=MX-0001")[1]
            return {
                "hits": {h["id"] for h in hits["hits"]}, "total": hits["total"],
                "listed": {h["id"] for h in listed["hits"]},
                "page": _get(client, f"/items/{secret}")[0:2],
                "image": _get(client, f"/items/{secret}/pages/1/image")[0],
                "download": _get(client, f"/items/{secret}/files/"
                                         f"{world['files']['秘密']['original']}")[0],
                "confidential": _get(client, f"/items/{world['items']['机密']}/pages/1/image")[0],
            }

    before = seen(t0 - timedelta(minutes=1))
    during = seen(t0 + timedelta(hours=3, minutes=59))
    after = seen(t0 + timedelta(hours=4))
    assert before["hits"] == after["hits"] == set() and before["total"] == after["total"] == 0
    assert during["hits"] == {secret} and during["total"] == 1
    assert during["listed"] == {secret, internal}  # out of scope, opened by the grant
    assert before["listed"] == after["listed"] == set()
    assert during["page"][0] == 200 and WORD["秘密"].encode() in during["page"][1]
    assert before["page"][0] == after["page"][0] == 403
    assert during["image"] == 200 and before["image"] == after["image"] == 403
    assert during["download"] == 403  # lent for viewing: never downloaded
    assert during["confidential"] == 403  # a grant never opens 机密


def test_the_two_set_report_names_stored_keys_only_of_items_the_reader_may_open(
        archive, world) -> None:
    """A missing stored file is reported to the archive's roles; its key only where they may
    open the item (机密: at the reading room), and always to the operator."""
    from service.twoset_report import WITHHELD_KEY, two_set_report
    from service.users import get_user

    item_id = world["items"]["机密"]
    key = world["files"]["机密"]["keys"][1]  # the searchable PDF
    archive.store.delete(key)
    with archive.session() as s:
        archivist = get_user(s, "archivist")

    def keys(user) -> set[str]:
        report = two_set_report(archive, user)
        return {f.facts["key"] for f in report.findings
                if f.item_id == item_id and "key" in f.facts}

    assert keys(archivist) == {WITHHELD_KEY}
    assert keys(None) == {key}


def test_no_route_serves_a_stored_object_by_its_key(app) -> None:
    """Objects are reached only through an item and its page or file number, which the policy
    checks (the matrix above): no route takes a storage key, hash or path."""
    for rule in app.url_map.iter_rules():
        assert not {"key", "sha256", "sha", "path", "object"} & set(rule.arguments), rule.rule
    served = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/items/<int:item_id>/")
              and (r.rule.endswith(("/image", "/thumb")) or r.rule.endswith("<int:file_id>"))}
    assert served == {"/items/<int:item_id>/pages/<int:n>/image",
                      "/items/<int:item_id>/pages/<int:n>/thumb",
                      "/items/<int:item_id>/files/<int:file_id>"}
