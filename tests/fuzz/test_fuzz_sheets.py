"""The catalogue-sheet reader and the batch import fuzzed (#15.6).

Workbooks (openpyxl) and CSV files built by hypothesis with hostile cells: formulas, huge
strings, control characters, wrong types, merged cells, empty sheets, many columns.
Properties: reading yields every non-empty row under its spreadsheet row number or refuses
the file with the reader's own error; what the export writes reads back as written; the
dry run names each bad row by its number and never fails as a whole for one row's cells;
registration takes a row whole or not at all.
"""

from __future__ import annotations

import csv
import itertools
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from PIL import Image
from sqlalchemy import func, select

from service.batch import plan_batch, register_batch
from service.errors import InvalidInput
from service.fields import check_text
from service.models import ArchiveItem
from service.sheet_columns import HEADERS
from service.sheets import SheetWriter, read_rows
from tests.queued import QueuedPages

FUNCTION_FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])

#: Text a catalogue field may hold (service.fields.check_text) and a sheet must carry.
field_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60) \
    .filter(lambda t: _storable(t))


def _storable(t: str) -> bool:
    from service.models import ArchiveItem as Item

    try:
        check_text(Item.remarks, t, "备注")
    except InvalidInput:
        return False
    return True


#: Cells a spreadsheet treats specially: formulas, quotes, signs, numbers and dates as text.
SPECIAL = ["=1+1", "=HYPERLINK(\"http://x\",\"点我\")", "+SUM(A1:A2)", "-2+3", "@cmd",
           "'=quoted", "=", " 前后空格 ", "多行\n文本", "\t", "二〇二四", "2024-13-45", "是",
           "0012", "1e5", "2024-05-01", "TRUE", "#N/A", "J001-HT·2024-D30-0001", "\u202e反向",
           "\ufeff", "𠀀𠀁", "\ufffe", "\uffff", "\x85", "\u2028"]
field_text = field_text | st.sampled_from(SPECIAL).filter(_storable)
#: Text Excel would compute from a CSV (OWASP: = + - @ tab CR first), behind any number of '.
formula_like = st.builds(lambda quotes, first, rest: quotes + first + rest,
                         st.sampled_from(["", "'", "''"]), st.sampled_from("=+-@\t\r"),
                         field_text).filter(_storable)
hostile_text = st.one_of(
    field_text,
    st.builds(str.__mul__, st.sampled_from(["长", "a", "=A1&"]), st.integers(5000, 40000)),
)
cell_value = st.one_of(
    st.none(), hostile_text, st.integers(-10**12, 10**12), st.floats(allow_nan=False),
    st.booleans(), st.dates(date(1900, 3, 1), date(2100, 1, 1)),
    st.datetimes(datetime(1900, 3, 1), datetime(2100, 1, 1)), st.times(),
)


