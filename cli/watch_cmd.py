"""`dangan watch DIR`: the scanner hot folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from .common import archive_ready, data_option, said, say


@click.command("watch")
@data_option
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--fonds", default="J001", show_default=True)
@click.option("--category", required=True)
@click.option("--year", required=True, type=int)
@click.option("--retention", required=True)
@click.option("--secrecy", required=True)
@click.option("--title", default="", help="Title for every item (default: the file name).")
@click.option("--org", default=None)
@click.option("--customer", default=None)
@click.option("--box", default=None)
@click.option("--interval", default=1.0, show_default=True, type=float)
@click.option("--settle", default=2.0, show_default=True, type=float,
              help="Seconds a file must stay unchanged before it is taken.")
@click.option("--once", is_flag=True, help="Scan until the folder is empty, then exit.")
def watch_cmd(directory: Path, interval: float, settle: float, once: bool, **fields: object) -> None:
    """Ingest files a scanner drops into DIRECTORY; move them to done/ or failed/ beside it."""
    from service.ingest import IngestRequest, validate_request
    from service.watch import WatchState, folders, scan_once

    archive = archive_ready()
    template = IngestRequest(files=[], **fields)  # type: ignore[arg-type]  # click types each option
    probe = directory / ".dangan-probe"
    probe.write_bytes(b"x")
    try:
        validate_request(archive, IngestRequest(**{**template.__dict__, "files": [probe],
                                                   "title": template.title or "probe"}))
    finally:
        probe.unlink(missing_ok=True)
    done, failed = folders(directory)
    click.echo(f"监视 / watching {directory} → {done} | {failed}", err=True)
    state = WatchState()
    while True:
        for report in scan_once(archive, directory, template, state, settle=settle, show=say):
            click.echo(json.dumps(said(report), ensure_ascii=False))
        if once and not any(p.is_file() and not p.name.startswith(".")
                            for p in directory.iterdir()):
            break
        time.sleep(interval)
