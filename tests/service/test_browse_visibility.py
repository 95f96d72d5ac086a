"""Box and customer listings show each user exactly the items the one visibility rule allows.

The listings count and list items in SQL; these tests pin what every role sees (staff who own
an item, staff who do not, a department manager, the archive's roles, nobody signed in) at
every 密级, and check each answer against `access.can_view` item by item.
"""

from __future__ import annotations

import pytest
from PIL import Image
from sqlalchemy import select

from service.access import can_view
from service.browse import (
    boxes_on_shelf,
    customer_file,
    item_counts_by_customer,
    list_customers,
    unshelved_boxes,
    visible_items_in_box,
)
from service.catalogue import create_customer
from service.ingest import IngestRequest, ingest
from service.locations import create_box, ensure_shelf, get_box, move_box
from service.models import ArchiveItem, Customer, User
from service.users import create_user
from service.vocab import SECRECY_LEVELS, Role
from tests.queued import QueuedPages

USERS = {  # name: (role, department)
    "alice": (Role.STAFF, "销售部"),  # owns customer 1
    "bob": (Role.STAFF, "销售部"),  # owns customer 2, same department
    "carol": (Role.DEPT_MANAGER, "销售部"),
    "dave": (Role.DEPT_MANAGER, "财务部"),
    "erin": (Role.ARCHIVIST, None),
    "frank": (Role.OFFICER, None),
    "grace": (Role.ADMIN, None),
}
CUSTOMERS = {  # number: (owner, department)
    "KH-202401001": ("alice", None),
    "KH-202401002": ("bob", None),
    "KH-202401003": (None, "财务部"),
}
#: Which customer's items go into which box; BOX-3 stays empty.
BOX_OF = {"KH-202401001": "BOX-1", "KH-202401002": "BOX-1", "KH-202401003": "BOX-2"}


@pytest.fixture
def shelved(archive, tmp_path):
    """Every customer has one item at each 密级; BOX-1 is on a shelf, BOX-2 and BOX-3 are not."""
    QueuedPages(archive)  # no OCR here: the page tasks stay queued
    with archive.session() as s:
        for name, (role, dept) in USERS.items():
            create_user(s, name, "password-1", role=role, department=dept)
        for number, (owner, dept) in CUSTOMERS.items():
            owner_user = s.scalar(select(User).where(User.username == owner)) if owner else None
            create_customer(s, number, f"客户 {number}", owner=owner_user, department=dept)
        shelf = ensure_shelf(s, "A", "1", "1", "1")
        for barcode in ("BOX-1", "BOX-2", "BOX-3"):
            create_box(s, barcode)
        move_box(s, get_box(s, "BOX-1"), shelf)
    n = 0
    for number, box in BOX_OF.items():
        for secrecy in SECRECY_LEVELS:
            n += 1
            scan = tmp_path / f"scan-{n}.png"
            Image.new("L", (60 + n, 80), 255).save(scan)
            ingest(archive, IngestRequest(
                files=[scan], fonds="J001", category="HT", year=2024, retention="D30",
                secrecy=secrecy, title=f"合同 {n}", customer=number, box=box))
    with archive.session() as s:
        # one item of bob's customer uploaded by alice: the item's own owner decides
        item = s.scalar(select(ArchiveItem).join(Customer).where(
            Customer.number == "KH-202401002", ArchiveItem.secrecy == "内部"))
        item.owner_id = s.scalar(select(User.id).where(User.username == "alice"))
    return archive


def _user(s, name):
    return s.scalar(select(User).where(User.username == name)) if name else None


def _secrecies(items):
    return sorted(i.secrecy for i in items)


