"""The `dangan` command line: parses arguments, calls `service`, prints the result.

Each command imports the service modules it needs inside its body, on purpose: `dangan
--help`, `dangan worker` and the rest then start without loading Flask, the OCR engines or
the whole catalogue for commands that do not use them (start-up time, not an import cycle).
"""

from __future__ import annotations

import click

from .admin_cmds import box_group, customer_group, user_group
from .backup_cmds import backup_cmd, migrate_cmd, restore_cmd
from .batch_cmds import export_cmd, import_cmd, template_cmd
from .common import DanganGroup
from .disposal_cmds import purge_cmd
from .item_cmds import ingest_cmd, retry_cmd, show_cmd
from .loan_cmds import loans_group
from .print_cmds import print_group
from .search_cmds import check_cmd, reindex_cmd, search_cmd
from .setup_cmds import health_cmd, init_cmd, serve_cmd, worker_cmd
from .stats_cmds import stats_cmd
from .watch_cmd import watch_cmd


@click.group(cls=DanganGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """档案系统 dangan: scanned records with catalogue, 档号, OCR and full-text search."""


for command in (init_cmd, serve_cmd, worker_cmd, ingest_cmd, show_cmd, retry_cmd, search_cmd,
                reindex_cmd, check_cmd, watch_cmd, user_group, customer_group, box_group,
                print_group, import_cmd, export_cmd, template_cmd, purge_cmd, loans_group,
                stats_cmd):
    cli.add_command(command)
cli.add_command(health_cmd)
cli.add_command(backup_cmd)
cli.add_command(restore_cmd)
cli.add_command(migrate_cmd)


def main() -> None:
    from service.audit_origin import cli_origin, set_origin

    set_origin(cli_origin())  # every audit entry a command writes says where it ran
    cli(prog_name="dangan")
