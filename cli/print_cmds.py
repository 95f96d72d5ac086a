"""`dangan print box|shelf`: a box's paperwork (cover, spine, 归档文件目录, 备考表) as one PDF."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import click

from service.errors import N_, msg

from .common import archive_ready, data_option, emit, fail


@click.group("print")
def print_group() -> None:
    """Box paperwork after DA/T 22-2015, as PDF."""


def _box_url(base: str) -> Callable[[str], str]:
    """The address of a box's page in the web app at `base`."""
    return lambda barcode: f"{base}/boxes/{quote(barcode)}"


def _write(pdf: bytes, out: str, boxes: list[str], as_json: bool) -> None:
    Path(out).write_bytes(pdf)
    emit({"file": out, "boxes": boxes, "bytes": len(pdf)}, as_json,
         lambda d: f"已写入 / written {d['file']}: {len(d['boxes'])} 盒 / boxes")


@print_group.command("box")
@data_option
@click.argument("barcodes", nargs=-1, required=True)
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="The PDF to write.")
@click.option("--base-url", default=None,
              help="The web app's address the QR codes open (default $DANGAN_PUBLIC_URL).")
@click.option("--json", "as_json", is_flag=True)
def print_box(barcodes: tuple[str, ...], out: str, base_url: str | None, as_json: bool) -> None:
    """Paperwork of one box or more, by barcode."""
    from service.paperwork_pdf import print_boxes

    archive = archive_ready()
    base = (base_url or archive.settings.public_url).rstrip("/")
    with archive.session() as s:
        pdf = print_boxes(s, None, list(barcodes), _box_url(base))
    _write(pdf, out, list(barcodes), as_json)


@print_group.command("shelf")
@data_option
@click.argument("where", metavar="ROOM/RACK/SECTION/SHELF")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="The PDF to write.")
@click.option("--base-url", default=None,
              help="The web app's address the QR codes open (default $DANGAN_PUBLIC_URL).")
@click.option("--json", "as_json", is_flag=True)
def print_shelf_cmd(where: str, out: str, base_url: str | None, as_json: bool) -> None:
    """Paperwork of every box on a shelf (层), e.g. `A/3/2/4`, in one PDF."""
    from service.box_paperwork import find_shelf, shelf_boxes
    from service.paperwork_pdf import print_shelf

    parts = where.strip("/").split("/")
    if len(parts) != 4 or not all(parts):
        fail(msg(N_("位置应写作 库房/架/节/层，如 A/3/2/4，而不是 %(where)s。"), where=repr(where)), 2)
    archive = archive_ready()
    base = (base_url or archive.settings.public_url).rstrip("/")
    with archive.session() as s:
        shelf = find_shelf(s, *parts)
        pdf = print_shelf(s, None, shelf.id, _box_url(base))
        boxes = shelf_boxes(s, shelf.id)
    _write(pdf, out, boxes, as_json)
