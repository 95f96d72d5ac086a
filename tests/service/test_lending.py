"""Lending (借阅): every rule and transition, time limits on an injected clock (#13.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pypdfium2
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from service import clock, grants, lending, loan_register
from service.access import can_view, may_open
from service.codes import allocate, format_code
from service.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from service.models import ArchiveItem, AuditEntry, Category, Fonds, Loan, Page, StoredFile, User
from service.users import create_user

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
H = timedelta(hours=1)


def make_item(s, title: str, secrecy: str, owner: User | None = None, *, pages: int = 1,
              paper_pages: int | None = 3) -> int:
    """A catalogue entry (with `pages` scanned page rows, no files needed here)."""
    code = allocate(s, "J001", "HT", 2024, "D30", None)
    item = ArchiveItem(archival_code=format_code(code),
                       fonds_id=s.scalar(select(Fonds.id).where(Fonds.code == "J001")),
                       category_id=s.scalar(select(Category.id).where(Category.code == "HT")),
                       year=2024, retention="D30", item_no=code.item_no, title=title,
                       secrecy=secrecy, status="ready", paper_pages=paper_pages,
                       owner_id=owner.id if owner else None,
                       department=owner.department if owner else None)
    s.add(item)
    s.flush()
    if pages:
        f = StoredFile(item_id=item.id, role="original", seq=1, key=f"k{item.id}",
                       sha256=f"{item.id:064d}", size=1, original_name="scan.png",
                       format="png", page_count=pages)
        s.add(f)
        s.flush()
        for n in range(1, pages + 1):
            s.add(Page(item_id=item.id, file_id=f.id, n=n, file_page=n, status="done"))
    s.flush()
    return item.id


@pytest.fixture
def archive(db_url: str, archive_env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    """An archive on SQLite and on PostgreSQL (times, the numbering and locks differ); the
    command line finds the same catalogue."""
    from service.archive import Archive
    from service.config import Settings
    from service.db import dispose_all
    from service.setup import init_archive

    monkeypatch.setenv("DANGAN_DATABASE_URL", db_url)
    arch = Archive(Settings.from_env({**archive_env, "DANGAN_DATABASE_URL": db_url}))
    init_archive(arch, admin_password="admin-password")
    yield arch
    dispose_all()


@pytest.fixture
def world(archive):
    """Users of two departments, the archive's roles, and one item of each 密级 owned by alice."""
    with clock.use_clock(lambda: T0), archive.session() as s:
        u = {name: create_user(s, name, "password-123", role=role, department=dept,
                               display_name=name.title())
             for name, role, dept in [
                 ("alice", "staff", "销售部"), ("bob", "staff", "销售部"),
                 ("dora", "dept_manager", "销售部"), ("dan", "dept_manager", "财务部"),
                 ("eve", "executive", None), ("ed", "executive", None),
                 ("arc", "archivist", None)]}
        items = {level: make_item(s, f"{level}合同", level, u["alice"])
                 for level in ("公开", "内部", "秘密", "机密", "绝密")}
        items["other"] = make_item(s, "他人的合同", "内部", u["dan"])
        items["noscan"] = make_item(s, "未扫描合同", "内部", u["alice"], pages=0)
        ids = {name: user.id for name, user in u.items()}
    return {"users": ids, "items": items}


def _user(s, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


def _request(archive, who: str, items: list[int], kind: str = "electronic",
             start: datetime = T0, hours: float = 2, **kw) -> int:
    with clock.use_clock(lambda: T0), archive.session() as s:
        loan = lending.request_loan(s, _user(s, who), lending.LoanRequest(
            kind=kind, starts_at=start, ends_at=start + timedelta(hours=hours),
            purpose="核对合同条款", item_ids=items, **kw))
        return loan.id


def _do(archive, at: datetime, fn, who: str, *args, **kw):
    with clock.use_clock(lambda: at), archive.session() as s:
        loan = fn(s, _user(s, who), *args, **kw)
        return loan.status


def _actions(archive, loan_id: int) -> list[str]:
    with archive.session() as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.target == f"loan:{loan_id}")
                              .order_by(AuditEntry.id)))


# ----------------------------------------------------------------- request rules


