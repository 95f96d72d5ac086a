"""Export of a large result: CPU time against a plain SELECT of the same rows, at two sizes.

    python bench/export_bench.py [--items 100000] [--cache DIR]

Builds (once, cached in ``--cache``, default the temp dir; never committed) an embedded
archive of ``--items`` catalogue items (SQLite catalogue with its FTS5 index), each one page
of short text with the common word 合同, spread evenly over twenty years, one in eleven
undated, owned by 40 staff members in turn (each owns a fortieth of every year). Then, in
this process, each export is timed in CPU time (``time.process_time``, so the machine's
other jobs do not count) writing CSV, as ``dangan export`` does
(service.export.export_sheet), for one year (a twentieth) and for all:

- **search 合同** (a term on every page: far more than the engine's cap, "more than N"),
  as the operator and as one staff member (their own items only);
- **browse** (no query) by 档号 and by date, as the operator and as the staff member.

**Baseline**, in the same run: one plain SELECT of the same rows (the item joined to its
fonds, category, customer and box, the same WHERE) written with ``csv.writer``: what
reading and writing those rows costs at the least. Printed per export: rows, CPU seconds,
µs per row, the ratio to the baseline, and how the cost per row grows from a twentieth to the
whole, for the operator's exports (about 1.0: linear; the export that paged the search grew
with the square; a staff member's twentieth is too few rows to time). With
``--paged`` the old way (run_search page after page, 100 items a page) is timed too on the
twentieth, for comparison. Peak Python memory (tracemalloc) of the largest search export is
printed for both sizes: flat, as rows are read and written 500 at a time.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from indexer.search.types import PageDoc, SearchResult  # noqa: E402
from service.archive import Archive  # noqa: E402
from service.config import Settings  # noqa: E402
from service.export import export_sheet  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import ArchiveItem, Category, Fonds, User  # noqa: E402
from service.search import SearchParams, run_search  # noqa: E402
from service.setup import init_archive  # noqa: E402
from service.users import create_user  # noqa: E402

YEARS = list(range(2005, 2025))
OWNERS = 40
LEVELS = ["内部"] * 6 + ["公开"] * 3 + ["秘密"]
WORDS = ["购销", "租赁", "借款", "担保", "委托", "服务", "采购", "运输"]
VERSION = 2  # of the cached archive's layout


def _item_row(k: int, fonds_id: int, cat_id: int, owners: list[int]) -> dict[str, Any]:
    year = YEARS[k % len(YEARS)]
    no = k // len(YEARS) + 1  # 件号 within the year's group (at most 9,999 a year)
    return {
        "archival_code": f"J001-HT·{year}-D30-{no:04d}", "fonds_id": fonds_id,
        "category_id": cat_id, "year": year, "retention": "D30", "item_no": no,
        "title": f"{WORDS[k % len(WORDS)]}合同 第{k}号",
        "secrecy": LEVELS[(k // 7) % len(LEVELS)],  # not in step with the years
        "status": "ready", "owner_id": owners[(k // len(YEARS)) % OWNERS], "created_by": "bench",
        "doc_date": None if k % 11 == 0 else date(year, 1, 1) + timedelta(days=(k * 37) % 365),
        "paper_pages": 1,
    }


def _doc(row: dict[str, Any], item_id: int) -> PageDoc:
    return PageDoc(
        item_id=item_id, page_no=1, text=f"本{row['title']}，甲乙双方于{row['year']}年签订。",
        words=[], meta_text=row["title"], archival_code=row["archival_code"],
        title=row["title"], fonds="J001", category="HT", year=row["year"], retention="D30",
        secrecy=row["secrecy"], status="ready", owner_id=row["owner_id"],
        date=row["doc_date"].isoformat() if row["doc_date"] else None)


def build(data: Path, n: int) -> Archive:
    """The cached archive of `n` items (built when missing or of another layout)."""
    ready = data / "bench-ready"
    if ready.exists() and json.loads(ready.read_text()) == {"items": n, "version": VERSION}:
        arc = Archive(Settings.from_env({"DANGAN_DATA": str(data)}))
        upgrade(arc.engine)  # a cache of an older schema, migrated as `dangan serve` would
        return arc
    shutil.rmtree(data, ignore_errors=True)
    arc = Archive(Settings.from_env({"DANGAN_DATA": str(data)}))
    init_archive(arc, admin_password="bench-password")
    t0 = time.process_time()
    with arc.session() as s:
        owners = [create_user(s, f"staff{i}", "bench-password", role="staff").id
                  for i in range(OWNERS)]
        fonds_id = s.scalar(select(Fonds.id).where(Fonds.code == "J001"))
        cat_id = s.scalar(select(Category.id).where(Category.code == "HT"))
    for start in range(0, n, 2000):
        rows = [_item_row(k, fonds_id, cat_id, owners) for k in range(start, min(n, start + 2000))]
        with arc.engine.begin() as c:
            ids = [c.execute(insert(ArchiveItem).values(**r).returning(ArchiveItem.id))
                   .scalar_one() for r in rows]
            arc.search.index_pages([_doc(r, i) for r, i in zip(rows, ids, strict=True)], conn=c)
        print(f"  {start + len(rows)} items ({time.process_time() - t0:.0f} s CPU)",
              file=sys.stderr, flush=True)
    arc.search.optimize()  # type: ignore[attr-defined]  # the embedded engine's
    ready.write_text(json.dumps({"items": n, "version": VERSION}))
    return arc


def _cpu(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median CPU seconds of `fn()` over `repeat` runs, and its last result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.process_time()
        out = fn()
        times.append(time.process_time() - t)
    return statistics.median(times), out


def baseline(arc: Archive, where: str, args: dict[str, Any], out: Path) -> int:
    """One plain SELECT of the rows, written with csv.writer: the least an export costs."""
    sql = text(
        "SELECT i.archival_code, f.code, c.code, i.year, i.retention, i.org_code, i.item_no, "
        "i.title, i.doc_number, i.responsible, i.doc_date, i.paper_pages, i.secrecy, "
        "i.remarks, cu.number, b.barcode FROM archive_item i JOIN fonds f ON f.id = i.fonds_id "
        "JOIN category c ON c.id = i.category_id LEFT JOIN customer cu ON cu.id = i.customer_id "
        f"LEFT JOIN box b ON b.id = i.box_id WHERE {where}")
    n = 0
    with arc.engine.connect() as c, out.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        for row in c.execute(sql, args):
            w.writerow(row)
            n += 1
    return n


def paged(arc: Archive, user: User | None, params: SearchParams, out: Path) -> int:
    """The export as it was: run_search page after page, 100 items a page (rows loaded as
    the export loads them), for comparison."""
    n, page = 0, 1
    with out.open("w", encoding="utf-8") as fh:
        while True:
            r = run_search(arc, SearchParams(q=params.q, filters=params.filters,
                                             sort=params.sort, page=page, per_page=100),
                           user=user, raw=True, audited=False)
            assert isinstance(r, SearchResult)
            hits = r.hits
            fh.writelines(f"{h.id}\n" for h in hits)
            n += len(hits)
            if not hits or page * 100 >= r.total:
                return n
            page += 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--paged", action="store_true", help="time the old paged export too")
    a = ap.parse_args(argv)
    if a.items > 9999 * len(YEARS):
        ap.error(f"at most {9999 * len(YEARS)} items (件号 ≤ 9999 a year)")
    arc = build(a.cache / f"dangan-export-bench-{a.items}", a.items)
    work = Path(tempfile.mkdtemp(prefix="dangan-export-"))
    with arc.session() as s:
        staff = s.scalar(select(User).where(User.username == "staff0"))
        assert staff is not None
        s.expunge(staff)
    last = str(YEARS[-1])
    # (name, user, params, the baseline's WHERE for the same rows)
    staff_where = f"i.owner_id = {staff.id} AND i.secrecy IN ('公开', '内部')"
    cases: list[tuple[str, User | None, SearchParams, str]] = []
    for scope, filters, where in (("one year", {"year_from": int(last), "year_to": int(last)},
                                   f"i.year = {last}"), ("all", {}, "1 = 1")):
        cases += [
            (f"search 合同, operator, {scope}", None, SearchParams(q="合同", filters=filters),
             f"{where} AND i.secrecy IN ('公开', '内部', '秘密')"),
            (f"search 合同, staff, {scope}", staff, SearchParams(q="合同", filters=filters),
             f"{where} AND {staff_where}"),
            (f"browse by 档号, operator, {scope}", None, SearchParams(filters=filters), where),
            (f"browse by date, operator, {scope}", None,
             SearchParams(filters=filters, sort="date_desc"), where),
            (f"browse by 档号, staff, {scope}", staff, SearchParams(filters=filters),
             f"{where} AND i.owner_id = {staff.id} AND i.secrecy IN ('公开', '内部', '秘密')"),
        ]
    export_sheet(arc, None, cases[0][2], work / "warm.csv")  # imports, caches, connections
    print(f"export of a large result, {a.items} items (CPU time; baseline: one plain SELECT "
          "of the same rows, csv.writer)")
    print(f"{'export':40} {'rows':>7} {'CPU s':>7} {'µs/row':>7} {'base µs':>8} {'× base':>7}")
    per_row: dict[str, float] = {}
    for name, user, params, where in cases:
        out = work / "out.csv"
        cpu, rows = _cpu(lambda u=user, p=params, o=out: export_sheet(arc, u, p, o), a.repeat)
        base, brows = _cpu(lambda w=where, o=work / "base.csv": baseline(arc, w, {}, o), a.repeat)
        assert rows == brows, (name, rows, brows)  # the same rows, every one once
        per_row[name] = cpu / max(rows, 1)
        print(f"{name:40} {rows:7d} {cpu:7.2f} {1e6 * cpu / max(rows, 1):7.1f} "
              f"{1e6 * base / max(rows, 1):8.1f} {cpu / max(base, 1e-9):7.1f}")
    print("growth of the CPU per row from one year to all (1.0: linear; paging grew with n):")
    for name in (c[0] for c in cases if c[0].endswith("one year") and "staff" not in c[0]):
        whole = name.replace("one year", "all")
        print(f"  {whole.rsplit(',', 1)[0]:40} {per_row[whole] / per_row[name]:5.2f}")
    if a.paged:
        name, user, params, _ = cases[0]
        cpu, rows = _cpu(lambda: paged(arc, user, params, work / "paged.txt"), 1)
        print(f"the old paged export, {name}: {rows} items, {cpu:.2f} s CPU, "
              f"{cpu / max(rows, 1) / per_row[name]:.1f}× the export's CPU per row")
    for name, user, params, _ in (cases[0], cases[len(cases) // 2]):
        tracemalloc.start()
        export_sheet(arc, user, params, work / "mem.csv")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"peak Python memory, {name}: {peak / 2**20:.1f} MB")
    shutil.rmtree(work, ignore_errors=True)
    arc.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
