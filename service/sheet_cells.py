"""Cells of the spreadsheets the archive writes: user text stays text, never a formula.

A title, a borrower's purpose or a category name can begin like a formula. Opened in Excel
or WPS, such a cell would be computed (formula injection: ``=HYPERLINK(...)`` sends a click
to another site, ``=cmd|...`` asks to run a program). Every XLSX and CSV writer passes its
cells through here, so the rule is written once:

- XLSX: openpyxl takes any string starting with ``=`` for a formula; such a string is
  written as a string cell instead. A string cell is never computed, whatever it starts
  with, and numbers, dates and booleans keep their types.
- CSV has no types: Excel computes a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return (OWASP, "CSV Injection"). Such a text cell gets a leading ``'``, which
  Excel shows as the start of text. Numbers (int, float) are written as they are, so a
  negative figure stays a number. So that the import can undo the prefix exactly, a text
  cell that already is ``'`` marks before one of those characters gets one more; the import
  (``csv_text``) takes one ``'`` off a cell of ``'`` marks before one of them, and only then.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell

#: A text cell Excel would compute: any number of ' then a formula's first character.
_ACTIVE = re.compile(r"'*[=+\-@\t\r]")


def xlsx_value(ws: Any, value: Any) -> Any:
    """`value` for ``ws.append`` (a normal or a write-only sheet): a string openpyxl would
    write as a formula becomes a string cell; anything else is returned as it is."""
    if not (isinstance(value, str) and value.startswith("=")):
        return value
    cell = WriteOnlyCell(ws, value)
    cell.data_type = "s"
    return cell


def xlsx_row(ws: Any, row: Iterable[Any]) -> list[Any]:
    """A row for ``ws.append``, every value through `xlsx_value`."""
    return [xlsx_value(ws, v) for v in row]


def csv_value(value: Any) -> Any:
    """A cell for ``csv.writer``: None as empty, a text cell Excel would compute with a
    leading ``'``, numbers and other values as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and _ACTIVE.match(value):
        return "'" + value
    return value


def csv_row(row: Iterable[Any]) -> list[Any]:
    """A row for ``csv.writer``, every value through `csv_value`."""
    return [csv_value(v) for v in row]


def csv_text(cell: str) -> str:
    """A CSV cell as it was before `csv_value`: one ``'`` taken off a cell of ``'`` marks
    before a formula's first character; every other cell as it is."""
    if cell.startswith("'") and _ACTIVE.match(cell, 1):
        return cell[1:]
    return cell
