"""The access world both authorisation tests stand on (test_access_matrix: every role x every
密级 x the content paths; test_route_sweep: every route of the URL map): its users, its five
items (one per 密级, each with its own title, 档号 and a word only its page holds), and the
expected rights written out as a table, independently of service.access.

    X  open and export (text, pages, thumbnails, snippets; downloads, full text in the API)
    O  open on screen only (no download, export or print)
    L  look up only: the catalogue entry and where the paper is, never the content
    -  nothing: not listed, not found by its words, 403 on every path

The items are owned by `owner` of 销售部 and lie in box MX-0001; their page texts are set
directly (no OCR) and indexed.
"""

from __future__ import annotations

from typing import Any

from tests.web.conftest import ADMIN_PW, PW, csrf_token, make_item, reading_room

LEVELS = ("公开", "内部", "秘密", "机密", "绝密")
#: One word only each level's page holds, and the word every page holds.
WORD = {"公开": "琥珀", "内部": "翡翠", "秘密": "玛瑙", "机密": "珊瑚", "绝密": "琉璃"}
COMMON = "矩阵"
BOX = "MX-0001"

MATRIX = """
            公开 内部 秘密 机密 绝密
admin        X    X    X    L    -
manager      X    X    X    L    -
executive    X    X    X    L    -
archivist    X    X    X    L    -
officer      X    X    X    L    -
dm_in        X    X    L    -    -
dm_out       -    -    -    -    -
owner        X    X    L    -    -
other        -    -    -    -    -
anonymous    -    -    -    -    -
"""
#: At a registered reading-room workstation 机密 opens on screen for the archive's roles.
READING_ROOM = {"机密": "O"}


def _table(text: str) -> dict[str, dict[str, str]]:
    lines = [ln.split() for ln in text.strip().splitlines()]
    head = lines[0]
    return {row[0]: dict(zip(head, row[1:], strict=True)) for row in lines[1:]}


EXPECT = _table(MATRIX)
ROLES = tuple(EXPECT)
CUSTODIANS = ("admin", "manager", "executive", "archivist", "officer")
USERS = {  # name: (role, department)
    "manager": ("manager", None), "executive": ("executive", None),
    "archivist": ("archivist", None), "officer": ("officer", None),
    "dm_in": ("dept_manager", "销售部"), "dm_out": ("dept_manager", "财务部"),
    "owner": ("staff", "销售部"), "other": ("staff", "销售部"),
}


def title_of(level: str) -> str:
    return f"矩阵{level}件"


def expect(role: str, level: str, room: bool = False) -> str:
    """The table's letter for `role` and `level` (at a reading-room workstation or not)."""
    letter = EXPECT[role][level]
    return READING_ROOM.get(level, letter) if room else letter


def build_world(archive) -> dict[str, Any]:
    """The users, the box and the five items; their ids, files and storage keys."""
    from service.models import ArchiveItem, Box, StoredFile
    from service.users import create_user

    with archive.session() as s:
        for name, (role, dept) in USERS.items():
            create_user(s, name, PW, role=role, department=dept)
        s.add(Box(barcode=BOX, year=2024, retention="D30"))
    items = {}
    for level in LEVELS:
        text = f"{COMMON}测试页：{WORD[level]}合同正文。"
        items[level] = make_item(archive, title=title_of(level), text=text, secrecy=level,
                                 owner="owner", department="销售部",
                                 shade=20 + 7 * LEVELS.index(level))
    files, codes = {}, {}
    with archive.session() as s:
        box = s.query(Box).filter_by(barcode=BOX).one()
        for level, item_id in items.items():
            item = s.get(ArchiveItem, item_id)
            item.box_id, item.box_position = box.id, LEVELS.index(level) + 1
            codes[level] = item.archival_code
            stored = archive.store.put_bytes(f"%PDF-1.4 {level}".encode(),
                                             content_type="application/pdf")
            pdf = StoredFile(item_id=item_id, role="searchable_pdf", seq=2, key=stored.key,
                             sha256=stored.sha256, size=stored.size, format="pdf",
                             status="stored")
            s.add(pdf)
            s.flush()
            files[level] = {"original": item.files[0].id, "pdf": pdf.id,
                            "keys": [f.key for f in item.files] + [stored.key]
                            + [p.image_key for p in item.pages] + [p.thumb_key for p in item.pages]}
    return {"items": items, "files": files, "codes": codes}


def sign_in(app, archive, role: str, room: bool = False):
    """A test client signed in as `role` (none for "anonymous"), at a reading-room
    workstation of its own when `room`."""
    client = app.test_client()
    if role != "anonymous":
        password = ADMIN_PW if role == "admin" else PW
        token = csrf_token(client, "/login")
        r = client.post("/login", data={"username": role, "password": password,
                                        "csrf_token": token})
        assert r.status_code == 302, role
    if room:
        reading_room(archive, client, f"阅览室-{role}")
    return client
