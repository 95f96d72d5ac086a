"""ID and mobile numbers typed into an item's catalogue fields (title, 文号, 责任者, remarks,
paper remarks) reach a user without the privacy right masked on every surface, as the
catalogue sheet export already masked them: the item page and its JSON, search and browse
hits (HTML and JSON), the box page and its paperwork, loan pages and the loan register, the
two-set and four-property reports and their files, the edit form; a user with the right
reads the numbers on each. An edit sent back from the masked form keeps the real numbers.

Each surface is asked through the Flask test client, once by a user without the right and
once by one with it (service.access.can_see_personal: the role's default, or the
administrator's choice per user).
"""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import body_text, csrf_token, login, make_item

PHONE, ID_NO = "13812345678", "110105199003078764"
PHONE_MASKED, ID_MASKED = "138****5678", "110***********8764"
BOX = "PV-0001"
TITLE = f"王五借款合同（联系人{PHONE}）"
FIELDS = {"title": TITLE, "doc_number": f"证{ID_NO}", "responsible": f"王五{PHONE}",
          "remarks": f"身份证 {ID_NO}，电话 {PHONE}", "paper_remarks": f"经办人电话 {PHONE}"}


@pytest.fixture(scope="module")
def world(archive) -> dict:
    """An item of 销售部 owned by alice, every personal field holding a number, in a box on
    a shelf, with a paper page count the scans do not match (a two-set finding), lent to
    alice; the users: alice (staff) and dm_np (department manager) without the right, dm_p
    (department manager) and arc (archivist) with it, arc_np an archivist the
    administrator took it from."""
    from datetime import timedelta

    from service import lending
    from service.clock import now
    from service.locations import ensure_shelf
    from service.models import ArchiveItem, Box
    from service.search_docs import page_docs
    from service.users import create_user, get_user

    with archive.session() as s:
        create_user(s, "dm_np", "password-123", role="dept_manager", department="销售部")
        create_user(s, "dm_p", "password-123", role="dept_manager", department="销售部") \
            .privacy_right = True
        create_user(s, "arc_np", "password-123", role="archivist").privacy_right = False
        shelf = ensure_shelf(s, "P", "1", "1", "1")
        s.flush()
        s.add(Box(barcode=BOX, year=2024, retention="D30", shelf_id=shelf.id))
    item_id = make_item(archive, title=TITLE, text="借款合同正文。", owner="alice",
                        department="销售部")
    with archive.session() as s:
        item = s.get(ArchiveItem, item_id)
        for name, value in FIELDS.items():
            setattr(item, name, value)
        item.paper_pages = 3
        item.box_id = s.query(Box).filter_by(barcode=BOX).one().id
        item.box_position = 1
    with archive.session() as s:
        archive.search.index_pages(page_docs(s, s.get(ArchiveItem, item_id)))
    with archive.session() as s:
        loan = lending.request_loan(s, get_user(s, "alice"), lending.LoanRequest(
            kind="paper", starts_at=now(), ends_at=now() + timedelta(hours=2), purpose="核对",
            item_ids=[item_id]))
        s.flush()
        loan_id = loan.id
    return {"item": item_id, "loan": loan_id}




def _get(app, user: str, url: str) -> str:
    client = app.test_client()
    login(client, user)
    r = client.get(url)
    assert r.status_code == 200, (user, url, r.status_code)
    # PDFs break long lines, JSON escapes nothing here (ensure_ascii off)
    return re.sub(r"\s+", "", body_text(r.get_data()))


def _assert_masked(text: str, where: str) -> None:
    assert PHONE not in text and ID_NO not in text, f"{where}: a number unmasked"
    assert PHONE_MASKED in text or ID_MASKED in text, f"{where}: the masked number not shown"


def _assert_shown(text: str, where: str) -> None:
    assert PHONE in text or ID_NO in text, f"{where}: the number not shown to who has the right"


