"""The rows beside search hits (service.items.hit_rows) read the items as plain columns in
one statement and decide on items made of the columns the access rules read: the rules read
no other column, and the rows are what the loaded items say, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import make_transient_to_detached

from service import clock, grants, items
from service.access import Reader, may_look_up, open_decision, with_grants
from service.locations import box_path, create_box, ensure_shelf
from service.models import ArchiveItem, Customer, Page, User
from service.users import create_user
from service.vocab import ItemStatus
from tests.service import test_lending
from tests.service.test_lending import make_item

#: On SQLite and on PostgreSQL.
archive = test_lending.archive


def _world(s) -> tuple[dict[str, User], dict[str, int]]:
    """Readers of every kind and items of every 密级, scope, disposal state and ID copies."""
    users = {name: create_user(s, name, "password-123", role=role, department=dept)
             for name, role, dept in [("alice", "staff", "销售部"), ("bob", "staff", "财务部"),
                                      ("dora", "dept_manager", "销售部"),
                                      ("arc", "archivist", None), ("eve", "executive", None)]}
    users["admin"] = s.scalar(select(User).where(User.username == "admin"))
    users["pat"] = create_user(s, "pat", "password-123", role="staff", department="销售部")
    users["pat"].privacy_right = True
    ids = {f"{level}/{owner}": make_item(s, f"{level}合同", level, users[owner], pages=3)
           for level in ("公开", "内部", "秘密", "机密", "绝密") for owner in ("alice", "bob")}
    ids["无主"] = make_item(s, "无主合同", "内部", None, pages=0)
    for name, change in (("待销毁", {"deletion_due_at": clock.now() + timedelta(days=30)}),
                         ("已销毁", {"status": ItemStatus.DESTROYED}),
                         ("身份证", {"id_copies": True})):
        ids[name] = make_item(s, f"{name}合同", "内部", users["alice"])
        item = s.get(ArchiveItem, ids[name])
        for key, value in change.items():
            setattr(item, key, value)
    grants.give(s, user_id=users["alice"].id, item_ids=[ids["秘密/bob"], ids["内部/bob"]],
                expires_at=clock.now() + timedelta(hours=2), granted_by="admin")
    s.flush()
    return users, ids


def _readers(s, users: dict[str, User]) -> list[Reader]:
    plain = [Reader(user=u) for u in users.values()]
    return [with_grants(s, r) for r in [*plain, Reader(user=users["arc"], reading_room=True),
                                        Reader(user=None)]]


def test_the_access_rules_read_only_the_columns_hit_rows_decides_on(archive) -> None:
    """Each rule decides the same on the item made of `_RULE_COLUMNS` as on the loaded item,
    for every kind of reader and item; the made item is detached with every other column
    expired, so a rule reading one fails here instead of deciding on None."""
    with archive.session() as s:
        users, ids = _world(s)
        readers = _readers(s, users)
        for item_id in ids.values():
            item = s.get(ArchiveItem, item_id)
            made = items._rule_item([getattr(item, c) for c in items._RULE_COLUMNS])
            make_transient_to_detached(made)
            for reader in readers:
                assert may_look_up(reader, made) == may_look_up(reader, item), (reader, item_id)
                assert open_decision(reader, made) == open_decision(reader, item), \
                    (reader, item_id)


def test_hit_rows_say_what_the_loaded_items_say(archive) -> None:
    """Customer, category, date, the box's path (shelved, unshelved, none), the thumbnail
    (the best page with one, else the first with one, none when not openable) and the
    entries dropped (绝密, out of scope, a stale id), for each kind of reader."""
    with archive.session() as s:
        users, ids = _world(s)
        shelf = ensure_shelf(s, "A", "3", "2", "4", room_name="一号库房")
        shelved = create_box(s, "HR-0001", shelf=shelf)
        loose = create_box(s, "HR-0002")
        customer = Customer(number="KH-202401001", name="计数客户")
        s.add(customer)
        s.flush()
        for n, item_id in enumerate(ids.values()):
            item = s.get(ArchiveItem, item_id)
            item.box_id = (shelved.id, loose.id, None)[n % 3]
            item.customer_id = customer.id if n % 2 else None
            if n % 4 == 0:
                item.doc_date = clock.now().date()
        for page in s.scalars(select(Page).where(Page.item_id.in_(list(ids.values())))):
            if page.n > 1 or page.item_id == ids["内部/alice"]:
                page.thumb_key = f"t{page.item_id}-{page.n}"
        wanted = {item_id: (1, 3, None, 2)[n % 4] for n, item_id in enumerate(ids.values())}
        asked = [*ids.values(), 10**9]
        for reader in _readers(s, users):
            rows = items.hit_rows(s, reader, asked, wanted)
            assert 10**9 not in rows
            for item_id in ids.values():
                item = s.get(ArchiveItem, item_id)
                if not may_look_up(reader, item):
                    assert item_id not in rows
                    continue
                decision = open_decision(reader, item)
                thumbs = sorted(p.n for p in item.pages if p.thumb_key)
                best = wanted[item_id]
                thumb = (best if best in thumbs else min(thumbs, default=None)) \
                    if decision.allowed else None
                assert rows[item_id] == items.HitRow(
                    id=item_id, customer=item.customer.name if item.customer else None,
                    customer_number=item.customer.number if item.customer else None,
                    secrecy=item.secrecy, location=box_path(item.box),
                    category=item.category.name, year=item.year, status=item.status,
                    thumb_page=thumb,
                    date=item.doc_date.isoformat() if item.doc_date else None,
                    category_code=item.category.code, openable=decision.allowed,
                    remedy=decision.remedy,
                    deletion_due=clock.aware(item.deletion_due_at)
                    if item.deletion_due_at else None), (reader, item_id)
        assert {r.location for r in items.hit_rows(s, users["admin"], asked, wanted).values()} \
            == {"一号库房/3架/2节/4层/盒 HR-0001", "未上架/盒 HR-0002", None}


def test_the_hits_thumbnails_are_read_from_an_index(archive) -> None:
    """Both thumbnail lookups of the hit rows read the index of thumbed pages (migration
    0022), never the page rows, whose thumbnail key lies past the OCR text and word boxes:
    on SQLite the plan names the index for both and reads no page row."""
    if archive.engine.dialect.name != "sqlite":
        return  # PostgreSQL's planner chooses by its statistics; the index exists there too
    with archive.engine.connect() as c:
        sql = str(items._HIT_ITEMS.compile(c))
        sql = sql.replace("__[POSTCOMPILE_ids]", "1, 2").replace(
            "__[POSTCOMPILE_wanted]", "VALUES (1, 1), (2, 1)")
        plan = [row[-1] for row in c.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    pages = [step for step in plan if " page " in f" {step} " or "thumbed" in step]
    assert sum("ix_page_thumbed" in step for step in pages) == 2, plan
    assert all("ix_page_thumbed" in step for step in pages), plan
