"""The authorisation sweep (issue 15, item 7): every rule of the Flask URL map x every role
(anonymous included; the archive's roles also at a reading-room workstation) x every 密级.

`ROUTES` below names, for each endpoint, how its URL arguments are filled from the world
and what each role may get, written independently of service.access (the role groups after
DESIGN's table of roles, the per-item rights after the table in tests/web/accessworld.py).
An endpoint of the URL map missing from `ROUTES` fails the sweep, and so does an entry whose
endpoint no longer exists: a new route is swept from the day it is added.

For every request the answer's status is asserted, and its body, whatever its kind (HTML,
JSON, CSV, XLSX read with openpyxl, PDF read with pypdfium2, images compared with the stored
ones), is searched for the marks of the items the user may not see: the title and 档号 of
an item the user may not look up, the page word, page links and page images of one the user
may not open. Search totals, facet counts and exports count only what the user may open.
A write (POST, with a valid CSRF token) by a role without the right is refused and changes
nothing: the catalogue's tables (the audit trail aside) and the object store's keys are
compared before and after. Where a route has a `form`, the refused request carries a real
one: the same form, sent once by a role with the right at the end of the module
(test_the_forms_are_valid_writes), does change the archive. Other writes by roles with the
right are their own tests' (the world is shared by the whole sweep).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from hashlib import sha256
from typing import Any

import pytest
import sqlalchemy as sa

from tests.web.accessworld import (
    BOX,
    COMMON,
    CUSTODIANS,
    LEVELS,
    ROLES,
    WORD,
    build_world,
    expect,
    sign_in,
    title_of,
)
from tests.web.conftest import body_text, csrf_token

# ----------------------------------------------------------------- who is who (DESIGN)
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
CUSTODIAN = frozenset(CUSTODIANS)
MANAGE = frozenset({"admin", "manager", "archivist"})  # catalogue, boxes, shelves, customers
CHECK = frozenset({"officer", "manager", "admin"})  # cross-checks paper against scans
TWO_SET = frozenset({"archivist", "manager", "admin", "officer"})
STATISTICS = frozenset({"admin", "manager", "executive", "archivist"})
AUDIT = frozenset({"admin", "manager"})
ADMIN = frozenset({"admin"})
SCHEME = frozenset({"admin", "manager"})
LENDING_DESK = frozenset({"archivist", "manager"})
LOAN_REGISTER = frozenset({"archivist", "manager", "executive", "admin"})
DELETION_APPROVER = frozenset({"manager"})
APPRAISER = frozenset({"archivist"})

#: The sweep's own 绝密 items beside the shared five: due for destruction, appraised for it,
#: and destroyed (in the destruction register).
DUE = {"title": "到期绝密件", "word": "玳瑁"}
APPRAISED = {"title": "待批绝密件", "word": "砗磲"}
DESTROYED = {"title": "已销绝密件", "word": "玛瑙贝"}

#: The roles swept; "name@阅览室" is that user at a reading-room workstation of their own.
ROOM = "@阅览室"
SWEPT = ROLES + tuple(f"{r}{ROOM}" for r in CUSTODIANS)


def _base(who: str) -> tuple[str, bool]:
    return (who[:-len(ROOM)], True) if who.endswith(ROOM) else (who, False)


def letter(who: str, level: str) -> str:
    role, room = _base(who)
    return expect(role, level, room)


# ----------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """Who gets what: `allowed(role, level)`; `ok` the status granted (one or a set), `no`
    the statuses of a refusal."""

    allowed: Callable[[str, str | None], bool]
    ok: int | frozenset[int] = 200
    no: frozenset[int] = frozenset({403})
    text: str = ""

    def __and__(self, other: Rule) -> Rule:
        return Rule(lambda r, lv: self.allowed(r, lv) and other.allowed(r, lv),
                    self.ok, self.no | other.no, f"{self.text} & {other.text}")


def roles(group: frozenset[str], ok: int | frozenset[int] = 200,
          no: frozenset[int] = frozenset({403})) -> Rule:
    return Rule(lambda r, lv: _base(r)[0] in group, ok, no, f"roles {sorted(group)}")


def item(letters: str, ok: int | frozenset[int] = 200) -> Rule:
    """Per item, after the access table: "XOL" follows may_look_up, "XO" may_open, "X"
    may_export."""
    return Rule(lambda r, lv: lv is not None and letter(r, lv) in letters, ok,
                frozenset({403}), f"item {letters}")


LOOK_UP, OPEN, EXPORT = item("XOL"), item("XO"), item("X")
ANY = roles(SIGNED_IN)
EVERYONE = roles(frozenset(ROLES))


@dataclass(frozen=True)
class Route:
    """How the sweep requests one endpoint."""

    #: The URL arguments from the world (and the level of the item swept, when per_item).
    args: Callable[[dict, str | None], dict] = lambda w, lv: {}
    get: Rule | None = None
    #: POST: who has the right; the others are refused and nothing changes.
    post: Rule | None = None
    per_item: bool = False
    #: The query string: fixed, or from the world and the level swept.
    query: str | Callable[[dict, str | None], str] = ""
    #: The form of a write: one the right role's request would carry out (proved by
    #: test_the_forms_are_valid_writes), so that a refusal is the right's, not the form's.
    form: dict | Callable[[dict, str | None], dict] | None = None
    #: The anonymous visitor: the sign-in page (302), the API's 401, or the page itself.
    anonymous: int = 302
    #: A check of the granted answer's counts: (world, role, body) -> None.
    counts: Callable[[dict, str, Any], None] | None = None
    why: str = ""
    #: The 密级 whose 档号 (never the title) this answer names to roles that may not look the
    #: item up: the box's paperwork and the two-set report describe the paper the box holds.
    codes_shown: tuple[str, ...] = ()


def _item(w: dict, lv: str | None) -> dict:
    return {"item_id": w["items"][lv]}


def _page(w: dict, lv: str | None) -> dict:
    return {"item_id": w["items"][lv], "n": 1}


def _original(w: dict, lv: str | None) -> dict:
    return {"item_id": w["items"][lv], "file_id": w["files"][lv]["original"]}


def _searchable(w: dict, lv: str | None) -> dict:
    return {"item_id": w["items"][lv], "file_id": w["files"][lv]["pdf"]}


def _box(w: dict, lv: str | None) -> dict:
    return {"barcode": BOX}


def _deletion(w: dict, lv: str | None) -> dict:
    return {"request_id": w["deletion_id"]}


def _fmt(fmt: str) -> Callable[[dict, str | None], dict]:
    return lambda w, lv: {"fmt": fmt}


def _key(name: str) -> Callable[[dict, str | None], dict]:
    return lambda w, lv: {name: w[name]}


# ----------------------------------------------------------------- count checks


def _opened(role: str) -> int:
    return sum(letter(role, lv) in "XO" for lv in LEVELS)


def _api_counts(w: dict, role: str, body: Any) -> None:
    data = json.loads(body)
    assert data["total"] == _opened(role), f"{role}: search total {data['total']}"
    assert {h["id"] for h in data["hits"]} == {w["items"][lv] for lv in LEVELS
                                              if letter(role, lv) in "XO"}


_COUNT = re.compile(r'<span class="count">(\d+)</span>')


def _page_counts(w: dict, role: str, body: Any) -> None:
    page = body.decode()
    n = _opened(role)
    assert f"共找到 {n} 件" in page, f"{role}: the search page's total"
    counts = [int(c) for c in _COUNT.findall(page)]
    assert all(c <= n for c in counts), f"{role}: facet counts {counts} above {n}"


def _looked_up(role: str) -> int:
    return sum(letter(role, lv) in "XOL" for lv in LEVELS)


def _api_browse_counts(w: dict, role: str, body: Any) -> None:
    data = json.loads(body)
    assert data["total"] == _looked_up(role), f"{role}: the listing's total {data['total']}"


def _browse_page_counts(w: dict, role: str, body: Any) -> None:
    n = _looked_up(role)
    assert f"共找到 {n} 件" in body.decode(), f"{role}: the listing's total"


def _lists_the_box(w: dict, role: str, body: Any) -> None:
    """The box's paperwork (a PDF, read back as text) names the items the role may look up
    by title: the reader of every answer above does see what is there."""
    text = body_text(body)
    for lv in LEVELS:
        shown = letter(role, lv) in "XOL"
        assert (title_of(lv) in text) is shown, f"{role}: {lv} in the box's paperwork"
        assert w["codes"][lv] in text, f"{role}: the 档号 of the {lv} item not listed"


def _sheet_counts(w: dict, role: str, body: Any) -> None:
    text = body_text(body)
    shown = {lv for lv in LEVELS if title_of(lv) in text}
    # an export leaves the screen: what the role may export (机密 never, even in the room)
    assert shown == {lv for lv in LEVELS if letter(role, lv) == "X"}, f"{role}: {shown}"


#: Lists of the paper side name a 绝密 item by its 档号, its title withheld: the box's
#: paperwork (DA/T 22: the 归档文件目录 lists every item the box holds), the two-set report,
#: and the items due for, appraised for and recorded in destruction.
PAPER = ("绝密",)

# ----------------------------------------------------------------- the table
# Every endpoint of the URL map. Rules read as DESIGN says them; "why" where it is not plain.

ROUTES: dict[str, Route | tuple[Route, ...]] = {
    # sign-in, account, language: open to all or to any signed-in user
    "auth.login": Route(get=roles(SIGNED_IN, ok=302), post=EVERYONE, anonymous=200,
                        why="signed in: on to the search; anyone signs in"),
    "auth.logout": Route(post=EVERYONE, why="anyone signs out (not exercised: the sweep's own)"),
    "auth.password": Route(get=ANY, post=ANY, why="the user's own password"),
    "auth.token": Route(get=ANY, post=ANY, why="the user's own API token"),
    "auth.set_language": Route(post=EVERYONE, why="a cookie only"),
    "static": Route(args=lambda w, lv: {"filename": "app.css"}, get=ANY, anonymous=200),
    "api.openapi": Route(get=ANY, anonymous=200),
    # search and browse: anyone signed in; hits and counts only of what they may open
    "search.index": Route(get=roles(SIGNED_IN, ok=302)),
    "search.search": (Route(get=ANY, query=f"q={COMMON}", counts=_page_counts),
                      Route(get=ANY, query=f"box={BOX}", counts=_browse_page_counts)),
    "api.search": (Route(get=ANY, query=f"q={COMMON}&limit=50", anonymous=401,
                         counts=_api_counts),
                   Route(get=ANY, query=f"box={BOX}&limit=50", anonymous=401,
                         counts=_api_browse_counts)),
    "imports.export": (Route(args=_fmt("xlsx"), get=ANY, query=f"q={COMMON}",
                             counts=_sheet_counts),
                       Route(args=_fmt("csv"), get=ANY, query=f"box={BOX}")),
    "api.code_preview": Route(get=ANY, anonymous=401,
                              query="fonds=J001&category=HT&year=2024&retention=D30"),
    # one item and its content
    "items.show": Route(_item, get=LOOK_UP, per_item=True),
    "api.item": Route(_item, get=LOOK_UP, per_item=True, anonymous=401),
    "api.progress": Route(_item, get=LOOK_UP, per_item=True, anonymous=401),
    "items.page_image": Route(_page, get=OPEN, per_item=True),
    "items.page_thumb": Route(_page, get=OPEN, per_item=True),
    "items.download": Route(_original, get=EXPORT, per_item=True),
    "items.retry_file": Route(_original, post=roles(MANAGE) & LOOK_UP, per_item=True),
    "items.remove_file": Route(_original, post=roles(MANAGE) & LOOK_UP, per_item=True),
    "items.replace_file": Route(_searchable, post=roles(MANAGE) & LOOK_UP, per_item=True),
    "arrange.edit": Route(_item, get=roles(MANAGE) & LOOK_UP, post=roles(MANAGE) & LOOK_UP,
                          per_item=True, form={"title": "改后的题名", "reason": "更正"}),
    "arrange.arrange": Route(_item, get=roles(MANAGE) & OPEN, per_item=True),
    "arrange.arrange_post": Route(_item, post=roles(MANAGE) & OPEN, per_item=True),
    "arrange.split": Route(_item, post=roles(MANAGE) & OPEN, per_item=True),
    "arrange.merge": Route(_item, post=roles(MANAGE) & OPEN, per_item=True),
    "disposal.request_deletion": Route(_item, post=roles(MANAGE) & LOOK_UP, per_item=True,
                                       form={"reason": "重复登记"}),
    "disposal.appraise": Route(_item, post=roles(APPRAISER) & LOOK_UP, per_item=True),
    # the cross-check desk and rescans
    "desk.queue": Route(get=Rule(lambda r, lv: _base(r)[0] in CHECK | {"archivist"},
                                 ok=frozenset({200, 302}), text="checkers; archivist to rescans"),
                        why="the archivist is sent on to the rescans"),
    "desk.rescans": Route(get=roles(MANAGE)),
    "desk.open_by_barcode": Route(get=roles(SIGNED_IN, ok=302), query=f"barcode={BOX}",
                                  why="on to the box's desk page, or back with the refusal"),
    "desk.box": (Route(_box, get=roles(CHECK)),
                 Route(_box, get=roles(CHECK), per_item=True,
                       query=lambda w, lv: f"item={w['items'][lv]}")),
    "desk.item": Route(_item, get=item("XOL", ok=302), per_item=True,
                       why="an item in a box: on to the box's desk page (checkers only)"),
    "desk.sign": Route(_item, post=roles(CHECK) & LOOK_UP, per_item=True,
                       form={"result": "agrees"}),
    "desk.upload_rescan": Route(_item, post=roles(MANAGE) & LOOK_UP, per_item=True),
    "desk.paper": Route(_item, post=roles(CHECK) & LOOK_UP, per_item=True),
    "desk.move": Route(_item, post=roles(MANAGE) & LOOK_UP, per_item=True,
                       form={"box": BOX, "position": "9", "note": "调整盒内位置"}),
    "api.check_queue_api": Route(get=roles(CHECK), anonymous=401),
    "api.item_checks": Route(_item, get=LOOK_UP, per_item=True, anonymous=401,
                             why="an item's cross-check history goes with its catalogue entry"),
    "api.sign_check": Route(_item, post=roles(CHECK) & LOOK_UP, per_item=True, anonymous=401,
                            form={"result": "agrees"}),
    "api.create_item": Route(post=ANY, anonymous=401,
                             why="anyone registers up to what they may open: test_upload_rules"),
    "upload.upload": Route(get=ANY, post=ANY,
                           why="anyone registers up to what they may open: test_upload_rules"),
    # boxes, shelves, customers
    "shelves.overview": Route(get=ANY),
    "shelves.room": Route(_key("room_id"), get=ANY),
    "shelves.shelf": Route(_key("shelf_id"), get=ANY),
    "shelves.new_shelf": Route(post=roles(MANAGE),
                               form={"room": "B", "rack": "1", "section": "1", "shelf": "2"}),
    "shelves.new_box": Route(post=roles(MANAGE),
                             form={"barcode": "SW-NEW-1", "year": "2024", "retention": "D30"}),
    "shelves.box": Route(_box, get=ANY),
    "shelves.move": Route(_box, post=roles(MANAGE), form={"shelf_id": "", "note": "下架"}),
    "shelves.label": Route(_box, get=roles(CUSTODIAN), codes_shown=PAPER),
    "shelves.paperwork": Route(_box, get=roles(CUSTODIAN), codes_shown=PAPER,
                               counts=_lists_the_box),
    "shelves.shelf_paperwork": Route(_key("shelf_id"), get=roles(CUSTODIAN), codes_shown=PAPER),
    "customers.index": Route(get=ANY),
    "customers.new": Route(post=roles(MANAGE), form={"number": "KH-202401009", "name": "新客户"}),
    "customers.show": Route(_key("number"), get=roles(CUSTODIAN | {"dm_in", "owner"},
                                                      no=frozenset({404})),
                            why="a customer file as its items: within scope"),
    "customers.edit": Route(_key("number"), get=roles(MANAGE), post=roles(MANAGE)),
    # reports, statistics, audit
    "reports.two_set": Route(get=roles(TWO_SET), codes_shown=PAPER),
    "reports.two_set_export": Route(_fmt("csv"), get=roles(TWO_SET), codes_shown=PAPER),
    "statistics.page": Route(get=roles(STATISTICS),
                             why="aggregates of the holdings (every 密级), never a title"),
    "statistics.export": Route(get=roles(STATISTICS)),
    "audit.trail": Route(get=roles(AUDIT)),
    "audit.export": Route(_fmt("xlsx"), get=roles(AUDIT)),
    # 四性检测: the archive's managing roles keep every record, a 绝密 one by its 档号 only
    "preservation.report": (
        Route(get=roles(MANAGE), codes_shown=PAPER),
        Route(lambda w, lv: {"batch_id": 10**9}, get=roles(MANAGE, ok=404),
              why="no such batch: refused to the others before it is looked up")),
    "preservation.export": Route(_fmt("csv"), get=roles(MANAGE), codes_shown=PAPER),
    "preservation.run": Route(post=roles(MANAGE)),
    # catalogue changes
    "changes.queue": Route(get=roles(MANAGE), why="who asks for changes and who decides"),
    "changes.decide": Route(lambda w, lv: {"request_id": w["change_id"]},
                            post=roles(frozenset({"manager"})),
                            form={"decision": "reject", "note": "不予修改"}),
    # deletion and destruction
    "disposal.deletions": Route(get=roles(CUSTODIAN)),
    "disposal.approve_deletion": Route(_deletion, post=roles(DELETION_APPROVER),
                                       form={"note": "同意"}),
    "disposal.reject_deletion": Route(_deletion, post=roles(DELETION_APPROVER),
                                      form={"note": "不同意"}),
    "disposal.undo_deletion": Route(_deletion, post=roles(DELETION_APPROVER)),
    "disposal.destruction_page": Route(get=roles(CUSTODIAN), codes_shown=PAPER),
    "disposal.approve_destruction": Route(_key("case_id"),
                                          post=roles(frozenset({"manager", "executive"}))),
    "disposal.reject_destruction": Route(_key("case_id"),
                                         post=roles(frozenset({"manager", "executive"}))),
    "disposal.confirm_destruction": Route(_key("case_id"), post=roles(APPRAISER)),
    "disposal.register": Route(get=roles(CUSTODIAN), codes_shown=PAPER),
    "disposal.register_file": Route(_fmt("xlsx"), get=roles(CUSTODIAN), codes_shown=PAPER),
    # batch registration: the archive's catalogue roles, each batch its maker's only
    "imports.start": Route(get=roles(MANAGE), post=roles(MANAGE)),
    "imports.template": Route(get=ANY),
    "imports.check": Route(_key("token"), get=roles(frozenset({"archivist"}), no=frozenset({403, 404})),
                           codes_shown=("绝密",),
                           why="the 档号 the sheet's own row spells out by its parts, answered as "
                               "a number never used"),
    "imports.files": Route(_key("token"), post=roles(frozenset({"archivist"}))),
    "imports.replace_sheet": Route(_key("token"), post=roles(frozenset({"archivist"}))),
    "imports.register": Route(_key("token"), post=roles(frozenset({"archivist"}))),
    "imports.progress": Route(_key("token"), get=roles(frozenset({"archivist"}), no=frozenset({403, 404}))),
    "imports.state": Route(_key("token"), get=roles(frozenset({"archivist"}), no=frozenset({403, 404}))),
    # loans
    "loans.mine": Route(get=ANY),
    "loans.new": (Route(get=ANY, post=ANY,
                        why="a request is anyone's (of what they may look up): test_web_loans"),
                  Route(get=ANY, per_item=True, query=lambda w, lv: f"item={w['items'][lv]}",
                        why="the form names the item chosen only if the user may look it up")),
    "loans.approvals": Route(get=ANY, why="each sees the loans they may decide (none else)"),
    "loans.desk": Route(get=roles(LENDING_DESK)),
    "loans.overdue": Route(get=roles(LOAN_REGISTER)),
    "loans.register_page": Route(get=roles(LOAN_REGISTER)),
    "loans.show": Route(_key("loan_id"),
                        get=roles(frozenset({"owner"}) | LOAN_REGISTER | LENDING_DESK
                                  | {"executive"}),
                        why="the borrower, the desk and register readers, its approvers"),
    "loans.approve_view": Route(_key("loan_id"), post=roles(frozenset({"executive"}))),
    "loans.reject_view": Route(_key("loan_id"), post=roles(frozenset({"executive"})),
                               form={"reason": "不予批准"}),
    "loans.withdraw_view": Route(_key("loan_id"), post=roles(frozenset({"owner"}))),
    "loans.issue_view": Route(_key("loan_id"), post=roles(LENDING_DESK)),
    "loans.return_view": Route(_key("loan_id"), post=roles(LENDING_DESK | {"owner"})),
    "loans.settle_view": Route(_key("loan_id"), post=roles(LENDING_DESK)),
    # administration
    "admin.users": Route(get=roles(ADMIN)),
    "admin.new_user": Route(post=roles(ADMIN), form={"username": "newcomer", "role": "staff"}),
    "admin.user_action": Route(lambda w, lv: {"username": "other"}, post=roles(ADMIN),
                               form={"action": "disable"}),
    "admin.scheme": Route(get=roles(SCHEME)),
    "admin.fonds": Route(post=roles(SCHEME), form={"code": "J009", "name": "新全宗"}),
    "admin.category": Route(post=roles(SCHEME), form={"code": "ZZ", "name": "杂项"}),
    "workstations.index": Route(get=roles(ADMIN)),
    "workstations.register": Route(post=roles(ADMIN), form={"name": "新终端"}),
    "workstations.enrol": Route(_key("workstation_id"), post=roles(ADMIN)),
    "workstations.revoke": Route(_key("workstation_id"), post=roles(ADMIN)),
}


# ----------------------------------------------------------------- the world


@pytest.fixture(scope="module")
def world(archive) -> dict:
    """The shared access world, plus what the routes' arguments name: a room and shelf with
    the box, a customer whose file holds the five items, a loan of the 秘密 item, a waiting
    change of the 机密 item, a deletion request, a destruction case, a workstation and a
    batch-import folder."""
    from service import changes, deletion, lending, workstations
    from service.catalogue import create_customer
    from service.locations import ensure_shelf
    from service.models import ArchiveItem, Box, DestructionCase, DestructionRecord
    from service.users import get_user

    w = build_world(archive)
    _plant_numbers(archive, w)
    from tests.web.conftest import make_item

    spare = make_item(archive, title="清点备用件", text="备用页。", secrecy="内部",
                      owner="owner", department="销售部", shade=200)
    # a 绝密 item whose retention has run out: due for appraisal (销毁鉴定)
    due = make_item(archive, title=DUE["title"], text=f"到期页：{DUE['word']}。", secrecy="绝密",
                    owner="owner", department="销售部", shade=210, year=2010, retention="D10")
    # 绝密 items appraised for destruction, and destroyed (in the register)
    appraised = make_item(archive, title=APPRAISED["title"], text=f"待批页：{APPRAISED['word']}。",
                          secrecy="绝密", owner="owner", department="销售部", shade=220,
                          year=2010, retention="D10")
    destroyed = make_item(archive, title=DESTROYED["title"], text=f"已销页：{DESTROYED['word']}。",
                          secrecy="绝密", owner="owner", department="销售部", shade=230)
    w["extras"] = {name: {"level": "绝密", "id": item_id, **marks}
                   for name, item_id, marks in (("due", due, DUE), ("appraised", appraised, APPRAISED),
                                                ("destroyed", destroyed, DESTROYED))}
    with archive.session() as s:
        shelf = ensure_shelf(s, "A", "1", "1", "1")
        s.flush()
        box = s.query(Box).filter_by(barcode=BOX).one()
        box.shelf_id = shelf.id
        w["shelf_id"] = shelf.id
        w["room_id"] = shelf.section.rack.room_id
        owner = get_user(s, "owner")
        customer = create_customer(s, "KH-202401001", "矩阵客户", owner=owner,
                                   department="销售部")
        s.flush()
        w["number"] = customer.number
        for item_id in w["items"].values():
            s.get(ArchiveItem, item_id).customer_id = customer.id
        loan = lending.request_loan(s, owner, lending.LoanRequest(
            kind="electronic", starts_at=_now(), ends_at=_now(hours=2), purpose="核对",
            item_ids=[w["items"]["秘密"]]))
        s.flush()
        w["loan_id"] = loan.id
        archivist = get_user(s, "archivist")
        change = changes.request_change(s, archivist, w["items"]["机密"],
                                        {"title": "矩阵机密件（改）"}, "更正题名")
        s.flush()
        w["change_id"] = change.id
        ws = workstations.register(s, get_user(s, "admin"), "阅览室-清点")
        s.flush()
        w["workstation_id"] = ws.id
        w["archivist_id"] = archivist.id
    with archive.session() as s:
        archivist = get_user(s, "archivist")
    w["deletion_id"] = deletion.request_deletion(archive, archivist, spare, "重复登记")
    with archive.session() as s:
        case = DestructionCase(item_id=spare, decision="destroy", reason="到期",
                               appraised_by="archivist", state="appraised")
        s.add(case)
        s.flush()
        w["case_id"] = case.id
        s.add(DestructionCase(item_id=appraised, decision="destroy", reason="到期",
                              appraised_by="archivist", state="appraised"))
        gone = s.get(ArchiveItem, destroyed)
        s.add(DestructionRecord(number=1, item_id=destroyed, archival_code=gone.archival_code,
                                title=gone.title, year=gone.year, retention=gone.retention,
                                secrecy=gone.secrecy, pages=1, box=None, reason="到期",
                                appraised_by="archivist", approved_by="executive",
                                supervisor="officer", confirmed_by="archivist",
                                destroyed_at=_now()))
    w["token"] = _import_folder(archive)
    with archive.session() as s:
        for extra in w["extras"].values():
            it = s.get(ArchiveItem, extra["id"])
            extra["code"] = it.archival_code
            extra["keys"] = [f.key for f in it.files] + [p.image_key for p in it.pages] \
                + [p.thumb_key for p in it.pages]
    return w


#: An ID and a mobile number typed into the shared items' catalogue fields: a role without
#: the privacy right (every role outside the archive's own, by default) never reads them
#: unmasked, on any route (service.privacy.text_for).
PHONE, ID_NO = "13912345678", "110105199003078764"
PERSONAL = CUSTODIAN


def _plant_numbers(archive, w: dict) -> None:
    """The numbers in each shared item's title, 文号, 责任者, remarks and paper remarks
    (the index following the new title)."""
    from service.models import ArchiveItem
    from service.search_docs import page_docs

    with archive.session() as s:
        for level, item_id in w["items"].items():
            item = s.get(ArchiveItem, item_id)
            item.title = f"{title_of(level)}（联系人{PHONE}）"
            item.doc_number, item.responsible = f"证{ID_NO}", f"王五{PHONE}"
            item.remarks = f"身份证 {ID_NO}，电话 {PHONE}"
            item.paper_remarks = f"经办人电话 {PHONE}"
    with archive.session() as s:
        for item_id in w["items"].values():
            archive.search.index_pages(page_docs(s, s.get(ArchiveItem, item_id)))


def _now(hours: int = 0):
    from datetime import timedelta

    from service import clock

    return clock.now() + timedelta(hours=hours)


def _import_folder(archive) -> str:
    """A batch folder the archivist started (as web.imports makes one)."""
    import time

    token = "sweepbatch0001"
    folder = archive.settings.data_dir / "tmp" / f"import-{token}"
    (folder / "scans").mkdir(parents=True)
    (folder / "meta.json").write_text(json.dumps({"user": "archivist", "at": time.time()}))
    (folder / "sheet").mkdir()
    # rows naming the 机密 item (the archivist may look it up) and the 绝密 one (never) by
    # their 档号's parts, each with a changed title
    (folder / "sheet" / "目录.csv").write_text(
        "全宗号,门类,年度,保管期限,件号,题名,密级\n"
        "J001,HT,2024,D30,4,矩阵机密件（批改）,机密\n"
        "J001,HT,2024,D30,5,绝密件批改,绝密\n", encoding="utf-8")
    return token


@pytest.fixture(scope="module")
def clients(app, archive, world) -> dict[str, tuple[Any, str]]:
    """One signed-in test client per swept role, with its CSRF token."""
    out = {}
    for who in SWEPT:
        role, room = _base(who)
        client = sign_in(app, archive, role, room)
        out[who] = (client, csrf_token(client, "/login" if role == "anonymous"
                                       else "/account/password"))
    return out


# ----------------------------------------------------------------- reading answers




@pytest.fixture(scope="module")
def marks(archive, world) -> dict[str, dict[str, list[str]]]:
    """Per swept role, the strings that must never reach them."""
    from service.models import ArchiveItem

    marked = [{"level": lv, "id": world["items"][lv], "title": title_of(lv), "word": WORD[lv],
               "code": world["codes"][lv], "keys": world["files"][lv]["keys"]} for lv in LEVELS]
    marked += world["extras"].values()
    with archive.session() as s:
        for m in marked:
            page = s.get(ArchiveItem, m["id"]).pages[0]
            m["images"] = [sha256(archive.store.read_bytes(k)).hexdigest()
                           for k in (page.image_key, page.thumb_key)]
    out = {}
    for who in SWEPT:
        strings: list[str] = []
        hashes: list[str] = []
        for m in marked:
            got = letter(who, m["level"])
            if got == "-":
                strings += [m["title"], m["code"]]
            if got in "L-":
                strings += [m["word"], f"/items/{m['id']}/pages/", *m["keys"]]
                hashes += m["images"]
        if _base(who)[0] not in PERSONAL:
            strings += [PHONE, ID_NO]
        out[who] = {"strings": strings, "images": hashes}
    return out


def _assert_no_leak(who: str, where: str, url: str, body: bytes, marks: dict,
                    allowed: frozenset[str] = frozenset()) -> None:
    if sha256(body).hexdigest() in marks[who]["images"]:
        pytest.fail(f"{where} as {who}: a page image or thumbnail it may not open")
    text = body_text(body).replace(url.split("?")[0], "")  # the address asked for, echoed
    for mark in marks[who]["strings"]:
        assert mark in allowed or mark not in text, f"{where} as {who}: {mark!r} leaked"


# ----------------------------------------------------------------- the database unchanged

#: A refused write: forbidden, not found, or sent back (the form's page or 400 with the
#: reason). Which of them, the state before and after proves nothing was done.
REFUSED = frozenset({302, 400, 403, 404})
_NOT_STATE = {"audit_entry", "audit_head", "sign_in_failures"}


@cache
def _tables(archive) -> sa.MetaData:
    meta = sa.MetaData()
    meta.reflect(archive.engine)
    return meta


def _state(archive) -> str:
    """A digest of every catalogue table and of the object store's keys (the audit trail
    and its anchors aside: a refusal may be audited)."""
    digest = sha256()
    meta = _tables(archive)
    with archive.engine.connect() as conn:
        for name in sorted(meta.tables):
            if name in _NOT_STATE:
                continue
            rows = conn.execute(sa.select(meta.tables[name])).all()
            digest.update(name.encode())
            for row in sorted(repr(tuple(r)) for r in rows):
                digest.update(row.encode())
    from service.audit_anchor import PREFIX  # the audit trail's anchors: written in the background

    keys = sorted(k.key for k in archive.store.list_keys("") if not k.key.startswith(PREFIX))
    digest.update(repr(keys).encode())
    return digest.hexdigest()


# ----------------------------------------------------------------- the tests


def test_every_route_is_in_the_sweep(app) -> None:
    """A route added without an entry here fails; so does an entry whose route is gone."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(ROUTES))
    assert not missing, f"routes not in the authorisation sweep (add them to ROUTES): {missing}"
    gone = sorted(set(ROUTES) - endpoints)
    assert not gone, f"ROUTES names endpoints the app no longer has: {gone}"
    for rule in app.url_map.iter_rules():
        methods = rule.methods - {"HEAD", "OPTIONS"}
        entries = _variants(rule.endpoint)
        assert ("GET" in methods) is any(e.get is not None for e in entries), \
            f"{rule.endpoint}: GET"
        assert ("POST" in methods) is any(e.post is not None for e in entries), \
            f"{rule.endpoint}: POST"
        assert methods <= {"GET", "POST"}, f"{rule.endpoint}: {methods} not swept"


