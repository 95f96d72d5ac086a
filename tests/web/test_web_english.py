"""The English interface shows no Chinese except the archive's own data, on every page, for every role.

User data (titles, names, OCR text, typed notes) stays as it was written; every label —
categories, secrecy, retention, statuses, roles, customer kinds/grades/sections, location
levels, move history, facet names — goes through the catalogues, with no full-width
punctuation in English.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
ROLES = {"admin": "admin", "arc": "archivist", "alice": "staff", "dm": "dept_manager",
         "off": "officer", "mgr": "manager", "exe": "executive"}
#: Everything below is data the archive's people typed or scanned: shown as written.
DATA = ["合同", "华东精密机械有限公司", "机械制造", "张三", "购销合同", "个人借款合同", "机密合同", "处理失败的合同",
        "甲方应于二〇二四年三月前支付合同款", "乙方联系人王五", "一号库房", "二号库房", "盘点",
        "档案员小李", "张丽", "王博", "系统管理员", "销售部", "本单位全宗", "部门经理", "核对员", "经理",
        "高管"]


@pytest.fixture(scope="module")
def world(archive):
    """Every kind of thing a page shows: customers, shelves, a moved box, items in every state."""
    from sqlalchemy import select

    from indexer.errors import REASONS
    from service.catalogue import create_customer
    from service.errors import LINES, Listing, about
    from service.locations import create_box, ensure_shelf, get_box, move_box, put_in_box
    from service.models import ArchiveItem, Customer, Page, User
    from service.users import create_user
    from tests.web.conftest import make_item

    with archive.session() as s:
        create_user(s, "dm", "password-123", role="dept_manager", department="销售部",
                    display_name="部门经理")
        create_user(s, "off", "password-123", role="officer", display_name="核对员")
        create_user(s, "mgr", "password-123", role="manager", display_name="经理")
        create_user(s, "exe", "password-123", role="executive", display_name="高管")
        alice = s.scalar(select(User).where(User.username == "alice"))
        create_customer(s, "KH-202405001", "华东精密机械有限公司", kind="企业", grade="重点",
                        industry="机械制造", contacts="张三", owner=alice)
        first = ensure_shelf(s, "A", "3", "2", "4", room_name="一号库房")
        second = ensure_shelf(s, "B", "1", "1", "1", room_name="二号库房")
        box = create_box(s, "BOX-EN-1", shelf=first, actor="arc")
        move_box(s, box, second, actor="arc", note="盘点")
        shelf_id, room_id = second.id, second.section.rack.room_id
    ids = {
        "ready": make_item(archive, title="购销合同", text="甲方应于二〇二四年三月前支付合同款",
                           owner="alice", department="销售部"),
        "confidential": make_item(archive, title="机密合同", text="乙方联系人王五", secrecy="机密"),
        "failed": make_item(archive, title="处理失败的合同", text="甲方应于二〇二四年三月前支付合同款",
                            owner="alice"),
    }
    with archive.session() as s:
        cust = s.scalar(select(Customer).where(Customer.number == "KH-202405001"))
        box = get_box(s, "BOX-EN-1")
        for key in ("ready", "failed"):
            item = s.get(ArchiveItem, ids[key])
            item.customer_id, item.customer_section = cust.id, "contract"
            put_in_box(box, item)
        failed = s.get(ArchiveItem, ids["failed"])
        failed.status = "failed"
        failed.status_reason = Listing([about("scan.webp", REASONS["corrupt-image"])], LINES)
        page = s.scalar(select(Page).where(Page.item_id == ids["failed"]))
        page.status, page.error = "failed", REASONS["corrupt-image"]
    from service.changes import approve_change, request_change

    with archive.session() as s:  # a change in the item's history (labels and kinds shown)
        arc = s.scalar(select(User).where(User.username == "arc"))
        done = request_change(s, arc, ids["ready"], {"remarks": "盘点", "paper_pages": "2"}, "盘点")
        approve_change(s, s.scalar(select(User).where(User.username == "mgr")), done.id)
        # and one waiting for approval (the item page, the edit screen and the queue list it)
        request_change(s, arc, ids["ready"], {"paper_pages": "3"}, "盘点")
    return {"ids": ids, "shelf": shelf_id, "room": room_id}


def _pages(world) -> list[str]:
    ids = world["ids"]
    return [
        "/search", "/search?q=合同", "/search?category=HT&year_from=2024",
        "/search?q=合同&secrecy=内部&retention=D30&status=ready", "/upload", "/import", "/shelves",
        f"/shelves/rooms/{world['room']}", f"/shelves/{world['shelf']}", "/boxes/BOX-EN-1",
        "/boxes/BOX-EN-1/label", "/customers", "/customers/KH-202405001",
        f"/items/{ids['ready']}", f"/items/{ids['ready']}?q=合同", f"/items/{ids['confidential']}",
        f"/items/{ids['failed']}", "/account/token", "/account/password", "/items/999999",
        "/no-such-page", "/reports/two-set", "/audit", f"/items/{ids['ready']}/edit",
        f"/items/{ids['ready']}/arrange", "/admin/users", "/admin/scheme",
        "/customers/KH-202405001/edit", "/statistics", "/changes", "/changes?status=approved",
        "/four-properties",
    ]


def _chinese_outside_data(html: str) -> list[str]:
    # what is marked as Chinese on purpose (the language's own name in the switcher, the logo)
    html = re.sub(r'<(\w+)\b[^>]*\blang="zh-CN"[^>]*>.*?</\1>', "", html, flags=re.S)
    # what was recorded as it happened (an audit entry's details): evidence, never translated
    html = re.sub(r'<(\w+)\b[^>]*\btranslate="no"[^>]*>.*?</\1>', "", html, flags=re.S)
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    html = re.sub(r"</?mark\b[^>]*>", "", html)  # search hits highlighted inside OCR text
    for value in sorted(DATA, key=len, reverse=True):
        html = html.replace(value, "")
    text = re.sub(r"<[^>]+>", " ", html)
    return [text[max(0, m.start() - 30):m.end() + 30].strip() for m in CJK.finditer(text)]


@pytest.mark.parametrize("user", list(ROLES))
def test_every_page_is_english_for_every_role(app, h, world, user):
    client = app.test_client()
    h.login(client, user, h.ADMIN_PW if user == "admin" else h.PW)
    client.post("/lang", data={"lang": "en", "next": "/search",
                               "csrf_token": h.csrf(client, "/search")})
    problems = {}
    for url in _pages(world):
        body = client.get(url).get_data(as_text=True)
        assert 'lang="en"' in body, url
        found = _chinese_outside_data(body)
        if found:
            problems[url] = found[:6]
    assert not problems, "\n".join(f"{u}: {p}" for u, p in problems.items())


def test_sign_in_page_is_english(app, h):
    client = app.test_client()
    client.post("/lang", data={"lang": "en", "next": "/login", "csrf_token": h.csrf(client)})
    body = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in body and not _chinese_outside_data(body), _chinese_outside_data(body)


def test_a_reason_about_a_page_or_file_keeps_one_language():
    from indexer.errors import REASONS
    from service.errors import LINES, N_, Listing, about, msg
    from web.i18n import render

    reason = Listing([about(msg(N_("第 %(n)s 页"), n=3), REASONS["corrupt-image"]),
                      about("扫描.jpg", REASONS["empty-file"])], LINES)
    english = render(reason, "en").splitlines()
    assert english[0].startswith("p. 3: The image data is corrupt")
    assert english[1].startswith("扫描.jpg: The file is empty (0 bytes).")
    chinese = render(reason, "zh_CN").splitlines()
    assert chinese[0].startswith("第 3 页：图像数据已损坏") and "The" not in chinese[0]
    assert chinese[1].startswith("扫描.jpg：文件为空（0 字节）。")


def test_every_message_in_the_code_is_translated():
    """No msgid used by a template, a view, a service error, an engine's reason or a command
    (extracted as `pybabel extract -F web/babel.cfg` does) is missing from the English
    catalogue."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    from babel.messages.pofile import read_po

    with open(ROOT / "web/translations/en/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh, locale="en")
    with open(ROOT / "web/babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    assert {"service/**.py", "indexer/**.py", "cli/**.py", "web/**.py"} <= {p for p, _ in method_map}
    missing, seen = set(), set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map,
            keywords={**DEFAULT_KEYWORDS, "lazy_gettext": None}):
        for msgid in (message if isinstance(message, tuple) else (message,)):
            if not msgid:
                continue
            seen.add(msgid)
            entry = catalog.get(msgid, context=_context)
            if entry is None or not entry.string or (isinstance(entry.string, tuple)
                                                     and not all(entry.string)):
                missing.add(msgid)
            elif CJK.search(entry.string if isinstance(entry.string, str) else "".join(entry.string)):
                missing.add(msgid)
    assert "请先修改密码。" in seen  # a service error's id (service/users.py) is extracted
    assert not missing, sorted(missing)
