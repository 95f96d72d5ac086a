"""Exporting the catalogue, or a search result, as the catalogue sheet (XLSX or CSV).

The columns are the import's (service.sheet_columns), so an exported sheet can be edited
and imported again: each row carries its 档号, by which the import finds the item, and the
import changes exactly the cells that were edited.

Only catalogue fields leave (the same a result list shows), never page text, with ID and
mobile numbers masked for users without the privacy right, and only for items the user may see:
the result is walked as the user's search finds it (service.search.result_ids: the same
visibility and engine query as the result list, every item once, in one walk whatever its
size), and the rows are read and written a chunk at a time, so memory stays flat. A result
too large for the engine to count exactly ("more than N") is exported in date order.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .access import registrable_secrecy
from .archive import Archive
from .audit import record_event
from .audit_actions import AuditAction
from .catalogue import list_categories
from .models import ArchiveItem, Fonds, User
from .privacy import text_for
from .search import SearchParams, result_ids
from .sheet_cells import xlsx_row
from .sheet_columns import COLUMNS, HEADERS, sheet_row
from .sheets import SheetWriter
from .vocab import RETENTIONS

#: Export formats, by the file suffix that names them.
EXPORT_FORMATS = ("xlsx", "csv")
#: Catalogue rows read (and written) at a time.
_CHUNK = 500


def _readable(user: User | None, row: list[Any]) -> list[Any]:
    """The row as the user may read it (privacy.text_for: ID and mobile numbers masked for
    users without the privacy right; the operator at the command line has it). An import of
    the sheet reads a masked cell back as the value it stands for (privacy.written_back)."""
    return [text_for(user, v) if isinstance(v, str) else v for v in row]


def export_sheet(archive: Archive, user: User | None, params: SearchParams, out: Path) -> int:
    """Write the result of `params` as `out` (.xlsx or .csv); returns the number of rows."""
    writer = SheetWriter(out, HEADERS)
    n = 0
    try:
        # closed on a failure too: the engine's walk holds a connection and a read snapshot
        with closing(result_ids(archive, params, user)) as ids, archive.session() as s:
            while chunk := [i for _, i in zip(range(_CHUNK), ids, strict=False)]:
                items = {i.id: i for i in s.scalars(
                    select(ArchiveItem).where(ArchiveItem.id.in_(chunk)).options(
                        joinedload(ArchiveItem.fonds), joinedload(ArchiveItem.category),
                        joinedload(ArchiveItem.customer), joinedload(ArchiveItem.box)))}
                for i in chunk:
                    if i in items:
                        writer.append(_readable(user, sheet_row(items[i])))
                        n += 1
                s.expunge_all()
    except BaseException:
        writer.discard()
        raise
    writer.close(then=lambda: record_event(
        archive, user, AuditAction.CATALOGUE_EXPORT, "search",
        {"q": params.q[:200], "filters": params.filters, "rows": n,
         "format": out.suffix.lstrip(".").lower()}))
    return n


def write_template(archive: Archive, user: User | None, out: Path) -> None:
    """The empty catalogue sheet to fill in (.xlsx): the import's headers, a note on each,
    and the allowed values (fonds, 门类, 保管期限, 密级 as this archive has them) on a
    second sheet, offered as drop-down lists in their columns."""
    with archive.session() as s:
        fonds = [f.code for f in s.scalars(select(Fonds).order_by(Fonds.code))]
        categories = [(c.code, c.name) for c in list_categories(s)]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "目录"
    ws.append(list(HEADERS))
    ws.freeze_panes = "A2"
    for i, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        if col.note:
            cell.comment = Comment(col.note, "dangan")
        ws.column_dimensions[get_column_letter(i)].width = max(10, 2 * len(col.header) + 4)
    lists = {
        "全宗号": fonds,
        "门类": [code for code, _ in categories],
        "保管期限": list(RETENTIONS),
        "密级": list(registrable_secrecy(user)),
    }
    ref = wb.create_sheet("可选值")
    ref.append(["列", "可选值", "说明"])
    for col in COLUMNS:
        ref.append([col.header, None, col.note])
    base = len(COLUMNS) + 3
    ref.append([])
    ref.append(["下拉列表"])
    ref.append([*lists, *(f"{head}（名称）" for head in lists)])
    # the archive's own codes and names, then each one's name: text, never a formula
    names = {**{code: name for code, name in categories}, **RETENTIONS}
    columns = list(lists.values())
    for k in range(max(map(len, columns))):
        ref.append(xlsx_row(ref, [*(v[k] if k < len(v) else None for v in columns),
                                  *(names.get(v[k], "") if k < len(v) else None for v in columns)]))
    for j, (head, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(j)
        if values:
            first, last = base + 2, base + 1 + len(values)
            dv = DataValidation(type="list", formula1=f"'可选值'!${letter}${first}:${letter}${last}",
                                allow_blank=True, showErrorMessage=True,
                                errorTitle=head, error=f"{head}：{'、'.join(values)}")
            ws.add_data_validation(dv)
            column = get_column_letter(HEADERS.index(head) + 1)
            dv.add(f"{column}2:{column}5000")
    wb.save(out)