def test_top_secret_and_confidential_are_never_lent_electronically(archive, world) -> None:
    items = world["items"]
    with pytest.raises(InvalidInput, match="机密档案，不能电子借阅"):  # a custodian asks
        _request(archive, "arc", [items["机密"]], hours=1, department="档案室")
    for who, dept in (("arc", "档案室"), ("alice", ""), ("eve", "总经办")):  # 绝密: never looked up
        with pytest.raises(NotFound, match="不在借阅人可查阅的范围内"):
            _request(archive, who, [items["绝密"]], hours=1, department=dept)
    with pytest.raises(NotFound):  # staff never look up 机密 entries
        _request(archive, "alice", [items["机密"]], hours=1)
    with clock.use_clock(lambda: T0), archive.session() as s:
        with pytest.raises(InvalidInput, match="绝密档案不以电子方式借阅"):  # the rule itself
            lending.check_loan_rules("electronic", [s.get(ArchiveItem, items["绝密"])], T0,
                                     T0 + H, T0)
        assert s.scalar(select(Loan.id)) is None  # nothing half-written


def test_secret_electronic_loans_last_at_most_four_hours(archive, world) -> None:
    secret = world["items"]["秘密"]
    with pytest.raises(InvalidInput, match="最长 4 小时"):
        _request(archive, "alice", [secret], hours=4 + 1 / 60)
    loan_id = _request(archive, "alice", [secret], hours=4)
    with archive.session() as s:
        loan = s.get(Loan, loan_id)
        assert loan.number == "JY-2026-0001"
        assert loan.approver_role == "executive"  # 秘密 needs the executive
        assert loan.status == "requested" and loan.department == "销售部"


def test_paper_is_read_on_the_premises_for_at_most_a_day(archive, world) -> None:
    with pytest.raises(InvalidInput, match="不能带走"):
        _request(archive, "alice", [world["items"]["内部"]], kind="paper", hours=25)
    with pytest.raises(NotFound):  # alice does not look up 机密 entries herself
        _request(archive, "alice", [world["items"]["机密"]], kind="paper", hours=8)
    # the lending desk registers her reading of the 机密 paper original in the archive
    loan_id = _request(archive, "arc", [world["items"]["机密"]], kind="paper", hours=8,
                       borrower="alice")
    with archive.session() as s:
        assert s.get(Loan, loan_id).approver_role == "executive"  # 机密 paper reading too
    inner = _request(archive, "alice", [world["items"]["内部"]], kind="paper", hours=8)
    with archive.session() as s:
        assert s.get(Loan, inner).approver_role == "dept_manager"
        assert s.get(Loan, inner).number == "JY-2026-0002"  # a refused request takes none


def test_request_checks_period_items_purpose_and_borrower(archive, world) -> None:
    items = world["items"]
    with pytest.raises(InvalidInput, match="晚于开始时间"):
        _request(archive, "alice", [items["内部"]], hours=-1)
    with pytest.raises(InvalidInput, match="不能早于现在"):
        _request(archive, "alice", [items["内部"]], start=T0 - 2 * H)
    with pytest.raises(InvalidInput, match="至少选择一件"):
        _request(archive, "alice", [])
    with pytest.raises(NotFound, match="不在借阅人可查阅的范围内"):
        _request(archive, "alice", [items["other"]])  # dan's file: not in alice's scope
    with pytest.raises(InvalidInput, match="没有电子扫描件"):
        _request(archive, "alice", [items["noscan"]])
    with pytest.raises(InvalidInput, match="所在部门"):
        _request(archive, "alice", [items["内部"]], department="财务部")
    with pytest.raises(PermissionDenied, match="只能以本人名义"):
        _request(archive, "bob", [items["内部"]], borrower="alice")
    with clock.use_clock(lambda: T0), archive.session() as s:
        with pytest.raises(InvalidInput, match="借阅目的"):
            lending.request_loan(s, _user(s, "alice"), lending.LoanRequest(
                kind="paper", starts_at=T0, ends_at=T0 + H, purpose="  ",
                item_ids=[items["内部"]]))
    # an archivist registers a request on alice's behalf
    loan_id = _request(archive, "arc", [items["内部"]], kind="paper", borrower="alice")
    with archive.session() as s:
        loan = s.get(Loan, loan_id)
        assert (loan.borrower.username, loan.requested_by) == ("alice", "arc")
    assert _actions(archive, loan_id) == ["loan.request"]


