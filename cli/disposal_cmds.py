"""`dangan purge`: make final the deletions whose 30-day hold has ended (the same service
function the queue's periodic task runs), and finish any purge an interruption left."""

from __future__ import annotations

import click

from .common import archive_ready, data_option, emit


@click.command("purge")
@data_option
@click.option("--json", "as_json", is_flag=True)
def purge_cmd(as_json: bool) -> None:
    """Make due deletions final: tombstone the items, then remove the objects nothing uses
    (and the temporaries in DATA/tmp, batch-import folders among them, abandoned for a week)."""
    from service.deletion import finalise_due

    emit(finalise_due(archive_ready()), as_json,
         lambda d: f"删除生效 / deletions made final: {d['final']}；"
                   f"移除对象 / objects removed: {d['objects_removed']}；"
                   f"清理临时文件 / temporaries swept: {d['temporaries_removed']}")
