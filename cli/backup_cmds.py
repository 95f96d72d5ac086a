"""`dangan backup` and `dangan restore`: the whole archive to and from a BagIt bag;
`dangan migrate`: the whole archive onto the production settings."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import archive_ready, data_option, emit


@click.command("backup")
@data_option
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--since", "since", type=click.Path(path_type=Path, exists=True), default=None,
              metavar="FULL_BAG",
              help="Incremental: objects already in this full backup (same SHA-256) are not copied.")
@click.option("--json", "as_json", is_flag=True)
def backup_cmd(dest: Path, since: Path | None, as_json: bool) -> None:
    """Write a consistent backup (catalogue snapshot, then its objects) as a BagIt bag at DEST."""
    from service.backup import backup

    res = backup(archive_ready(), dest, since=since)
    emit(res, as_json, lambda d: f"备份 / backup {d['path']}: rows {sum(d['rows'].values())}，"
                                 f"objects {d['objects']} (copied {d['copied']}，"
                                 f"in base {d['from_base']})，revision {d['revision']}")


@click.command("restore")
@data_option
@click.argument("src", type=click.Path(path_type=Path, exists=True))
@click.option("--base", type=click.Path(path_type=Path, exists=True), default=None,
              metavar="FULL_BAG", help="The full backup an incremental backup was taken against.")
@click.option("--json", "as_json", is_flag=True)
def restore_cmd(src: Path, base: Path | None, as_json: bool) -> None:
    """Validate the bag at SRC and rebuild the archive from it into an empty catalogue and
    store (the DANGAN_* settings), then rebuild the search index."""
    from service.archive import Archive
    from service.backup import restore

    res = restore(Archive(), src, base=base)
    emit(res, as_json, lambda d: f"恢复 / restored {d['path']}: rows {sum(d['rows'].values())}，"
                                 f"objects {d['objects']}，indexed {d['indexed']}，"
                                 f"revision {d['revision']}")


#: The counts the report shows, in this order, with their labels.
_LABELS = (("items", "档案 items"), ("pages", "页 pages"), ("files", "文件 files"),
           ("objects", "对象 objects"), ("bytes", "字节 bytes"),
           ("audit_entries", "审计记录 audit entries"), ("users", "用户 users"),
           ("boxes", "盒 boxes"), ("customers", "客户 customers"), ("loans", "借阅 loans"))


def _migrate_report(d: dict) -> str:
    lines = [f"源 source: {d['source']['database']} · {d['source']['storage']}",
             f"目标 target: {d['target']['database']} · {d['target']['storage']} · "
             f"search {d['target']['search']}",
             f"本次 this run: rows inserted {d['rows_inserted']}, updated {d['rows_updated']}; "
             f"objects copied {d['objects_copied']} ({d['bytes_copied']} bytes), "
             f"already there {d['objects_present']}",
             f"{'':<26}{'源 source':>14}{'目标 target':>14}"]
    shown = [k for k, _ in _LABELS] + [k for k in d["differ"] if k.startswith("table:")]
    labels = dict(_LABELS)
    for key in shown:
        c = d["counts"][key]
        mark = "  ≠" if key in d["differ"] else ""
        lines.append(f"{labels.get(key, key):<26}{c['source']:>14}{c['target']:>14}{mark}")
    lines.append("不一致 differ: " + (", ".join(d["differ"]) or "无 none"))
    for p in d["problems"]:
        lines.append(f"问题 problem: {p['problem']} {p['key']}")
    lines.append(f"完成 complete: audit entry #{d['audit_entry']}" if d["complete"] else
                 "未完成 incomplete: 解决上面的问题后再次运行同一命令，已复制的不会重复复制 / "
                 "fix the problems above and run the same command again; nothing is copied twice")
    return "\n".join(lines)


def _progress(phase: str, done: int) -> None:
    """A line on stderr now and then, so a long migration is seen to move."""
    if done % (5000 if phase == "rows" else 200) == 0:
        click.echo(f"… {phase} {done}", err=True)


@click.command("migrate")
@data_option
@click.option("--to", "to", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              required=True, metavar="ENVFILE",
              help="The target's settings: DANGAN_DATABASE_URL, DANGAN_STORAGE_URL, DANGAN_DATA "
                   "and optionally DANGAN_SEARCH_URL, as KEY=value lines (like deploy/.env).")
@click.option("--json", "as_json", is_flag=True)
def migrate_cmd(to: Path, as_json: bool) -> None:
    """Move this (embedded) archive onto the production settings in ENVFILE: every row and
    object copied and checked, the search index rebuilt there, this archive left untouched.
    Interrupted, run it again: it goes on where it stopped. Exit status 1 until complete."""
    from service.config import Settings
    from service.moveup import migrate_archive

    archive = archive_ready()
    res = migrate_archive(archive.settings, Settings.from_file(to),
                          checkpoint=None if as_json else _progress)
    emit(res, as_json, _migrate_report)
    if not res["complete"]:
        sys.exit(1)