def test_the_picker_offers_the_entries_the_borrower_may_look_up(archive, world) -> None:
    with archive.session() as s:
        alice = _user(s, "alice")
        titles = {i.title for i in lending.pick_items(s, alice, "合同")}
        assert titles == {"公开合同", "内部合同", "秘密合同", "未扫描合同"}
        arc = _user(s, "arc")
        assert {i.title for i in lending.pick_items(s, arc, "他人")} == {"他人的合同"}
        assert "机密合同" in {i.title for i in lending.pick_items(s, arc, "合同")}
        assert "绝密合同" not in {i.title for i in lending.pick_items(s, arc, "合同")}
        code = s.get(ArchiveItem, world["items"]["秘密"]).archival_code
        assert lending.items_by_codes(s, alice, [code]) == [world["items"]["秘密"]]
        with pytest.raises(NotFound):
            lending.items_by_codes(s, alice, [s.get(ArchiveItem, world["items"]["机密"]).archival_code])


# ----------------------------------------------------------------- approval


def test_approval_by_the_level_the_items_need_and_never_ones_own(archive, world) -> None:
    items = world["items"]
    secret = _request(archive, "alice", [items["秘密"]], hours=3)
    inner = _request(archive, "alice", [items["内部"]], kind="paper", hours=3)
    with pytest.raises(PermissionDenied, match="须由公司领导审批"):
        _do(archive, T0, lending.approve, "dora", secret)
    with pytest.raises(PermissionDenied, match="部门负责人"):
        _do(archive, T0, lending.approve, "dan", inner)  # another department's manager
    with pytest.raises(PermissionDenied, match="部门负责人"):
        _do(archive, T0, lending.approve, "arc", inner)
    assert _do(archive, T0, lending.approve, "dora", inner) == "approved"
    assert _do(archive, T0, lending.approve, "eve", secret) == "approved"
    with pytest.raises(Conflict, match="已批准"):
        _do(archive, T0, lending.approve, "ed", secret)
    # an executive's own loan: another executive approves it
    own = _request(archive, "eve", [items["秘密"]], hours=1, department="总经办")
    with pytest.raises(PermissionDenied, match="不能审批本人"):
        _do(archive, T0, lending.approve, "eve", own)
    # what the archivist registered for someone, the archivist does not approve either
    for_dora = _request(archive, "arc", [items["内部"]], kind="paper", borrower="dora")
    with pytest.raises(PermissionDenied, match="不能审批本人"):
        _do(archive, T0, lending.approve, "dora", for_dora)
    assert _do(archive, T0, lending.approve, "ed", own) == "approved"
    with archive.session() as s:
        queue = {loan.id for loan in lending.approval_queue(s, _user(s, "dora"))}
        assert for_dora not in queue
    assert _actions(archive, secret) == ["loan.request", "loan.approve"]


def test_rejection_needs_a_reason_and_an_ended_period_is_not_approved(archive, world) -> None:
    loan_id = _request(archive, "alice", [world["items"]["内部"]], kind="paper", hours=2)
    with pytest.raises(InvalidInput, match="须填写理由"):
        _do(archive, T0, lending.reject, "dora", loan_id, " ")
    late = _request(archive, "alice", [world["items"]["公开"]], kind="paper", hours=2)
    with pytest.raises(Conflict, match="期限已过"):
        _do(archive, T0 + 3 * H, lending.approve, "dora", late)
    assert _do(archive, T0, lending.reject, "dora", loan_id, "用途不明") == "rejected"
    with archive.session() as s:
        loan = s.get(Loan, loan_id)
        assert (loan.decided_by, loan.decision_note) == ("dora", "用途不明")
    with pytest.raises(Conflict):
        _do(archive, T0, lending.withdraw, "alice", loan_id)
    assert _do(archive, T0, lending.withdraw, "alice", late) == "withdrawn"
    with pytest.raises(PermissionDenied):
        _do(archive, T0, lending.withdraw, "bob", late)
    assert _actions(archive, loan_id) == ["loan.request", "loan.reject"]
    assert _actions(archive, late) == ["loan.request", "loan.withdraw"]


# ----------------------------------------------------------------- electronic: grants