#: What each user sees in BOX-1 (customers 1 and 2) and BOX-2 (customer 3), by 密级.
EXPECTED_IN_BOX = {
    None: ([], []),
    "alice": (["公开", "内部", "内部", "秘密"], []),
    "bob": (["公开", "秘密"], []),
    "carol": (["公开", "公开", "内部", "内部", "秘密", "秘密"], []),
    "dave": ([], ["公开", "内部", "秘密"]),
    "erin": (["公开", "公开", "内部", "内部", "机密", "机密", "秘密", "秘密"],
             ["公开", "内部", "机密", "秘密"]),
    "frank": (["公开", "公开", "内部", "内部", "机密", "机密", "秘密", "秘密"],
              ["公开", "内部", "机密", "秘密"]),
    "grace": (["公开", "公开", "内部", "内部", "机密", "机密", "秘密", "秘密"],
              ["公开", "内部", "机密", "秘密"]),
}


@pytest.mark.parametrize("name", list(EXPECTED_IN_BOX))
def test_a_box_lists_and_counts_what_the_user_may_open(shelved, name):
    with shelved.session() as s:
        user = _user(s, name)
        seen = {}
        for barcode in ("BOX-1", "BOX-2", "BOX-3"):
            box = get_box(s, barcode)
            listed = visible_items_in_box(s, user, box)
            every = s.scalars(select(ArchiveItem).where(ArchiveItem.box_id == box.id)
                              .order_by(ArchiveItem.archival_code)).all()
            assert [i.id for i in listed] == [i.id for i in every if can_view(user, i)]
            seen[barcode] = listed
        assert (_secrecies(seen["BOX-1"]), _secrecies(seen["BOX-2"])) == EXPECTED_IN_BOX[name]
        assert seen["BOX-3"] == []
        on_shelf = boxes_on_shelf(s, user, get_box(s, "BOX-1").shelf_id)
        assert [(r.box.barcode, r.items) for r in on_shelf] == [("BOX-1", len(seen["BOX-1"]))]
        loose = unshelved_boxes(s, user)
        assert [(r.box.barcode, r.items) for r in loose] == [
            ("BOX-2", len(seen["BOX-2"])), ("BOX-3", 0)]


#: How many items each user sees per customer file (those the user may see at all).
EXPECTED_PER_CUSTOMER = {
    None: {},
    "alice": {"KH-202401001": 3, "KH-202401002": 1},
    "bob": {"KH-202401002": 2},
    "carol": {"KH-202401001": 3, "KH-202401002": 3},
    "dave": {"KH-202401003": 3},
    "erin": {"KH-202401001": 4, "KH-202401002": 4, "KH-202401003": 4},
    "frank": {"KH-202401001": 4, "KH-202401002": 4, "KH-202401003": 4},
    "grace": {"KH-202401001": 4, "KH-202401002": 4, "KH-202401003": 4},
}


@pytest.mark.parametrize("name", list(EXPECTED_PER_CUSTOMER))
def test_customer_files_count_and_list_what_the_user_may_open(shelved, name):
    with shelved.session() as s:
        user = _user(s, name)
        every_customer = s.scalars(select(Customer).order_by(Customer.number)).all()
        counts = item_counts_by_customer(s, user, list(every_customer))
        by_number = {c.number: counts[c.id] for c in every_customer if c.id in counts}
        for c in every_customer:
            items = s.scalars(select(ArchiveItem).where(ArchiveItem.customer_id == c.id)).all()
            assert counts.get(c.id, 0) == sum(1 for i in items if can_view(user, i))
        assert {n: k for n, k in by_number.items() if k} == EXPECTED_PER_CUSTOMER[name]
        for c in list_customers(s, user):
            listed = customer_file(s, user, c.number)
            items = s.scalars(select(ArchiveItem).where(ArchiveItem.customer_id == c.id)
                              .order_by(ArchiveItem.doc_date, ArchiveItem.id)).all()
            shown = [i for _, _, sec in listed.sections for i in sec] + listed.other
            assert sorted(i.id for i in shown) == [i.id for i in items if can_view(user, i)]
            assert listed.total == counts.get(c.id, 0)