def _url(app, endpoint: str, route: Route, w: dict, level: str | None) -> str:
    from flask import url_for

    with app.test_request_context():
        url = url_for(endpoint, **route.args(w, level))
    query = route.query(w, level) if callable(route.query) else route.query
    return f"{url}?{query}" if query else url


def _variants(endpoint: str) -> tuple[Route, ...]:
    entry = ROUTES[endpoint]
    return entry if isinstance(entry, tuple) else (entry,)


def _want(rule: Rule, who: str, level: str | None) -> frozenset[int]:
    if rule.allowed(who, level):
        return rule.ok if isinstance(rule.ok, frozenset) else frozenset({rule.ok})
    return rule.no


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route(app, archive, world, clients, marks, endpoint: str) -> None:
    for route in _variants(endpoint):
        _sweep(app, archive, world, clients, marks, endpoint, route)


def _sweep(app, archive, world, clients, marks, endpoint: str, route: Route) -> None:
    levels: tuple[str | None, ...] = LEVELS if route.per_item else (None,)

    allowed = frozenset([world["codes"][lv] for lv in route.codes_shown]
                        + [x["code"] for x in world["extras"].values()
                           if x["level"] in route.codes_shown])
    for level in levels:
        url = _url(app, endpoint, route, world, level)
        for who in SWEPT:
            client, token = clients[who]
            where = f"GET {url}"
            if route.get is not None:
                r = client.get(url)
                body = r.get_data()
                r.close()
                if who == "anonymous":
                    assert r.status_code == route.anonymous, f"{where} anonymous: {r.status_code}"
                else:
                    want = _want(route.get, who, level)
                    assert r.status_code in want, f"{where} as {who}: {r.status_code}, not {set(want)}"
                    if r.status_code == 200 and route.counts is not None:
                        route.counts(world, who, body)
                _assert_no_leak(who, where, url, body, marks, allowed)
        if route.post is not None:
            _refused_writes(archive, clients, marks, world, route, url, level,
                            [w for w in SWEPT if not route.post.allowed(w, level)])


