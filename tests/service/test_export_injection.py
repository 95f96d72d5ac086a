"""Every spreadsheet the archive writes keeps user text as text (formula / CSV injection).

A catalogue title such as ``=HYPERLINK("http://x","y")`` is written to each XLSX export as a
string cell (never a formula Excel or WPS would compute), and to each CSV export with a
leading ``'`` when it begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
(OWASP); the catalogue sheet's import takes that ``'`` off again, so the title comes back.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from scanfactory import render_page, write_png
from sqlalchemy import select

from service.audit import record
from service.audit_trail import AuditQuery, export_entries
from service.destruction_register import to_xlsx as destruction_xlsx
from service.export import export_sheet, write_template
from service.fourprops_report import ReportRow, export_rows
from service.ingest import IngestRequest, ingest
from service.loan_register import RegisterFilters
from service.loan_register import to_xlsx as loan_xlsx
from service.models import DestructionRecord, Loan, User
from service.report_export import export as report_export
from service.scheme import save_category
from service.search import SearchParams
from service.sheet_cells import csv_text, csv_value
from service.sheets import read_rows
from service.statistics import Column, Filters, Row, Statistics, Table
from service.statistics_export import to_xlsx as statistics_xlsx
from service.twoset_report import Finding, FindingKind, TwoSetReport
from tests.queued import QueuedPages

TITLES = ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "-2+3", "=1+1 合同"]
WHEN = datetime(2026, 5, 4, 8, 30, tzinfo=UTC)


def _xlsx_cells(data: bytes | Path, value: str) -> list:
    """Every cell of every sheet that holds `value` (as text or as a formula)."""
    wb = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and value in c.value]


def _assert_xlsx_text(data: bytes | Path, value: str) -> None:
    cells = _xlsx_cells(data, value)
    assert cells, f"{value!r} is in the workbook"
    for c in cells:
        assert c.data_type == "s", f"{c.coordinate} {c.value!r} is a {c.data_type}, not text"


def _csv_cells(data: bytes | Path) -> list[str]:
    raw = data if isinstance(data, bytes) else data.read_bytes()
    return [c for row in csv.reader(io.StringIO(raw.decode("utf-8-sig"))) for c in row]


def _assert_csv_quoted(data: bytes | Path, value: str) -> None:
    cells = _csv_cells(data)
    assert "'" + value in cells, f"{value!r} is written as '{value}"
    assert value not in cells


@pytest.fixture
def titled(archive, tmp_path: Path) -> list[int]:
    """One item per title of TITLES (no OCR: the page tasks stay queued)."""
    QueuedPages(archive)
    ids = []
    for n, t in enumerate(TITLES):
        scan = write_png(tmp_path / f"p{n}.png", render_page([f"合同 {n}"], size=(500, 300)))
        ids.append(ingest(archive, IngestRequest(files=[scan], fonds="J001", category="HT",
                                                 year=2024, retention="D30", secrecy="内部",
                                                 title=t)).id)
    return ids


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_catalogue_export_keeps_titles_as_text_and_reads_them_back(archive, tmp_path: Path,
                                                                       titled, fmt: str) -> None:
    out = tmp_path / f"export.{fmt}"
    assert export_sheet(archive, None, SearchParams(), out) == len(TITLES)
    for t in TITLES:
        (_assert_xlsx_text if fmt == "xlsx" else _assert_csv_quoted)(out, t)
    assert sorted(v["题名"] for _, v in read_rows(out)) == sorted(TITLES)


def test_the_template_keeps_category_names_as_text(archive, tmp_path: Path) -> None:
    with archive.session() as s:
        save_category(s, s.scalar(select(User).where(User.username == "admin")), "ZZ",
                      TITLES[0])
    out = tmp_path / "template.xlsx"
    write_template(archive, None, out)
    _assert_xlsx_text(out, TITLES[0])
    wb = load_workbook(out)
    ref = wb["可选值"]
    # each drop-down list names the cells holding its codes, each code's name beside them
    lists = {dv.errorTitle: dv.formula1.split("!")[1].replace("$", "")
             for dv in wb["目录"].data_validations.dataValidation}
    codes = [c.value for row in ref[lists["门类"]] for c in row]
    assert "ZZ" in codes and "HT" in codes
    row = ref[lists["门类"]][codes.index("ZZ")][0].row
    assert ref.cell(row=row, column=len(lists) + 2).value == TITLES[0]
    assert [c.value for row in ref[lists["保管期限"]] for c in row] == ["Y", "D30", "D10"]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_two_set_report_keeps_titles_as_text(fmt: str) -> None:
    report = TwoSetReport([Finding(FindingKind.FILE_MISSING, "J001-HT·2024-D30-0001", 1,
                                   title=t, facts={"role": "original", "key": "ab/cd"})
                           for t in TITLES], 5, 0, 5, WHEN)
    data = report_export(report, fmt)
    for t in TITLES:
        (_assert_xlsx_text if fmt == "xlsx" else _assert_csv_quoted)(data, t)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_audit_export_keeps_text_as_text(archive, tmp_path: Path, fmt: str) -> None:
    with archive.session() as s:
        for t in TITLES:
            record(s, "cli", "item.view", t, {})
    out = tmp_path / f"audit.{fmt}"
    export_entries(archive, None, AuditQuery(), out)
    for t in TITLES:
        (_assert_xlsx_text if fmt == "xlsx" else _assert_csv_quoted)(out, t)


def test_the_loan_register_keeps_text_as_text() -> None:
    borrower = User(username="reader", display_name=TITLES[0])
    loans = [Loan(number=f"JY-{i}", borrower=borrower, department=t, purpose=t,
                  kind="electronic", status="requested", starts_at=WHEN, ends_at=WHEN,
                  mismatch=False, items=[]) for i, t in enumerate(TITLES)]
    data = loan_xlsx(loans, RegisterFilters())
    for t in TITLES:
        _assert_xlsx_text(data, t)


def test_the_destruction_register_keeps_titles_as_text() -> None:
    records = [DestructionRecord(number=i, item_id=i, archival_code=f"J001-HT·2000-D10-000{i}",
                                 title=t, year=2000, retention="D10", secrecy="内部", pages=3,
                                 reason=t, approved_by="主任", supervisor="监销", confirmed_by="销毁",
                                 destroyed_at=WHEN) for i, t in enumerate(TITLES, start=1)]
    data = destruction_xlsx(records)
    for t in TITLES:
        _assert_xlsx_text(data, t)


def test_the_statistics_keep_labels_and_filters_as_text() -> None:
    table = Table("fonds", "全宗", "按全宗", "全宗", (Column("件数"),),
                  tuple(Row(f"k{i}", t, (i,)) for i, t in enumerate(TITLES)))
    data = statistics_xlsx(Statistics(WHEN, Filters(fonds="=HYPERLINK(\"http://f\")"), (table,)))
    for t in [*TITLES, "=HYPERLINK(\"http://f\")"]:
        _assert_xlsx_text(data, t)
    figures = [c for c in load_workbook(io.BytesIO(data))["按全宗"]["B"][1:]]
    assert [c.value for c in figures] == [0, 1, 2, 3, 4, 10] and all(c.data_type == "n"
                                                                    for c in figures)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_four_property_export_keeps_titles_as_text(archive, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"fourprops.{fmt}"
    export_rows(archive, None, [ReportRow(i, f"J001-HT·2024-D30-000{i}", t, None)
                                for i, t in enumerate(TITLES, start=1)], out, str, target="all")
    for t in TITLES:
        (_assert_xlsx_text if fmt == "xlsx" else _assert_csv_quoted)(out, t)


def test_csv_cells_are_quoted_only_where_excel_would_compute_them() -> None:
    assert [csv_value(v) for v in ["=1", "+1", "-1", "@x", "\tx", "\rx", "'=1", "''+1"]] == \
        ["'=1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "''=1", "'''+1"]
    # numbers stay numbers (a negative figure is not text); other text is left alone
    assert [csv_value(v) for v in [-5, -2.5, None, "合同", "'abc", "1-2", " =1"]] == \
        [-5, -2.5, "", "合同", "'abc", "1-2", " =1"]
    for v in ["=1", "'=1", "''-1", "'abc", "'", "''", "合同", "-"]:
        assert csv_text(csv_value(v)) == v
