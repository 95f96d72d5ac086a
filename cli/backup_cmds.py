"""`dangan backup` and `dangan restore`: the whole archive to and from a BagIt bag."""

from __future__ import annotations

from pathlib import Path

import click

from .common import archive_ready, data_option, emit, handle_errors


@click.command("backup")
@data_option
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--since", "since", type=click.Path(path_type=Path, exists=True), default=None,
              metavar="FULL_BAG",
              help="Incremental: objects already in this full backup (same SHA-256) are not copied.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
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
@handle_errors
def restore_cmd(src: Path, base: Path | None, as_json: bool) -> None:
    """Validate the bag at SRC and rebuild the archive from it into an empty catalogue and
    store (the DANGAN_* settings), then rebuild the search index."""
    from service.archive import Archive
    from service.backup import restore

    res = restore(Archive(), src, base=base)
    emit(res, as_json, lambda d: f"恢复 / restored {d['path']}: rows {sum(d['rows'].values())}，"
                                 f"objects {d['objects']}，indexed {d['indexed']}，"
                                 f"revision {d['revision']}")