def _post(client, url: str, form: dict, token: str):
    """A write as the app's own pages send it: the form with its CSRF token, or JSON with
    the token in the header to the API."""
    if url.startswith("/api/"):
        return client.post(url, json=form, headers={"X-CSRFToken": token})
    return client.post(url, data={**form, "csrf_token": token}, headers={"X-CSRFToken": token})


def _form(route: Route, w: dict, level: str | None) -> dict:
    form = route.form(w, level) if callable(route.form) else route.form
    return dict(form or {})


def _refused_writes(archive, clients, marks, world, route: Route, url: str, level: str | None,
                    refused: list[str]) -> None:
    """Each role without the right POSTs with its valid CSRF token: refused, nothing changed."""
    before = _state(archive)
    for who in refused:
        client, token = clients[who]
        r = _post(client, url, _form(route, world, level), token)
        body = r.get_data()
        r.close()
        where = f"POST {url}"
        if who == "anonymous":
            assert r.status_code == route.anonymous, f"{where} anonymous: {r.status_code}"
        else:
            assert r.status_code in REFUSED, f"{where} as {who}: {r.status_code}"
        _assert_no_leak(who, where, url, body, marks)
    assert _state(archive) == before, f"POST {url}: a refused write changed the archive"


#: One write each, by a role with the right, with the form the refusals above carried: it
#: changes the archive, so the form was a real one. Runs after the sweep (file order): it
#: changes the world the sweep reads.
VALID_WRITES = {
    "shelves.new_shelf": ("archivist", None), "shelves.new_box": ("archivist", None),
    "shelves.move": ("manager", None), "customers.new": ("archivist", None),
    "changes.decide": ("manager", None), "disposal.reject_deletion": ("manager", None),
    "admin.new_user": ("admin", None), "admin.user_action": ("admin", None),
    "admin.fonds": ("manager", None), "admin.category": ("admin", None),
    "workstations.register": ("admin", None), "arrange.edit": ("archivist", "内部"),
    "disposal.request_deletion": ("archivist", "公开"),
    "desk.sign": ("officer", "公开"), "api.sign_check": ("officer", "内部"),
    "desk.move": ("archivist", "秘密"), "loans.reject_view": ("executive", None),
}


