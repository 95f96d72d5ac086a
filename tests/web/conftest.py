"""Fixtures for the web tests: a fresh archive, users, items made directly in the catalogue."""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

ADMIN_PW = "admin-pass-123"
PW = "password-123"


def new_archive(data: Path, users: dict[str, dict]):
    """An embedded archive initialised in DATA: the administrator `admin` (ADMIN_PW) and
    USERS, each name with its `create_user` options (password PW)."""
    from service.archive import Archive
    from service.config import Settings
    from service.setup import init_archive
    from service.users import create_user

    arc = Archive(Settings.from_env({"DANGAN_DATA": str(data)}))
    init_archive(arc, admin_password=ADMIN_PW)
    with arc.session() as s:
        for username, options in users.items():
            create_user(s, username, PW, **options)
    return arc


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return new_archive(tmp_path_factory.mktemp("dangan-data"), {
        "arc": {"role": "archivist", "display_name": "档案员小李"},
        "alice": {"role": "staff", "department": "销售部", "display_name": "张丽"},
        "bob": {"role": "staff", "department": "销售部", "display_name": "王博"},
        "newbie": {"role": "staff", "must_change_password": True}})


@pytest.fixture(autouse=True)
def no_queue(archive):
    """No worker runs in these tests: the page ids uploads queued, read from the queue."""
    from tests.queued import QueuedPages

    return QueuedPages(archive)


@pytest.fixture(scope="module")
def app(archive):
    from web.app import create_app

    app = create_app(archive, {"TESTING": True})
    return app


@pytest.fixture
def client(app):
    return app.test_client()


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, url: str = "/login") -> str:
    m = _TOKEN.search(client.get(url).get_data(as_text=True))
    assert m, f"no CSRF token on {url}"
    return m.group(1)


def login(client, username: str, password: str = PW):
    token = csrf_token(client, "/login")
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return r


def user_id(archive, username: str) -> int:
    from sqlalchemy import select

    from service.models import User

    with archive.session() as s:
        return s.scalar(select(User.id).where(User.username == username))


def _webp(text_color: int = 40) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (400, 560), "white")
    ImageDraw.Draw(img).rectangle((40, 40, 360, 80), fill=(text_color,) * 3)
    buf = io.BytesIO()
    img.save(buf, "WEBP")
    return buf.getvalue()


def make_item(archive, *, title: str, text: str, secrecy: str = "内部", owner: str | None = None,
              department: str | None = None, category: str = "HT", year: int = 2024,
              words: list | None = None, shade: int = 40, retention: str = "D30") -> int:
    """An item with one finished page (text, word boxes, image, thumbnail), indexed;
    `shade` makes its page image and thumbnail its own (a leaked image is recognised)."""
    from service.codes import allocate, format_code
    from service.models import ArchiveItem, Category, Fonds, Page, StoredFile
    from service.search_docs import page_docs

    store = archive.store
    original = store.put_bytes(_webp() + title.encode(), content_type="image/webp")
    image = store.put_bytes(_webp(shade), content_type="image/webp")
    thumb = store.put_bytes(_webp(shade + 50), content_type="image/webp")
    owner_id = user_id(archive, owner) if owner else None
    with archive.session() as s:
        fonds = s.query(Fonds).filter_by(code="J001").one()
        cat = s.query(Category).filter_by(code=category).one()
        code = allocate(s, "J001", category, year, retention, None)
        item = ArchiveItem(archival_code=format_code(code), fonds_id=fonds.id,
                           category_id=cat.id, year=year, retention=retention,
                           item_no=code.item_no,
                           title=title, secrecy=secrecy, status="ready", owner_id=owner_id,
                           department=department, created_by="test", paper_pages=1)
        s.add(item)
        s.flush()
        f = StoredFile(item_id=item.id, role="original", seq=1, key=original.key,
                       sha256=original.sha256, size=original.size, original_name="scan.webp",
                       format="webp", page_count=1)
        s.add(f)
        s.flush()
        s.add(Page(item_id=item.id, file_id=f.id, n=1, file_page=1, status="done", source="ocr",
                   text=text, confidence=90.0, width=400, height=560,
                   words=words if words is not None else
                   [{"t": text[:8], "x": 40, "y": 40, "w": 320, "h": 40, "c": 90, "l": 1}],
                   image_key=image.key, thumb_key=thumb.key))
        item_id = item.id
    with archive.session() as s:
        archive.search.index_pages(page_docs(s, s.get(ArchiveItem, item_id)))
    return item_id


def reading_room(archive, client, name: str = "阅览室1号机") -> None:
    """Make `client` an enrolled reading-room workstation (as the administrator's enrolment
    page does: the cookie with a token whose hash the catalogue keeps)."""
    from sqlalchemy import select

    from service import workstations
    from service.models import User, Workstation

    with archive.session() as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        ws = s.scalar(select(Workstation).where(Workstation.name == name)) \
            or workstations.register(s, admin, name)
        token = workstations.enrol(s, admin, ws.id)
    client.set_cookie(workstations.COOKIE, token)


@pytest.fixture
def h(archive):
    """Helpers for the tests: h.login(client, user), h.csrf(client, url), h.item(...)."""

    class Helpers:
        ADMIN_PW = ADMIN_PW
        PW = PW

        @staticmethod
        def login(client, username, password=PW):
            return login(client, username, password)

        @staticmethod
        def csrf(client, url="/login"):
            return csrf_token(client, url)

        @staticmethod
        def item(**kw):
            return make_item(archive, **kw)

        @staticmethod
        def user_id(username):
            return user_id(archive, username)

        @staticmethod
        def reading_room(client, name="阅览室1号机"):
            return reading_room(archive, client, name)

    return Helpers


def body_text(body: bytes) -> str:
    """Every text an answer carries, whatever its kind: HTML or JSON as it is, a PDF's text,
    an XLSX's cells (the leak checks read every kind the same way)."""
    if body.startswith(b"%PDF"):
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(body)
        try:
            return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
        finally:
            pdf.close()
    if body.startswith(b"PK") and zipfile.is_zipfile(io.BytesIO(body)):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                         for v in row if v is not None)
    return body.decode("utf-8", "replace")
