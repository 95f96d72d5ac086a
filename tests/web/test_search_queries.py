"""The search page's catalogue work is a fixed number of SQL statements, whatever the number
of hits: a page of 20 hits (with customers, boxes on shelves, thumbnails, a grant) costs no
more statements than a page of 2 (web load, #15.3)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.web.conftest import PW, login, make_item, user_id

WORD = "计数词"
FEW = "少量词"


@contextmanager
def _counting(engine):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture(scope="module")
def hits(archive):
    """22 items with WORD (2 of them also with FEW): customers, boxes on a shelf, items
    owned by alice (staff), one 秘密 item of hers opened by a live grant."""
    from datetime import timedelta

    from service import clock, grants
    from service.models import ArchiveItem, Box, Customer, Rack, Room, Section, Shelf

    ids = []
    for n in range(22):
        text = f"合同正文{WORD}第{n}件" + (FEW if n < 2 else "")
        ids.append(make_item(archive, title=f"计数合同{n}", text=text, owner="alice",
                             secrecy="秘密" if n == 0 else "内部"))
    with archive.session() as s:
        shelves = [Shelf(code=str(n + 1), section=Section(code="1", rack=Rack(
            code=str(n + 1), room=Room(code=f"Q{n}", name=f"计数库{n}")))) for n in range(2)]
        boxes = [Box(barcode=f"QC-{n:04d}", year=2024, retention="D30",
                     shelf=shelves[n] if n < 2 else None) for n in range(3)]
        customers = [Customer(number=f"KH-20240{n + 1}001", name=f"计数客户{n}", kind="企业")
                     for n in range(3)]
        s.add_all(boxes + customers)
        s.flush()
        for n, item_id in enumerate(ids):
            item = s.get(ArchiveItem, item_id)
            item.box_id = boxes[n % 3].id
            item.customer_id = customers[n % 3].id
        grants.give(s, user_id=user_id(archive, "alice"), item_ids=[ids[0]],
                    expires_at=clock.now() + timedelta(hours=2), granted_by="admin")
    return ids


def _statements(app, archive, username, password, url):
    client = app.test_client()
    login(client, username, password)
    client.get(url)  # warm: the first request reads what a process keeps (translations)
    with _counting(archive.engine) as statements:
        r = client.get(url)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_data(as_text=True), statements


@pytest.mark.parametrize("username", ["admin", "alice"])
def test_search_page_statements_do_not_grow_with_hits(app, archive, hits, username):
    from tests.web.conftest import ADMIN_PW

    password = ADMIN_PW if username == "admin" else PW
    many_html, many = _statements(app, archive, username, password, f"/search?q={WORD}")
    few_html, few = _statements(app, archive, username, password, f"/search?q={FEW}")
    assert many_html.count('class="hit"') == 20
    assert few_html.count('class="hit"') == 2
    # the granted 秘密 item opens for alice as for the admin: its thumbnail, its shelf
    assert f"/items/{hits[0]}/pages/1/thumb" in few_html
    assert "计数库0" in few_html and "计数客户0" in few_html
    # the customers' facet names them (read by number, as plain columns)
    assert all(f'<span class="flabel">计数客户{n}</span>' in many_html for n in range(3))
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= 12, "\n".join(many)
    # read once and only what is needed: the grants once for the search and the rows (never
    # for the archive's roles, who open by role), the thumbnails in one statement, the loan
    # banner by number and count (it loaded every overdue loan with its items)
    assert sum("viewing_grant" in st for st in many) == (0 if username == "admin" else 1)
    assert sum("FROM page" in st for st in many) == 1, "\n".join(many)
    assert not any(st.lstrip().startswith("SELECT loan.id") for st in many), "\n".join(many)