@pytest.mark.parametrize("endpoint", sorted(VALID_WRITES))
def test_the_forms_are_valid_writes(app, archive, world, clients, endpoint: str) -> None:
    role, level = VALID_WRITES[endpoint]
    (route,) = [r for r in _variants(endpoint) if r.form is not None]
    assert route.post is not None and route.post.allowed(role, level)
    client, token = clients[role]
    before = _state(archive)
    r = _post(client, _url(app, endpoint, route, world, level), _form(route, world, level),
              token)
    assert r.status_code in (200, 201, 302), r.get_data(as_text=True)[:300]
    assert _state(archive) != before, f"{endpoint}: the form did nothing as {role}"


@pytest.mark.parametrize("endpoint", ["audit.trail", "audit.export"])
def test_the_audit_trail_after_the_sweep(app, archive, world, clients, marks,
                                         endpoint: str) -> None:
    """The audit trail read after every route was tried (views, denials, exports of every
    item recorded): its readers see what was done to items beyond them by 档号, never by
    title or content."""
    route = _variants(endpoint)[0]
    url = _url(app, endpoint, route, world, None)
    for who in sorted(AUDIT):
        r = clients[who][0].get(url)
        assert r.status_code == 200
        _assert_no_leak(who, f"GET {url} after the sweep", url, r.get_data(), marks,
                        frozenset(world["codes"].values())
                        | {x["code"] for x in world["extras"].values()})