def test_an_electronic_loan_is_a_grant_that_ends_to_the_minute(archive, world) -> None:
    secret = world["items"]["秘密"]
    alice = world["users"]["alice"]
    loan_id = _request(archive, "alice", [secret], hours=4)
    _do(archive, T0, lending.approve, "eve", loan_id)
    with pytest.raises(PermissionDenied, match="档案管理员"):
        _do(archive, T0 + timedelta(minutes=5), lending.issue, "alice", loan_id)
    assert _do(archive, T0 + timedelta(minutes=5), lending.issue, "arc", loan_id) == "issued"
    end = T0 + 4 * H
    with archive.session() as s:
        assert not grants.has_grant(s, alice, secret, T0 + timedelta(minutes=4))
        assert grants.has_grant(s, alice, secret, T0 + timedelta(minutes=5))
        assert grants.has_grant(s, alice, secret, end - timedelta(minutes=1))
        assert not grants.has_grant(s, alice, secret, end)
        loan = s.get(Loan, loan_id)
        assert lending.shown_status(loan, end - timedelta(minutes=1)) == "issued"
        assert lending.shown_status(loan, end) == "expired"
        # an electronic loan is never overdue: its access ended by itself
        assert lending.overdue_loans(s, end + H) == []
    assert _actions(archive, loan_id) == ["loan.request", "loan.approve", "loan.issue"]


def test_an_early_return_ends_the_grants(archive, world) -> None:
    secret = world["items"]["秘密"]
    loan_id = _request(archive, "alice", [secret, world["items"]["内部"]], hours=3)
    _do(archive, T0, lending.approve, "eve", loan_id)
    _do(archive, T0, lending.issue, "arc", loan_id)
    assert _do(archive, T0 + H, lending.take_back, "arc", loan_id) == "returned"
    with archive.session() as s:
        assert not grants.has_grant(s, world["users"]["alice"], secret, T0 + H)
        assert grants.granted_item_ids(s, world["users"]["alice"], T0 + H / 2) == {
            secret, world["items"]["内部"]}  # the record of what was open stays
        assert s.get(Loan, loan_id).returned_to == "arc"
    with archive.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "loan.return")).one()
        assert entry.detail["grants_ended"] == 2 and entry.detail["early"] is True


def test_the_borrower_may_end_an_electronic_loan_early_but_not_return_paper(archive,
                                                                           world) -> None:
    items = world["items"]
    loan_id = _request(archive, "alice", [items["秘密"]], hours=3)
    _do(archive, T0, lending.approve, "eve", loan_id)
    _do(archive, T0, lending.issue, "arc", loan_id)
    with pytest.raises(PermissionDenied):
        _do(archive, T0 + H, lending.take_back, "bob", loan_id)
    assert _do(archive, T0 + H, lending.take_back, "alice", loan_id) == "returned"
    with archive.session() as s:
        assert not grants.has_grant(s, world["users"]["alice"], items["秘密"], T0 + H)
    paper = _request(archive, "alice", [items["内部"]], kind="paper", hours=3)
    _do(archive, T0, lending.approve, "dora", paper)
    _do(archive, T0, lending.issue, "arc", paper)
    with pytest.raises(PermissionDenied, match="档案管理员"):  # pages are counted at the desk
        _do(archive, T0 + H, lending.take_back, "alice", paper, {items["内部"]: 3})


def test_a_loan_past_its_end_is_not_issued(archive, world) -> None:
    loan_id = _request(archive, "alice", [world["items"]["秘密"]], hours=2)
    _do(archive, T0, lending.approve, "eve", loan_id)
    with pytest.raises(Conflict, match="期限已过"):
        _do(archive, T0 + 2 * H, lending.issue, "arc", loan_id)


def test_staff_open_a_secret_item_only_while_the_loan_lasts(archive, world) -> None:
    secret = world["items"]["秘密"]
    loan_id = _request(archive, "alice", [secret], hours=1)
    _do(archive, T0, lending.approve, "eve", loan_id)
    _do(archive, T0, lending.issue, "arc", loan_id)
    with archive.session() as s:
        alice, item = _user(s, "alice"), s.get(ArchiveItem, secret)
        with clock.use_clock(lambda: T0 + timedelta(minutes=59)):
            assert may_open(alice, item)
        with clock.use_clock(lambda: T0 + H):
            assert not may_open(alice, item)
            assert can_view(alice, item)  # the catalogue entry stays, for a new request


