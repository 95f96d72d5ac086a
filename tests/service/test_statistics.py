"""Statistics of holdings, additions, use, condition and storage: a built archive (items at
every 密级, several years and two fonds, files, pages, cross-checks and audit entries in known
months) gives exactly the figures worked out by hand; the XLSX holds the same figures; only
the roles that read statistics get them; the number of queries does not grow with the items."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from service.archive import Archive
from service.clock import use_clock
from service.config import Settings
from service.errors import InvalidInput, PermissionDenied
from service.models import ArchiveItem, AuditEntry
from service.setup import init_archive
from service.statistics import Filters, compute, parse_filters, statistics
from service.statistics_export import TOTAL, export_xlsx, to_xlsx
from service.users import get_user
from tests.statsworld import Spec, World, add_item


@pytest.fixture
def world(db_url: str, tmp_path) -> World:
    archive = Archive(Settings.from_env({"DANGAN_DATA": str(tmp_path / "data"),
                                         "DANGAN_DATABASE_URL": db_url}))
    init_archive(archive, admin_password="admin-password")
    yield World(archive)
    from service.db import dispose_all

    dispose_all()


def _rows(table) -> dict[str, tuple]:
    return {r.key: r.values for r in table.rows}


def test_holdings_by_fonds_category_year_retention_and_secrecy(world: World) -> None:
    with world.archive.session() as s:
        st = compute(s)
    assert _rows(st.table("holdings_fonds")) == {"J001": (4, 10, 6), "J002": (1, 5, 5)}
    assert [str(r.label) for r in st.table("holdings_fonds").rows] == ["J001 本单位全宗", "J002 第二全宗"]
    assert _rows(st.table("holdings_category")) == {"HT": (3, 10, 10), "WS": (1, 1, 1),
                                                     "ZJ": (1, 4, 0)}
    assert st.table("holdings_category").rows[0].label.render("en") == "HT Contracts and agreements"
    assert _rows(st.table("holdings_year")) == {"2023": (1, 2, 2), "2024": (3, 8, 4),
                                                 "2025": (1, 5, 5)}
    assert _rows(st.table("holdings_retention")) == {"Y": (2, 6, 6), "D30": (2, 5, 5),
                                                      "D10": (1, 4, 0)}
    assert _rows(st.table("holdings_secrecy")) == {
        "公开": (1, 2, 2), "内部": (1, 3, 3), "秘密": (1, 1, 1), "机密": (1, 4, 0), "绝密": (1, 5, 5)}
    assert st.table("holdings_secrecy").total() == (5, 15, 11)


def test_additions_use_checks_and_storage(world: World) -> None:
    with world.archive.session() as s:
        st = compute(s)
    assert _rows(st.table("additions_month")) == {
        "2026-01": (2, 5, 5, 3000), "2026-02": (0, 0, 0, 0), "2026-03": (3, 10, 6, 7500)}
    assert _rows(st.table("use_month")) == {  # searches, views, downloads, prints
        "2026-01": (1, 2, 0, 0), "2026-02": (0, 0, 0, 1), "2026-03": (0, 2, 1, 0)}
    assert _rows(st.table("cross_check")) == {"agrees": (2,), "discrepancy": (1,),
                                              "changed": (1,), "never": (1,)}
    assert _rows(st.table("paper_condition")) == {"intact": (3,), "damaged": (1,),
                                                  "missing_pages": (1,)}
    # storage keeps the merged item's original: it is still stored
    assert _rows(st.table("storage")) == {"original": (5, 10600), "derived": (2, 600),
                                          "page_images": (4, None)}
    assert st.table("storage").total() == (11, 11200)
    assert _rows(st.table("storage_growth")) == {
        "2026-01": (3000, 600, 3600), "2026-02": (0, 0, 3600), "2026-03": (7600, 0, 11200)}


def test_loans_per_month_and_by_status_now(world: World) -> None:
    with world.archive.session() as s:
        with use_clock(lambda: datetime(2026, 3, 3, 12, 0, tzinfo=UTC)):
            early = compute(s)
        with use_clock(lambda: datetime(2026, 4, 1, tzinfo=UTC)):
            late = compute(s)
            j001 = compute(s, Filters(fonds="J001"))
    assert _rows(late.table("loans_month")) == {
        "2026-01": (1, 0, 2), "2026-02": (0, 0, 0), "2026-03": (2, 2, 4)}
    statuses = {"requested": (1,), "approved": (0,), "rejected": (1,), "issued": (0,),
                "overdue": (1,), "expired": (1,), "returned": (1,), "withdrawn": (0,)}
    assert _rows(late.table("loans_status")) == statuses
    # on 3 March the paper loan was still within its period; the electronic one had ended
    assert _rows(early.table("loans_status")) == statuses | {"issued": (1,), "overdue": (0,)}
    assert _rows(j001.table("loans_month"))["2026-03"] == (1, 2, 3)
    assert j001.table("loans_status").value("requested") == 0


def test_filters_narrow_every_figure(world: World) -> None:
    with world.archive.session() as s:
        j001 = compute(s, parse_filters(s, {"fonds": "j001"}))
        years = compute(s, parse_filters(s, {"year_from": "2024", "year_to": "2025"}))
    assert _rows(j001.table("holdings_fonds")) == {"J001": (4, 10, 6)}
    assert _rows(j001.table("use_month")) == {  # searches and prints are of no one item
        "2026-01": (0, 2, 0, 0), "2026-02": (0, 0, 0, 0), "2026-03": (0, 1, 1, 0)}
    assert _rows(j001.table("storage"))["original"] == (4, 3600)
    assert _rows(years.table("holdings_year")) == {"2024": (3, 8, 4), "2025": (1, 5, 5)}
    assert _rows(years.table("additions_month")) == {
        "2026-01": (1, 3, 3, 2000), "2026-02": (0, 0, 0, 0), "2026-03": (3, 10, 6, 7500)}
    assert _rows(years.table("use_month")) == {"2026-03": (0, 2, 1, 0)}


def test_bad_filters_are_refused_with_the_reason(world: World) -> None:
    with world.archive.session() as s:
        with pytest.raises(InvalidInput, match="全宗“J999”不存在"):
            parse_filters(s, {"fonds": "J999"})
        with pytest.raises(InvalidInput, match="起始年度 2025 晚于截止年度 2024"):
            parse_filters(s, {"year_from": "2025", "year_to": "2024"})
        with pytest.raises(InvalidInput, match="year_from"):
            parse_filters(s, {"year_from": "20x4"})
        assert parse_filters(s, {}) == Filters()


def test_the_roles_that_read_statistics_and_the_others(world: World) -> None:
    with world.archive.session() as s:
        for name in ("admin", "mgr", "exe", "keeper"):
            assert statistics(s, get_user(s, name)).table("holdings_secrecy").total()[0] == 5
        for name in ("alice", "dm", "off"):
            user = get_user(s, name)
            with pytest.raises(PermissionDenied, match="可以查看统计"):
                statistics(s, user)
            with pytest.raises(PermissionDenied):
                export_xlsx(s, user)
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "stats.export")) is None


def test_the_xlsx_holds_the_same_figures_and_the_export_is_audited(world: World) -> None:
    with world.archive.session() as s:
        data = export_xlsx(s, get_user(s, "mgr"), parse_filters(s, {"fonds": "J001"}))
    with world.archive.session() as s:
        st = compute(s, Filters(fonds="J001"))
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "stats.export"))
        assert entry.actor == "mgr" and entry.detail == {"format": "xlsx", "fonds": "J001"}
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["说明", *(t.sheet for t in st.tables)]
    for table in st.tables:
        rows = list(wb[table.sheet].iter_rows(values_only=True))
        assert rows[0] == (str(table.head), *(str(c.title) for c in table.columns))
        body = rows[1:len(table.rows) + 1]
        assert [r[0] for r in body] == [str(r.label) for r in table.rows], table.key
        assert [tuple(r[1:]) for r in body] == [r.values for r in table.rows], table.key
        if table.totals:
            assert rows[-1] == (str(TOTAL), *table.total())
    by_fonds = list(wb["按全宗"].iter_rows(values_only=True))
    assert by_fonds[1] == ("J001 本单位全宗", 4, 10, 6)
    assert list(wb["按密级"].iter_rows(values_only=True))[-1] == ("合计", 4, 10, 6)


def test_nothing_but_aggregates_leaves(world: World) -> None:
    """No title (of any 密级) is in the statistics or the workbook."""
    with world.archive.session() as s:
        st = compute(s)
        titles = set(s.scalars(select(ArchiveItem.title)))
    wb = load_workbook(io.BytesIO(to_xlsx(st)))
    cells = {str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row}
    assert titles and not titles & cells
    labels = {str(r.label) for t in st.tables for r in t.rows}
    assert not any(title in label for title in titles for label in labels)


def test_the_queries_do_not_grow_with_the_items(world: World) -> None:
    """Aggregates in SQL: as many statements for 6 items as for 46 (no loop over items)."""
    def statements() -> int:
        seen: list[str] = []
        engine = world.archive.engine
        listener = lambda *a: seen.append(a[2])  # noqa: E731 - the statement text
        event.listen(engine, "before_cursor_execute", listener)
        try:
            with world.archive.session() as s:
                compute(s)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    before = statements()
    with world.archive.session() as s:
        for n in range(40):
            add_item(s, 100 + n, Spec("J001", "HT", 2020 + n % 5, "D30", "内部", 1, 1,
                                   datetime(2025, 1 + n % 12, 1, tzinfo=UTC), 10))
    assert statements() == before
    with world.archive.session() as s:
        assert compute(s).table("holdings_fonds").value("J001") == 44


@pytest.mark.slow
def test_statistics_at_100k_items_stay_fast(archive) -> None:
    """100,000 items with 300,000 pages, their files, checks and audit entries: every table
    in seconds (the figures are the database's aggregates; measured ~1 s on an idle core)."""
    from sqlalchemy import insert

    from service.models import Category, CrossCheck, Fonds, Page, StoredFile, User

    n = 100_000
    base = datetime(2020, 1, 1)
    with archive.session() as s:
        fonds = s.scalar(select(Fonds.id))
        cats = list(s.scalars(select(Category.id)))
        uid = s.scalar(select(User.id))
        levels = ("公开", "内部", "秘密", "机密", "绝密")
        s.execute(insert(ArchiveItem), [dict(
            id=i, archival_code=f"J001-HT·X-{i}", fonds_id=fonds, category_id=cats[i % len(cats)],
            year=2000 + i % 25, retention=("Y", "D30", "D10")[i % 3], item_no=i, title=f"t{i}",
            secrecy=levels[i % 5], paper_pages=3, status="ready",
            created_at=base + timedelta(hours=i)) for i in range(1, n + 1)])
        s.execute(insert(StoredFile), [dict(
            id=i, item_id=i, role="original", seq=1, key=f"k{i}", sha256=f"{i:064x}", size=1000,
            created_at=base + timedelta(hours=i)) for i in range(1, n + 1)])
        s.execute(insert(Page), [dict(item_id=i, file_id=i, n=p, file_page=p, status="done")
                                 for i in range(1, n + 1) for p in (1, 2, 3)])
        s.execute(insert(CrossCheck), [dict(item_id=i, result="agrees", officer_id=uid,
                                            officer="off", checked_at=base)
                                       for i in range(1, n + 1, 2)])
    with archive.session() as s:
        started = time.monotonic()
        st = compute(s)
        took = time.monotonic() - started
    assert st.table("holdings_secrecy").total() == (n, 3 * n, 3 * n)
    assert st.table("holdings_secrecy").value("绝密") == n // 5
    assert st.table("cross_check").value("agrees") == n // 2
    assert st.table("additions_month").total()[3] == 1000 * n
    assert took < 20, f"statistics over {n} items took {took:.1f} s"


def test_the_command_line_prints_and_exports_the_statistics(archive_env, tmp_path) -> None:
    from clihelp import dangan, dangan_json

    from service.archive import Archive

    dangan(archive_env, "init", "--admin-password", "initial-pass")
    World(Archive())
    out = dangan_json(archive_env, "stats", "--fonds", "J001", "-o", str(tmp_path / "s.xlsx"))
    tables = {t["key"]: t for t in out["statistics"]["tables"]}
    assert out["statistics"]["filters"] == {"fonds": "J001"}
    assert [(r["key"], r["values"]) for r in tables["holdings_fonds"]["rows"]] == [("J001", [4, 10, 6])]
    assert tables["storage"]["rows"][2]["values"] == [4, None]
    assert tables["holdings_secrecy"]["total"] == [4, 10, 6]
    wb = load_workbook(tmp_path / "s.xlsx")
    assert list(wb["按全宗"].iter_rows(values_only=True))[1] == ("J001 本单位全宗", 4, 10, 6)
    text = dangan(archive_env, "stats", "--year-from", "2024").stdout
    assert "\n2024\t3\t8\t4\n" in text and "\n2023\t" not in text
    bad = dangan(archive_env, "stats", "--year-from", "2025", "--year-to", "2024", check=False)
    assert bad.returncode == 2 and "起始年度 2025 晚于截止年度 2024" in bad.stderr
    with Archive().session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "stats.export"))
        assert entry.actor == "cli" and entry.detail == {"format": "xlsx", "fonds": "J001"}
