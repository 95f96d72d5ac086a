"""`dangan ingest`, `show`, `retry`: registering items and reading them back."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from service.errors import N_, Message
from service.vocab import ItemStatus

from .common import archive_ready, data_option, emit, say

if TYPE_CHECKING:
    from service.archive import Archive


def _parse_date(_ctx: click.Context, _p: click.Parameter, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(say(Message(N_("日期格式应为 YYYY-MM-DD。")))) from None


@click.command("ingest")
@data_option
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--fonds", default="J001", show_default=True, help="全宗号")
@click.option("--category", required=True, help="门类代码, e.g. HT")
@click.option("--year", required=True, type=int, help="年度")
@click.option("--retention", required=True, help="保管期限: Y, D30, D10")
@click.option("--secrecy", required=True, help="密级: 公开 内部 秘密 机密 绝密")
@click.option("--title", required=True, help="题名")
@click.option("--org", default=None, help="机构（问题）代码, 3 letters")
@click.option("--customer", default=None, help="客户编号, e.g. KH-202405001")
@click.option("--section", "customer_section", default=None,
              help="customer file section: basic contract payment complaint correspondence")
@click.option("--box", default=None, help="盒条码")
@click.option("--doc-number", default=None, help="文号")
@click.option("--responsible", default=None, help="责任者")
@click.option("--date", "doc_date", default=None, callback=_parse_date, help="日期 YYYY-MM-DD")
@click.option("--paper-pages", type=int, default=None, help="纸质原件页数")
@click.option("--remarks", default=None, help="备注")
@click.option("--id-copies", "id_copies", is_flag=True,
              help="含身份证复印件: only users with the privacy right open the item")
@click.option("--wait", is_flag=True, help="Return only when all processing of the item is done.")
@click.option("--json", "as_json", is_flag=True)
def ingest_cmd(files: tuple[Path, ...], as_json: bool, wait: bool, **fields: object) -> None:
    """Register one archive item whose scans are FILES (OCR runs in the background)."""
    from service.ingest import IngestRequest, ingest

    archive = archive_ready()
    req = IngestRequest(files=list(files), **fields)  # type: ignore[arg-type]  # click types each option
    res = ingest(archive, req)
    if wait and res.status == ItemStatus.PROCESSING:
        _wait_for(archive, res.id, progress=not as_json)
        from service.items import get_item

        with archive.session() as s:
            item = get_item(s, res.id)
            res.status, res.pages = item.status, len(item.pages)
    emit(res.to_json(), as_json, lambda d: (
        f"{d['archival_code']}  id={d['id']}  状态/status={d['status']}  页/pages={d['pages']}"))


def _wait_for(archive: Archive, item_id: int, *, progress: bool) -> None:
    from service.items import get_item
    from service.items import progress as item_progress
    from service.jobs.worker import run_until

    def done() -> bool:
        """One read per poll: the status decides, the same read feeds the progress line."""
        with archive.session() as s:
            item = get_item(s, item_id)
            status, p = item.status, item_progress(item)
        if progress:
            click.echo(f"\rOCR {p['pages_done']}/{p['pages_total']}", nl=False, err=True)
        return status != ItemStatus.PROCESSING

    run_until(archive, done, archive.settings.workers)
    if progress:
        click.echo("", err=True)


@click.command("show")
@data_option
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def show_cmd(item_id: int, as_json: bool) -> None:
    """Print an item: fields, location, stored files and page texts (no page texts for 机密
    and 绝密 items: their content is never exported)."""
    from service.audit_actions import AuditAction
    from service.items import get_item, item_to_json, record_access

    archive = archive_ready()
    with archive.session() as s:
        item = get_item(s, item_id)
        data = item_to_json(item)
        record_access(s, None, AuditAction.ITEM_VIEW, item, {"via": "cli"})

    def human(d: dict) -> str:
        loc = (d["location"] or {}).get("path") or "—"
        prog = d["progress"]
        lines = [f"{d['archival_code']}  {d['title']}", f"状态/status: {d['status']}  "
                 f"OCR {prog['pages_done']}/{prog['pages_total']}  "
                 f"密级/secrecy: {d['secrecy']}  位置/location: {loc}"]
        if d["status_reason"]:
            lines.append(f"原因/reason: {d['status_reason']}")
        lines += [f"  {f['role']}: {f['name']} {f['size']} B sha256={f['sha256']}" for f in d["files"]]
        if d.get("text_withheld"):
            lines.append(f"页面文字 / page text: {d['text_withheld']}")
        else:
            lines += [f"--- 第 {p['n']} 页 / page {p['n']} ---\n{p.get('text') or ''}"
                      for p in d["pages"]]
        return "\n".join(lines)

    emit(data, as_json, human)


@click.command("retry")
@data_option
@click.argument("item_id", type=int)
@click.option("--wait", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
def retry_cmd(item_id: int, wait: bool, as_json: bool) -> None:
    """Rerun the failed files and pages of an item."""
    from service.items import get_item, item_summary
    from service.jobs.pipeline import retry_item

    archive = archive_ready()
    with archive.session() as s:
        get_item(s, item_id)
    queued = retry_item(archive, item_id)
    if wait and queued:
        _wait_for(archive, item_id, progress=not as_json)
    with archive.session() as s:
        data = item_summary(get_item(s, item_id))
    data["requeued_pages"] = len(queued)
    emit(data, as_json, lambda d: f"{d['archival_code']} 状态/status={d['status']} "
                                  f"重新排队/requeued={d['requeued_pages']}")
    if not queued and data["status"] == ItemStatus.FAILED:
        sys.exit(1)