# ----------------------------------------------------------------- paper: counted out and back


def test_paper_pages_counted_out_and_back_a_mismatch_is_recorded(archive, world) -> None:
    items = world["items"]
    loan_id = _request(archive, "alice", [items["内部"], items["公开"]], kind="paper", hours=4)
    _do(archive, T0, lending.approve, "dora", loan_id)
    other = _request(archive, "dora", [items["公开"]], kind="paper", hours=4)
    _do(archive, T0, lending.approve, "eve", other)
    _do(archive, T0, lending.issue, "arc", loan_id, {items["内部"]: 5})
    with pytest.raises(Conflict, match="正在借阅单 JY-2026-0001"):
        _do(archive, T0, lending.issue, "arc", other)  # the paper is with one reader at a time
    with archive.session() as s:
        assert {li.item_id: li.pages_out for li in s.get(Loan, loan_id).items} == {
            items["内部"]: 5, items["公开"]: 3}  # the item's paper page count by default
    with pytest.raises(InvalidInput, match="归还时清点的页数"):
        _do(archive, T0 + H, lending.take_back, "arc", loan_id, {items["内部"]: 5})
    _do(archive, T0 + H, lending.take_back, "arc", loan_id, {items["内部"]: 4, items["公开"]: 3},
        {items["内部"]: "缺第3页"})
    with archive.session() as s:
        loan = s.get(Loan, loan_id)
        assert loan.mismatch and loan.status == "returned"
        notes = {li.item_id: (li.pages_back, li.mismatch_note) for li in loan.items}
        assert notes == {items["内部"]: (4, "缺第3页"), items["公开"]: (3, None)}
        assert [x.number for x in lending.mismatched_loans(s)] == [loan.number]
        arc = _user(s, "arc")
        assert lending.reminders(s, arc).desk_mismatches == 1
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "loan.return")).one()
        code = s.get(ArchiveItem, items["内部"]).archival_code
        assert entry.detail["mismatch"] == {code: {"out": 5, "back": 4, "note": "缺第3页"}}
    assert _do(archive, T0 + H, lending.issue, "arc", other) == "issued"  # back on the shelf
    # settled: off the attention list, still a mismatch in the register
    with pytest.raises(InvalidInput, match="处理结果"):
        _do(archive, T0 + H, lending.settle_mismatch, "arc", loan_id, "")
    with pytest.raises(PermissionDenied):
        _do(archive, T0 + H, lending.settle_mismatch, "alice", loan_id, "找到了")
    _do(archive, T0 + 2 * H, lending.settle_mismatch, "arc", loan_id, "第3页在阅览桌找回，已归卷")
    with pytest.raises(Conflict, match="没有待处理的页数差异"):
        _do(archive, T0 + 2 * H, lending.settle_mismatch, "arc", loan_id, "again")
    with archive.session() as s:
        assert lending.mismatched_loans(s) == []
        arc = _user(s, "arc")
        assert lending.reminders(s, arc).desk_mismatches == 0
        shown = loan_register.register(s, arc, loan_register.RegisterFilters(mismatch=True))
        assert [x.id for x in shown] == [loan_id]
        assert "第3页在阅览桌找回" in loan_register.rows(shown)[0][6]
    assert _actions(archive, loan_id)[-2:] == ["loan.return", "loan.settle"]


def test_reminders_count_loans_without_loading_them(archive, world) -> None:
    """The banner on every page reads numbers and counts, never the loans with their items
    and borrowers (it loaded every overdue loan to count them: web load, #15.3)."""
    from sqlalchemy import event

    ids = [_request(archive, "alice", [world["items"]["内部"]], kind="paper", hours=2)]
    _do(archive, T0, lending.approve, "dora", ids[0])
    _do(archive, T0, lending.issue, "arc", ids[0])
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with clock.use_clock(lambda: T0 + 3 * H), archive.session() as s:
        alice, arc = _user(s, "alice"), _user(s, "arc")
        event.listen(archive.engine, "before_cursor_execute", count)
        try:
            mine, desk = lending.reminders(s, alice), lending.reminders(s, arc)
        finally:
            event.remove(archive.engine, "before_cursor_execute", count)
        assert mine.mine_overdue == ("JY-2026-0001",) and desk.desk_overdue == 1
        loaded = [o for o in s.identity_map.values() if not isinstance(o, User)]
        assert loaded == [], loaded
    assert len(statements) == 3, "\n".join(statements)  # alice: 1; the desk (arc): 2