def _excel_safe(v: Any) -> Any:
    """An xlsx (XML) cannot hold control characters nor U+FFFE/U+FFFF: leave them out."""
    if isinstance(v, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("", v).replace("\ufffe", "").replace("\uffff", "")
    return v


@st.composite
def sheets(draw: st.DrawFn) -> tuple[list[list[Any]], list[tuple[int, int, int, int]]]:
    """Rows of cells (the first non-empty one is the header) and merged ranges."""
    width = draw(st.sampled_from([1, 3, len(HEADERS), 60, 300]))
    header = draw(st.one_of(
        st.just(list(HEADERS)),
        st.lists(st.sampled_from(list(HEADERS)) | hostile_text | st.none(), max_size=width),
        st.permutations(list(HEADERS)).map(list)))
    blank_top = draw(st.integers(0, 2))
    rows: list[list[Any]] = [[] for _ in range(blank_top)] + [header]
    for _ in range(draw(st.integers(0, 6))):
        rows.append(draw(st.lists(cell_value, max_size=min(width, 40))))
    merged = draw(st.lists(st.tuples(st.integers(1, len(rows) + 1), st.integers(1, 5),
                                     st.integers(0, 2), st.integers(0, 2)), max_size=2))
    return rows, merged


def _write_xlsx(path: Path, rows: list[list[Any]], merged: list[tuple[int, int, int, int]],
                extra_sheet: bool) -> None:
    wb = Workbook()
    ws = wb.active
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            if v is not None:
                ws.cell(r, c, _excel_safe(v))
    for r, c, dr, dc in merged:
        if dr or dc:
            ws.merge_cells(start_row=r, start_column=c, end_row=r + dr, end_column=c + dc)
    if extra_sheet:
        wb.create_sheet("说明").append(["这一页不是目录"])
    wb.save(path)


def _text(v: Any) -> str:
    """A cell as CSV carries it: the csv module writes str() of the value."""
    return "" if v is None else str(v)


@FUNCTION_FIXTURES
@given(sheet=sheets(), fmt=st.sampled_from(["xlsx", "csv-utf8", "csv-gbk"]),
       extra=st.booleans())
def test_every_non_empty_row_is_read_under_its_row_number(tmp_path: Path, sheet, fmt: str,
                                                          extra: bool) -> None:
    rows, merged = sheet
    if fmt == "xlsx":
        path = tmp_path / "sheet.xlsx"
        _write_xlsx(path, rows, merged, extra)
    else:
        path = tmp_path / "sheet.csv"
        encoding = "utf-8-sig" if fmt == "csv-utf8" else "gb18030"
        with open(path, "w", encoding=encoding, newline="") as fh:
            csv.writer(fh).writerows([[_text(v) for v in row] for row in rows])
    try:
        got = list(read_rows(path))
    except InvalidInput as exc:
        assert exc.message
        return
    numbers = [n for n, _ in got]
    assert numbers == sorted(set(numbers)) and all(1 <= n <= len(rows) for n in numbers)
    for _n, values in got:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
    if fmt != "xlsx" or not any(dr or dc for _, _, dr, dc in merged):
        shown = [[_excel_safe(v) if fmt == "xlsx" else v for v in row] for row in rows]
        filled = [n for n, row in enumerate(shown, start=1) if any(_text(v).strip() for v in row)]
        assert numbers == filled[1:], "every non-empty row after the header, by its number"


@FUNCTION_FIXTURES
@given(cells=st.lists(st.lists(field_text | formula_like, min_size=len(HEADERS),
                               max_size=len(HEADERS)), min_size=1, max_size=4),
       fmt=st.sampled_from(["xlsx", "csv"]))
def test_what_the_export_writes_the_import_reads_back(tmp_path: Path, cells: list[list[str]],
                                                      fmt: str) -> None:
    """Any text a catalogue field may hold survives export and import unchanged (bar the
    surrounding blanks the import trims): no formula, no lost or altered cell; in a CSV no
    cell begins as Excel would compute it (the export puts a ' before, the import takes it off)."""
    assume(all(any(c.strip() for c in row) for row in cells))
    path = tmp_path / f"out.{fmt}"
    w = SheetWriter(path, HEADERS)
    for row in cells:
        w.append(row)
    w.close()
    if fmt == "csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            assert not [c for row in csv.reader(fh) for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    got = list(read_rows(path))
    assert [n for n, _ in got] == list(range(2, len(cells) + 2))
    for (_, values), row in zip(got, cells, strict=True):
        assert [values[h] for h in HEADERS] == [c.strip() for c in row]


# ----------------------------------------------------------------- the batch import

_serial = itertools.count(1)

#: Values that have broken, or could break, a row's checks: codes and years out of range,
#: numbers past any column, page ranges, dates, paths out of the folder and NUL characters.
ROW_EDITS: dict[str, list[Any]] = {
    "档号": ["J001-HT·2999-D30-0001", "J001-HT·0000-D30-0001", "J001-HT·٢٠٢٤-D30-0001",
           "J001-HT·2024-D30-0001", "J001-HT·2024-D30-9999", "档号"],
    "年度": ["3000", "0", "二〇二四", 2024.5, True, "-1", "9" * 30, "２０２４"],
    "件号": ["0", "-5", "9" * 25, "1", "一"],
    "页数": ["-1", "0", "9" * 25, 1.5, "两页"],
    "起止页": ["1-" + "9" * 25, "0-1", "5-2", "1-1", "1", "9" * 25],
    "日期": ["2024-02-30", "99999-01-01", "2024-1-1", "2024年5月12日", "0000-00-00", date(2024, 5, 1),
           datetime(2024, 5, 1, 12), time(12, 30), 45000],
    "密级": ["绝密", "机密", "公开 ", "0"],
    "保管期限": ["永久", "D20", "y", ""],
    "客户编号": ["KH-202413001", "KH-999999999", "KH-" + "9" * 30],
    "盒号": ["NO-SUCH-BOX", "盒" * 300],
    "身份证复印件": ["是", "否", "maybe", True],
    "文件名": ["../../etc/passwd", "/etc/passwd", "a\x00b.png", "长" * 300 + ".png", ".", "",
            "s.png/..", "*"],
    "题名": ["", "=1+1", "题" * 5000, "\x01控制"],
    "全宗号": ["j001", "J0001", "Ｊ００１"],
}


@st.composite
def batch_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for i in range(draw(st.integers(1, 4))):
        row: dict[str, Any] = {"全宗号": "J001", "门类": "HT", "年度": 2024, "保管期限": "D30",
                               "题名": f"合同{i}", "日期": "2024-05-01", "密级": "内部"}
        for column in draw(st.lists(st.sampled_from(sorted(ROW_EDITS)), max_size=3, unique=True)):
            row[column] = draw(st.sampled_from(ROW_EDITS[column]) | hostile_text)
        rows.append(row)
    return rows


def _scan(folder: Path, name: str) -> None:
    n = next(_serial)
    img = Image.new("L", (64, 8), 255)
    for bit in range(32):
        if n >> bit & 1:
            img.putpixel((bit * 2, 3), 0)
    img.save(folder / name, "PNG")


def _item_count(archive) -> int:
    with archive.session() as s:
        return s.scalar(select(func.count(ArchiveItem.id))) or 0


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          max_examples=max(5, settings.default.max_examples // 4))
@given(rows=batch_rows(), fmt=st.sampled_from(["xlsx", "csv"]))
def test_a_batch_names_each_bad_row_and_registers_good_rows_whole(archive, tmp_path: Path,
                                                                   rows: list[dict[str, Any]],
                                                                   fmt: str) -> None:
    QueuedPages(archive)  # no OCR: the page tasks stay queued
    run = next(_serial)
    scans = tmp_path / f"scans{run}"
    scans.mkdir()
    for i, row in enumerate(rows):
        row.setdefault("文件名", f"s{i}.png")
        _scan(scans, f"s{i}.png")
        if isinstance(row["题名"], str) and row["题名"].startswith("合同"):
            row["题名"] = f"{row['题名']}-{run}"  # find this run's items by their titles
    sheet = tmp_path / f"sheet{run}.{fmt}"
    if fmt == "xlsx":
        _write_xlsx(sheet, [list(HEADERS)] + [[row.get(h) for h in HEADERS] for row in rows],
                    [], False)
    else:
        with open(sheet, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows([HEADERS] + [[_text(row.get(h)) for h in HEADERS]
                                                  for row in rows])
    data_rows = set(range(2, len(rows) + 2))

    try:
        plan = plan_batch(archive, None, sheet, scans)
    except InvalidInput as exc:  # a whole-sheet refusal must name the row it is about
        assert any(f"第 {n} 行" in exc.message for n in data_rows), exc.message
        return
    assert {r.row for r in plan.rows} == data_rows
    for p in plan.problems:
        assert p.row in data_rows and p.column in (*HEADERS, ""), p
        assert str(p.message)

    before = _item_count(archive)
    result = register_batch(archive, None, sheet, scans)
    assert {r["row"] for r in (*result.registered, *result.failed)} <= data_rows
    assert all(f["problems"] for f in result.failed)
    assert _item_count(archive) == before + len(result.registered)
    cells = {n: values for n, values in read_rows(sheet)}
    with archive.session() as s:
        for reg in result.registered:  # a registered row is the whole row
            item = s.get_one(ArchiveItem, reg["id"])
            values = cells[reg["row"]]
            assert item.title == values["题名"]
            assert item.secrecy == values["密级"] and item.year == int(values["年度"])
            assert len(item.pages) == reg["pages"] >= 1


def _sheet(path: Path, rows: list[dict[str, Any]]) -> Path:
    w = SheetWriter(path, HEADERS)
    for row in rows:
        w.append([row.get(h) for h in HEADERS])
    w.close()
    return path


@pytest.mark.parametrize("code", ["J001-HT·2999-D30-0001", "J001-HT·0000-D30-0001"])
def test_a_code_with_an_impossible_year_is_a_problem_of_its_row(archive, tmp_path: Path,
                                                                 code: str) -> None:
    """Found by the fuzzer: the 档号 parser took years the archive never writes, and the
    dry run then failed as a whole (a bare error naming no row) instead of naming the row."""
    good = {"全宗号": "J001", "门类": "HT", "年度": 2024, "保管期限": "D30", "题名": "合同",
            "密级": "内部", "文件名": "a.png"}
    sheet = _sheet(tmp_path / "s.xlsx", [good, {**good, "档号": code, "年度": ""}])
    plan = plan_batch(archive, None, sheet, None)
    assert [(p.row, p.column) for p in plan.problems if p.column == "档号"] == [(3, "档号")]


def test_a_formula_without_a_computed_value_is_named_not_read_as_empty(tmp_path: Path) -> None:
    """Found by the fuzzer: a workbook written by a program (no cached formula values) lost
    its formula cells, and a row of them vanished from the import without a word."""
    wb = Workbook()
    wb.active.append(list(HEADERS))
    wb.active.append(["", "J001", "HT", 2024, "D30", "", "", "=CONCAT(\"合\",\"同\")"])
    wb.save(tmp_path / "s.xlsx")
    with pytest.raises(InvalidInput) as exc:
        list(read_rows(tmp_path / "s.xlsx"))
    assert "第 2 行第 H 列" in exc.value.message and "公式" in exc.value.message


def test_text_that_looks_like_a_formula_is_exported_as_text(tmp_path: Path) -> None:
    """Found by the fuzzer: a title such as "=1+1" was written to the XLSX export as a
    formula (Excel computes it on opening) and read back empty when imported again."""
    sheet = _sheet(tmp_path / "s.xlsx", [{"题名": "=1+1"}, {"备注": "=HYPERLINK(\"http://x\")"}])
    assert [v["题名"] or v["备注"] for _, v in read_rows(sheet)] == ["=1+1", "=HYPERLINK(\"http://x\")"]


def test_characters_xml_cannot_hold_are_refused_by_the_field_rule() -> None:
    """Found by the fuzzer: U+FFFE in a title was accepted, and exporting it as XLSX failed."""
    for bad in ("\ufffe", "合同\uffff"):
        with pytest.raises(InvalidInput):
            check_text(ArchiveItem.title, bad, "题名")


@pytest.mark.parametrize("name", ["a\x00b.png", "长" * 300 + ".png"])
def test_a_file_name_no_file_can_have_is_a_problem_of_its_row(archive, tmp_path: Path,
                                                               name: str) -> None:
    """Found by the fuzzer: a NUL or an over-long 文件名 made the dry run fail as a whole
    (ValueError, OSError) instead of naming the row."""
    sheet = tmp_path / "s.csv"
    with open(sheet, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([HEADERS, [{"全宗号": "J001", "门类": "HT", "年度": "2024",
                                             "保管期限": "D30", "题名": "合同", "密级": "内部",
                                             "文件名": name}.get(h, "") for h in HEADERS]])
    (tmp_path / "scans").mkdir()
    plan = plan_batch(archive, None, sheet, tmp_path / "scans")
    assert [(p.row, p.column) for p in plan.problems] == [(2, "文件名")]
    assert "找不到" in str(plan.problems[0].message)


def test_a_csv_cell_past_the_reader_limit_names_its_row(tmp_path: Path) -> None:
    """Found by the fuzzer: a cell over 128 KiB refused the sheet with the csv module's
    English message and no row."""
    sheet = tmp_path / "s.csv"
    with open(sheet, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADERS, ["J001"] * 3, ["", "长" * 200_000]])
    with pytest.raises(InvalidInput) as exc:
        list(read_rows(sheet))
    assert "第 3 行" in exc.value.message and "131072" in exc.value.message