#: (url, user without the right, user with it); {item}, {loan} filled from the world.
SURFACES = [
    ("/items/{item}", "alice", "dm_p"),
    ("/api/v1/items/{item}", "alice", "dm_p"),
    ("/api/v1/items/{item}/progress", "alice", "dm_p"),
    ("/search?q=借款合同", "alice", "dm_p"),
    ("/api/v1/search?q=借款合同", "alice", "dm_p"),
    (f"/search?box={BOX}", "dm_np", "dm_p"),
    (f"/api/v1/search?box={BOX}", "dm_np", "dm_p"),
    (f"/boxes/{BOX}", "dm_np", "dm_p"),
    (f"/boxes/{BOX}/paperwork.pdf", "arc_np", "arc"),
    ("/loans/{loan}", "alice", "arc"),
    ("/loans", "alice", "alice"),
    ("/loans/approvals", "dm_np", "dm_p"),
    ("/loans/register", "arc_np", "arc"),
    ("/loans/register?format=xlsx", "arc_np", "arc"),
    ("/loans/register?format=pdf", "arc_np", "arc"),
    ("/reports/two-set", "arc_np", "arc"),
    ("/reports/two-set.csv", "arc_np", "arc"),
    ("/reports/two-set.xlsx", "arc_np", "arc"),
    ("/four-properties", "arc_np", "arc"),
    ("/four-properties/export.csv", "arc_np", "arc"),
    ("/items/{item}/edit", "arc_np", "arc"),
    ("/export.csv?q=借款合同", "alice", "dm_p"),
]


@pytest.mark.parametrize(("url", "without", "with_right"), SURFACES,
                         ids=[s[0] for s in SURFACES])
def test_catalogue_numbers_masked_without_the_privacy_right(app, world, url, without,
                                                            with_right) -> None:
    url = url.format(**world)
    if without != with_right:
        _assert_masked(_get(app, without, url), f"{url} as {without}")
        _assert_shown(_get(app, with_right, url), f"{url} as {with_right}")
    else:  # the borrower's own loans: masked for them (the right is not theirs)
        _assert_masked(_get(app, without, url), f"{url} as {without}")


def test_the_loan_picker_never_confirms_a_number(app, world) -> None:
    """Typing a number into the loan form's item search finds an item only for whom the
    number is readable: a masked title is no oracle."""
    found = {user: _get(app, user, f"/loans/new?q={PHONE}") for user in ("alice", "dm_p")}
    assert "王五借款合同" not in found["alice"]
    assert "王五借款合同" in found["dm_p"]


def test_an_edit_from_the_masked_form_keeps_the_numbers(app, archive, world) -> None:
    """arc_np edits the title in the masked form and sends the other fields back as shown:
    the change request proposes the title with its real number, and nothing else."""
    from sqlalchemy import select

    from service.models import ChangeRequest

    client = app.test_client()
    login(client, "arc_np")
    url = f"/items/{world['item']}/edit"
    form = client.get(url).get_data(as_text=True)
    shown = {name: m.group(1) for name in FIELDS
             if (m := re.search(rf'name="{name}"[^>]*value="([^"]*)"', form))}
    shown["remarks"] = re.search(r'name="remarks"[^>]*>([^<]*)</textarea>', form).group(1)
    assert shown["title"] == TITLE.replace(PHONE, PHONE_MASKED)
    assert ID_MASKED in shown["doc_number"] and PHONE_MASKED in shown["responsible"]
    title = shown["title"].replace("借款合同", "借款合同补充")
    r = client.post(url, data={"title": title, "doc_number": shown["doc_number"],
                               "responsible": shown["responsible"], "remarks": shown["remarks"],
                               "reason": "补充题名", "csrf_token": csrf_token(client, url)})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    with archive.session() as s:
        req = s.scalars(select(ChangeRequest).where(ChangeRequest.item_id == world["item"])
                        .order_by(ChangeRequest.id.desc())).first()
        assert req.changes == {"title": [TITLE, TITLE.replace("借款合同", "借款合同补充")]}
    # the pending change on the item page: masked for arc_np, readable for arc
    _assert_masked(_get(app, "arc_np", f"/items/{world['item']}"), "pending change")
    _assert_shown(_get(app, "arc", f"/items/{world['item']}"), "pending change")