def test_overdue_paper_loans_are_listed_and_reminded(archive, world) -> None:
    loan_id = _request(archive, "alice", [world["items"]["内部"]], kind="paper", hours=2)
    _do(archive, T0, lending.approve, "dora", loan_id)
    _do(archive, T0, lending.issue, "arc", loan_id)
    end = T0 + 2 * H
    with archive.session() as s:
        alice, arc = _user(s, "alice"), _user(s, "arc")
        with clock.use_clock(lambda: end - timedelta(minutes=1)):
            assert lending.overdue_loans(s) == []
            assert lending.reminders(s, alice).mine_overdue == ()
        with clock.use_clock(lambda: end):
            assert [x.id for x in lending.overdue_loans(s)] == [loan_id]
            assert lending.reminders(s, alice).mine_overdue == ("JY-2026-0001",)
            assert lending.reminders(s, arc).desk_overdue == 1
            assert lending.reminders(s, _user(s, "bob")).mine_overdue == ()
            assert lending.shown_status(s.get(Loan, loan_id)) == "overdue"
    _do(archive, end + H, lending.take_back, "arc", loan_id, {world["items"]["内部"]: 3})
    with clock.use_clock(lambda: end + 2 * H), archive.session() as s:
        assert lending.overdue_loans(s) == []
        assert not s.get(Loan, loan_id).mismatch


# ----------------------------------------------------------------- the register


def test_the_register_filters_and_exports(archive, world) -> None:
    items = world["items"]
    paper = _request(archive, "alice", [items["内部"]], kind="paper", hours=2)
    _request(archive, "alice", [items["秘密"]], hours=2)
    _do(archive, T0, lending.approve, "dora", paper)
    with archive.session() as s:
        arc = _user(s, "arc")
        every = loan_register.register(s, arc, loan_register.RegisterFilters())
        assert [x.number for x in every] == ["JY-2026-0002", "JY-2026-0001"]
        paper_only = loan_register.register(s, arc, loan_register.parse_filters(
            {"kind": "paper", "q": "alice"}))
        assert [x.id for x in paper_only] == [paper]
        with pytest.raises(InvalidInput):
            loan_register.parse_filters({"since": "2026-13-01"})
        with pytest.raises(PermissionDenied):
            loan_register.register(s, _user(s, "alice"), loan_register.RegisterFilters())
        sheet = load_workbook(BytesIO(loan_register.export(
            s, arc, loan_register.RegisterFilters(), "xlsx")))
        values = [[c.value for c in row] for row in sheet.active.iter_rows()]
        assert values[0][0].startswith("借阅单号") and values[1][0] == "JY-2026-0002"
        assert "秘密合同" in values[1][4] and values[2][6] == "已批准"
        pdf = loan_register.export(s, arc, loan_register.RegisterFilters(), "pdf")
    assert pdf.startswith(b"%PDF")
    doc = pypdfium2.PdfDocument(pdf)
    text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    assert "借阅登记簿" in text and "JY-2026-0001" in text and "内部合同" in text


def test_dangan_loans_overdue_lists_them(archive, world) -> None:
    import json

    from click.testing import CliRunner

    from cli import cli

    loan_id = _request(archive, "alice", [world["items"]["内部"]], kind="paper", hours=2)
    _do(archive, T0, lending.approve, "dora", loan_id)
    _do(archive, T0, lending.issue, "arc", loan_id)
    with clock.use_clock(lambda: T0 + H):
        quiet = CliRunner().invoke(cli, ["loans", "overdue", "--json"])
    assert quiet.exit_code == 0 and json.loads(quiet.output) == []
    with clock.use_clock(lambda: T0 + 3 * H):
        out = CliRunner().invoke(cli, ["loans", "overdue", "--json"])
        text = CliRunner().invoke(cli, ["loans", "overdue"])
    assert out.exit_code == 1, out.output
    [row] = json.loads(out.output)
    assert row["number"] == "JY-2026-0001" and row["overdue_minutes"] == 60
    assert row["borrower"] == "alice" and row["ends_local"] == "2026-03-02 11:00"
    assert "JY-2026-0001" in text.output and "逾期未还 1 笔" in text.output


