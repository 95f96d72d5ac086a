"""`dangan import`, `export`, `template`: the catalogue sheet in and out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .common import archive_ready, data_option, emit, say, search_filter_options


def _problem_lines(problems: list[dict[str, Any]]) -> list[str]:
    return [f"  第 {p['row'] or '—'} 行 {p['column'] or ''}"
            f"{'「' + p['value'] + '」' if p['value'] else ''}: {say(p['msg'])}" for p in problems]


def _plan_text(d: dict[str, Any]) -> str:
    c = d["counts"]
    lines = [f"{d['sheet']}: {c['rows']} 行 / rows — 新登记 / register {c['register']}，"
             f"修改申请 / change requests {c['update']}，未变 / unchanged {c['unchanged']}，"
             f"已登记 / done {c['done']}，有问题 / with problems {c['bad']}"]
    lines += _problem_lines(d["problems"])
    lines += [f"  未使用的扫描文件 / unused scan: {name}" for name in d["unused_files"]]
    return "\n".join(lines)


def _result_text(d: dict[str, Any]) -> str:
    c = d["counts"]
    lines = [f"{d['sheet']}: 已登记 / registered {c['registered']}，"
             f"修改已提交待审批 / changes submitted for approval {c['submitted']}，"
             f"已在待审批 / already awaiting approval {c['waiting']}，"
             f"未变 / unchanged {c['unchanged']}，此前已登记 / done before {c['done']}，"
             f"失败 / failed {c['failed']}"]
    lines += [f"  {r['archival_code']}  第 {r['row']} 行 / row  id={r['id']}" for r in d["registered"]]
    lines += [f"  {u['archival_code']}  待审批 / awaiting approval: {', '.join(u['changes'])}"
              for u in (*d["submitted"], *d["waiting"])]
    for f in d["failed"]:
        lines += _problem_lines(f["problems"])
    lines += [f"  未使用的扫描文件 / unused scan: {name}" for name in d["unused_files"]]
    return "\n".join(lines)


@click.command("import")
@data_option
@click.argument("sheet", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--scans", type=click.Path(path_type=Path, exists=True, file_okay=False),
              default=None, help="Folder of scans: a file or folder per item, named by the "
                                 "row's 文件名 or by its 档号.")
@click.option("--dry-run", is_flag=True, help="Check every row and file; write nothing.")
@click.option("--json", "as_json", is_flag=True)
def import_cmd(sheet: Path, scans: Path | None, dry_run: bool, as_json: bool) -> None:
    """Register a batch from a catalogue sheet (.xlsx or .csv, UTF-8 or GBK) and its scans;
    rows naming a registered 档号 ask for a change of that item's catalogue fields, which
    takes effect when the archive manager approves it. Exit status 1 when a row
    has a problem (the good rows are registered all the same)."""
    from service.batch import plan_batch, register_batch

    archive = archive_ready()
    if dry_run:
        plan = plan_batch(archive, None, sheet, scans)
        emit(plan.to_json(), as_json, _plan_text)
        sys.exit(1 if plan.counts()["bad"] else 0)

    def progress(_stage: str, done: int, total: int) -> None:
        if not as_json:
            click.echo(f"\r登记 / registering {done}/{total}", nl=False, err=True)

    result = register_batch(archive, None, sheet, scans, progress=progress)
    if not as_json:
        click.echo("", err=True)
    emit(result.to_json(), as_json, _result_text)
    sys.exit(1 if result.failed else 0)


@click.command("export")
@data_option
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--query", "q", default="", help="Search words; without them the catalogue.")
@click.option("--as", "as_user", default=None, help="Export with this user's permissions.")
@search_filter_options
@click.option("--json", "as_json", is_flag=True)
def export_cmd(out: Path, as_user: str | None, as_json: bool, **args: str | None) -> None:
    """Write the catalogue (or a search result) as OUT, .xlsx or .csv, with the import's
    columns: edit it and `dangan import` it to change exactly what was edited.

    The whole result, each item once, whatever its size; a search result of more than
    2,000 matching pages ("more than N") is written in date order, newest first."""
    from service.export import export_sheet
    from service.search import parse_search_params
    from service.users import get_user

    archive = archive_ready()
    params = parse_search_params(args)
    user = None
    if as_user:
        with archive.session() as s:
            user = get_user(s, as_user)
            s.expunge(user)
    n = export_sheet(archive, user, params, out)
    emit({"file": str(out), "rows": n}, as_json, lambda d: f"{d['file']}: {d['rows']} 行 / rows")


@click.command("template")
@data_option
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
def template_cmd(out: Path) -> None:
    """Write the empty catalogue sheet (.xlsx) with the allowed values listed."""
    from service.export import write_template

    write_template(archive_ready(), None, out)
    click.echo(str(out))
