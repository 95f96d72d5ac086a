"""Exporting a whole result: every item the user may see, each once, at a cost linear in the
result (issue 15: the export paged the search 100 items at a time, and each deeper page
walked the match again from its start; a browse export paged the catalogue by OFFSET).

The catalogue rows are written directly (no scans to OCR): a page of text per item, marked
done, then indexed (service.search.reindex). The engine's cap is lowered so that a few
hundred items make a "more than N" result, as a common word does on SCAN_CAP pages.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from indexer.search.types import SearchRequest
from service import export
from service.access import NARROW, SCOPE_OPEN, search_visibility
from service.archive import Archive
from service.codes import allocate, format_code
from service.export import export_sheet
from service.models import ArchiveItem, Category, Fonds, Page, StoredFile, User
from service.search import SearchParams, reindex
from service.setup import init_archive
from service.sheets import read_rows
from service.users import create_user

CAP = 20
#: 公开 and 内部 (what staff open in their own files) four times in seven
LEVELS = ("公开", "内部", "秘密", "公开", "机密", "内部", "绝密")


def _fill(archive: Archive, n: int) -> None:
    """`n` items, each one page reading 合同: four in five owned by `staff`, the others by
    another user; every 密级; dated across 25 years, one in eleven undated."""
    with archive.session() as s:
        staff = create_user(s, "staff", "password-123", role="staff", department="销售部")
        other = create_user(s, "other", "password-123", role="staff", department="研发部")
        s.flush()
        fonds = s.scalar(select(Fonds).where(Fonds.code == "J001"))
        cat = s.scalar(select(Category).where(Category.code == "HT"))
        for k in range(n):
            code = allocate(s, "J001", "HT", 2024, "D30", None)
            item = ArchiveItem(
                archival_code=format_code(code), fonds_id=fonds.id, category_id=cat.id,
                year=2024, retention="D30", item_no=code.item_no, title=f"购销合同 {k}",
                secrecy=LEVELS[k % len(LEVELS)], status="ready",
                owner_id=(other if k % 5 == 0 else staff).id,
                # dates not in 档号 order, so the two orders differ
                doc_date=None if k % 11 == 0 else date(2000, 1, 1) + timedelta(days=(97 * k) % 9000))
            s.add(item)
            s.flush()
            f = StoredFile(item_id=item.id, role="original", seq=1, key=f"originals/{k}",
                           sha256=f"{k:064x}", size=100)
            s.add(f)
            s.flush()
            s.add(Page(item_id=item.id, file_id=f.id, n=1, file_page=1, status="done",
                       text=f"本合同第{k}件，甲乙双方签订。"))
    reindex(archive)
    archive.search.scan_cap = CAP  # type: ignore[attr-defined]  # the embedded engine's


def _user(archive: Archive, name: str) -> User:
    with archive.session() as s:
        user = s.scalar(select(User).where(User.username == name))
        s.expunge(user)
    return user


def _exported(archive: Archive, user: User | None, params: SearchParams, out: Path) -> list[str]:
    n = export_sheet(archive, user, params, out)
    codes = [str(v["档号"]) for _, v in read_rows(out)]
    assert n == len(codes)
    return codes


def _owned(archive: Archive, user: User, levels: frozenset[str]) -> set[str]:
    """The 档号 of this staff member's own items at these levels: what they find (their
    own files, 公开 and 内部) or list (up to 秘密), by access.search_visibility and
    access.lookup_visibility."""
    with archive.session() as s:
        return set(s.scalars(select(ArchiveItem.archival_code).where(
            ArchiveItem.owner_id == user.id, ArchiveItem.secrecy.in_(sorted(levels)))))


def _dates(archive: Archive) -> dict[str, date | None]:
    with archive.session() as s:
        return dict(s.execute(select(ArchiveItem.archival_code, ArchiveItem.doc_date))
                    .tuples().all())


def _in_date_order(codes: list[str], dates: dict[str, date | None], desc: bool) -> bool:
    dated = [dates[c] for c in codes if dates[c] is not None]
    return dated == sorted(dated, reverse=desc) and all(
        dates[c] is None for c in codes[len(dated):])  # undated last


@pytest.fixture
def big(archive: Archive) -> Archive:
    _fill(archive, 18 * CAP)
    return archive


def test_an_export_over_the_cap_lists_every_visible_item_once(big: Archive,
                                                             tmp_path: Path) -> None:
    staff = _user(big, "staff")
    expect = _owned(big, staff, SCOPE_OPEN)
    assert len(expect) > 100 + CAP  # more than a page of the old export, past the cap
    with big.session() as s:
        vis = search_visibility(s, s.get(User, staff.id))
    assert not big.search.search(SearchRequest(q="合同", visibility=vis)).total_is_exact
    dates, seventh = _dates(big), _code_of(big, 7)
    for sort in ("relevance", "date_desc", "date_asc", "code"):
        got = _exported(big, staff, SearchParams(q="合同", sort=sort), tmp_path / "out.csv")
        assert len(got) == len(set(got)) and set(got) == expect, sort
        if sort != "code":  # "more than N": date order (newest first but for date_asc)
            assert _in_date_order(got, dates, desc=sort != "date_asc"), sort
        assert _exported(big, staff, SearchParams(q="合同 -第7件", sort=sort),
                         tmp_path / "out.xlsx") == [c for c in got if c != seventh], sort


def _code_of(archive: Archive, k: int) -> str:
    with archive.session() as s:
        return s.scalar(select(ArchiveItem.archival_code).where(
            ArchiveItem.title == f"购销合同 {k}")) or ""


def test_a_catalogue_export_lists_every_entry_the_user_may_look_up(big: Archive,
                                                                  tmp_path: Path) -> None:
    staff = _user(big, "staff")
    dates = _dates(big)
    for sort in ("code", "date_desc", "date_asc"):
        got = _exported(big, staff, SearchParams(sort=sort), tmp_path / "out.csv")
        assert len(got) == len(set(got)) and set(got) == _owned(big, staff, NARROW), sort
        if sort == "code":
            assert got == sorted(got)
        else:
            assert _in_date_order(got, dates, desc=sort == "date_desc"), sort
        # the operator lists everything but 绝密 (access.operator_visibility)
        everything = _exported(big, None, SearchParams(sort=sort), tmp_path / "all.csv")
        assert len(everything) == len(set(everything)) == sum(
            1 for k in range(18 * CAP) if LEVELS[k % len(LEVELS)] != "绝密"), sort


def _steps(archive: Archive, run) -> int:
    """SQLite VM steps (in hundreds, by a progress handler) of `run()` on the archive's
    database: the catalogue and the embedded index."""
    count = {"n": 0}

    def tick() -> int:
        count["n"] += 1
        return 0

    def handler(dbapi_conn, _rec) -> None:
        dbapi_conn.set_progress_handler(tick, 100)

    engine = archive.engine
    event.listen(engine, "connect", handler)
    engine.dispose()  # new connections, with the handler
    try:
        run()
    finally:
        event.remove(engine, "connect", handler)
        engine.dispose()
    return count["n"]


@pytest.mark.parametrize("params", [SearchParams(q="合同"), SearchParams(q="合同", sort="code"),
                                    SearchParams()], ids=["search", "search-by-code", "browse"])
def test_an_export_costs_time_linear_in_its_result(archive_env, tmp_path: Path, monkeypatch,
                                                   params: SearchParams) -> None:
    """Three times the items cost about three times the database work, where paging the
    search (or OFFSET pages of the catalogue) cost ever more per page; whatever the size of
    the export's chunks (small here, so that the old paging shows)."""
    monkeypatch.setattr(export, "_CHUNK", 20)
    steps, rows = [], []
    for n in (150, 450):
        monkeypatch.setenv("DANGAN_DATA", str(tmp_path / f"data{n}"))
        arch = Archive()
        init_archive(arch, admin_password="admin-password")
        _fill(arch, n)
        out = tmp_path / f"out{n}.csv"
        steps.append(_steps(arch, lambda a=arch, o=out: rows.append(
            export_sheet(a, None, params, o))))
    assert rows[0] > 0 and 2.9 * rows[0] <= rows[1] <= 3 * rows[0]
    assert steps[1] <= 3.5 * steps[0], steps
