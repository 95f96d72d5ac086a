"""Catalogue sheets on disk: reading XLSX and CSV row by row, writing them as a stream.

A sheet may hold thousands of rows, so nothing here loads a whole sheet: XLSX is read with
openpyxl's read-only (streaming) reader and written with its write-only workbook; CSV goes
through the csv module line by line.

CSV encodings: archives' spreadsheets come from Excel (GBK/GB18030 on Chinese Windows,
"CSV UTF-8" with a byte-order mark) or other tools (UTF-8 without one). The encoding is
decided by a strict try-decode in this order: UTF-8 (BOM stripped) over the whole file, then
GB18030 (a superset of GBK and GB2312). Valid UTF-8 Chinese text is practically never valid
GBK text of the same meaning and the reverse, so a strict decode that succeeds is the
answer; a statistical detector (charset-normalizer) guesses on short files, where a sheet
of a few rows of Chinese can be taken for Big5 or Shift-JIS. The check streams the file in
blocks, so a large sheet costs one extra read, not memory.
"""

from __future__ import annotations

import codecs
import csv
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from .errors import N_, InvalidInput
from .sheet_cells import csv_row, csv_text, xlsx_row

#: Sheet files the import reads (by suffix).
SHEET_SUFFIXES = (".xlsx", ".csv")
_BLOCK = 1 << 20


def csv_encoding(path: Path) -> str:
    """``utf-8-sig`` or ``gb18030``: the first that decodes the whole file strictly."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            with open(path, "rb") as fh:
                while block := fh.read(_BLOCK):
                    decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise InvalidInput(N_("CSV 文件的编码无法识别：请另存为“CSV UTF-8”或 GBK 编码后重试。"))


def _cell(value: Any) -> str:
    """A cell as the text the archivist sees: dates as YYYY-MM-DD, whole numbers without .0."""
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):  # datetime from an Excel date cell
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number as the spreadsheet shows it, {header: text}) for every non-empty row
    after the header row; raises InvalidInput for a file that is not a readable sheet."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv_rows(path)
    elif suffix == ".xlsx":
        yield from _xlsx_rows(path)
    else:
        raise InvalidInput(N_("目录表应为 .xlsx 或 .csv 文件，而不是“%(name)s”。"), name=path.name)


def _rows(lines: Iterable[Sequence[Any]]) -> Iterator[tuple[int, dict[str, str]]]:
    header: list[str] | None = None
    for n, raw in enumerate(lines, start=1):
        cells = [_cell(v) for v in raw]
        if header is None:
            if any(cells):
                header = cells
            continue
        if not any(cells):
            continue
        yield n, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}
    if header is None:
        raise InvalidInput(N_("目录表是空的：第一行应为列标题（全宗号、门类、年度……）。"))


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with open(path, encoding=csv_encoding(path), newline="") as fh:
        # a cell the export quoted against formula injection (sheet_cells) reads as it was
        yield from _rows([csv_text(c) for c in record] for record in _csv_records(csv.reader(fh)))


def _csv_records(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """The CSV's records; InvalidInput naming the row (as a spreadsheet numbers it) where
    the file stops being CSV, e.g. a cell longer than the csv module takes (128 KiB)."""
    n = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise InvalidInput(N_("CSV 文件第 %(row)s 行有一个单元格超过 %(limit)s 个字符，不是目录的内容。"
                                      "请检查该行（如引号未配对）后重试。"),
                                   row=n + 1, limit=csv.field_size_limit()) from None
            raise InvalidInput(N_("CSV 文件第 %(row)s 行格式错误：%(error)s。"), row=n + 1,
                               error=str(exc)) from None
        n += 1
        yield record


def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        # The values Excel computed, and beside them the cells as typed: a formula whose
        # value was never computed (a workbook written by a program, not saved by Excel or
        # WPS) reads as empty, and a row of them would vanish without a word.
        wb = load_workbook(path, read_only=True, data_only=True)
        typed = load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise InvalidInput(N_("无法读取 Excel 文件“%(name)s”：%(error)s。请用 Excel 另存为 .xlsx 后重试。"),
                           name=path.name, error=str(exc)) from None
    try:
        yield from _rows(_computed(wb.worksheets[0].iter_rows(values_only=True),
                                   typed.worksheets[0].iter_rows(values_only=True)))
    finally:
        wb.close()
        typed.close()


def _computed(values: Iterable[Sequence[Any]],
              typed: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    """The rows' values; InvalidInput naming the first cell that is a formula without one."""
    for n, (row, cells) in enumerate(zip(values, typed, strict=False), start=1):
        for i, value in enumerate(row):
            cell = cells[i] if i < len(cells) else None
            if value is None and isinstance(cell, str) and cell.startswith("="):
                raise InvalidInput(N_("目录表第 %(row)s 行第 %(column)s 列是没有计算结果的公式（%(formula)s）："
                                      "请用 Excel 或 WPS 打开并保存后再导入，或把公式改为文字。"),
                                   row=n, column=get_column_letter(i + 1), formula=cell[:50])
        yield row


class SheetWriter:
    """Rows out to an XLSX (openpyxl's write-only workbook, which keeps rows in a temp file
    until it is saved) or a CSV file written as it goes (UTF-8 with a BOM, so Excel on
    Chinese Windows opens it with the right characters).

    Written under a temporary name beside ``path`` and renamed into place when complete, so
    that a failure on the way (the database lost mid-export) leaves no half-written file."""

    def __init__(self, path: Path, headers: Sequence[str], title: str = "目录") -> None:
        self.path = path
        self.fmt = path.suffix.lower().lstrip(".")
        self._part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        if self.fmt == "xlsx":
            self._wb = Workbook(write_only=True)
            self._ws = self._wb.create_sheet(title)
            self._ws.append(list(headers))
        elif self.fmt == "csv":
            self._fh: IO[str] = open(self._part, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._csv = csv.writer(self._fh, lineterminator="\r\n")
            self._csv.writerow(list(headers))
        else:
            raise InvalidInput(N_("导出格式应为 xlsx 或 csv，而不是“%(fmt)s”。"), fmt=self.fmt)

    @property
    def sheet(self) -> Any:
        """The XLSX worksheet (for data validation lists in the template)."""
        return self._ws

    def append(self, row: Sequence[Any]) -> None:
        if self.fmt == "xlsx":
            self._ws.append(xlsx_row(self._ws, row))
        else:
            self._csv.writerow(csv_row(row))

    def close(self, *, then: Callable[[], object] | None = None) -> None:
        """Finish the file and put it in place; with ``then`` (an export's audit entry), only
        once ``then`` has succeeded (a file handed out unaudited is worse than none)."""
        try:
            if self.fmt == "xlsx":
                self._wb.save(self._part)
            else:
                self._fh.close()
            if then is not None:
                then()
        except BaseException:
            self.discard()
            raise
        os.replace(self._part, self.path)

    def discard(self) -> None:
        """Drop the unfinished file (an export that failed part-way)."""
        if self.fmt == "xlsx":
            if not self._ws.closed:  # ends its row stream cleanly (no "Exception ignored")
                self._ws.close()
        else:
            self._fh.close()
        self._part.unlink(missing_ok=True)