# ----------------------------------------------------------------- disposal holds (#mends.1)


def _hold(archive, item_id: int, how: str) -> None:
    """Put an item on a disposal hold: a destruction appraised or approved (six months
    apart), or a deletion approved (30 days held)."""
    from service.models import DeletionRequest, DestructionCase
    with archive.session() as s:
        if how == "deletion":
            s.add(DeletionRequest(item_id=item_id, state="approved", reason="重复登记",
                                  requested_by="arc", requested_at=T0, decided_by="mgr",
                                  decided_at=T0, due_at=T0 + timedelta(days=30)))
            s.get(ArchiveItem, item_id).deletion_due_at = T0 + timedelta(days=30)
        else:
            s.add(DestructionCase(item_id=item_id, decision="destroy", reason="保管期满",
                                  appraised_by="arc", appraised_at=T0, state=how,
                                  due_at=T0 + timedelta(days=182) if how == "approved" else None))


@pytest.mark.parametrize("how, says", [("appraised", "已鉴定为销毁"), ("approved", "已批准销毁"),
                                       ("deletion", "已批准删除")])
def test_an_item_held_for_disposal_is_not_requested_approved_issued_or_offered(
        archive, world, how, says) -> None:
    items = world["items"]
    asked = _request(archive, "alice", [items["内部"]], kind="paper")
    _do(archive, T0, lending.approve, "dora", asked)
    pending = _request(archive, "alice", [items["内部"]], kind="paper")
    _hold(archive, items["内部"], how)
    with pytest.raises(Conflict, match=says):  # the desk registers it (a deletion hides it)
        _request(archive, "arc", [items["内部"]], kind="paper", borrower="alice")
    with pytest.raises(Conflict, match=says):
        _do(archive, T0, lending.approve, "dora", pending)
    with pytest.raises(Conflict, match=says):
        _do(archive, T0, lending.issue, "arc", asked)
    with archive.session() as s:
        offered = {i.id for i in lending.pick_items(s, _user(s, "arc"), "合同")}
    assert items["内部"] not in offered and items["公开"] in offered


def test_an_original_out_on_loan_is_not_deleted_or_destroyed(archive, world) -> None:
    from service import deletion, destruction
    from service.models import DestructionCase
    items = world["items"]
    loan = _request(archive, "alice", [items["内部"]], kind="paper")
    _do(archive, T0, lending.approve, "dora", loan)
    _do(archive, T0, lending.issue, "arc", loan)
    with archive.session() as s:
        mgr = create_user(s, "mgr", "password-123", role="manager")
        arc = _user(s, "arc")
        s.expunge_all()
    with clock.use_clock(lambda: T0), pytest.raises(Conflict, match="借出，归还后才能删除或销毁"):
        deletion.request_deletion(archive, arc, items["内部"], "重复登记")
    with archive.session() as s:  # appraised before the issue (data of old)
        case = DestructionCase(item_id=items["内部"], decision="destroy", reason="保管期满",
                               appraised_by="arc", appraised_at=T0, state="appraised")
        s.add(case)
        s.flush()
        case_id = case.id
    with clock.use_clock(lambda: T0), pytest.raises(Conflict, match="借出，归还后才能删除或销毁"):
        destruction.approve(archive, mgr, case_id)
    # a deletion asked before the issue (data of old) waits for the return to become final
    with archive.session() as s:
        from service.models import DeletionRequest
        s.add(DeletionRequest(item_id=items["内部"], state="approved", reason="重复登记",
                              requested_by="mgr2", requested_at=T0, decided_by="mgr",
                              decided_at=T0, due_at=T0))
        s.get(ArchiveItem, items["内部"]).deletion_due_at = T0
    with clock.use_clock(lambda: T0 + H):
        assert deletion.finalise_due(archive)["final"] == 0
    with archive.session() as s:
        assert s.get(ArchiveItem, items["内部"]).status == "ready"
