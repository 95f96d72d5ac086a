"""What every fault test ends with: the archive consistent, as its own checks see it.

Consistent means `dangan check` (fixity, index, audit chain) finds nothing, and once the
orphan grace has passed (a grace of 0 stands for "an hour later"), `dangan check --orphans
--delete` leaves no object the catalogue does not reference and no unfinished upload,
without removing anything the catalogue does reference (the fixity check after it).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clihelp import dangan


def check_report(env: dict[str, str], *args: str) -> tuple[int, dict]:
    """`dangan check ARGS --json`: its exit status and report."""
    proc = dangan(env, "check", *args, "--json", check=False)
    return proc.returncode, json.loads(proc.stdout)


def assert_consistent(env: dict[str, str]) -> None:
    """What `dangan check` checks (fixity, index, audit chain) is clean, then the orphan
    sweep past its grace leaves nothing behind, and removed nothing the catalogue references.

    The command's own service functions, called in this process (a `dangan check` costs
    seconds of start-up on a loaded machine; tests/service/test_cli.py covers the command).
    """
    from service.archive import Archive
    from service.checks import check_audit, check_fixity, check_index, check_orphans
    from service.config import Settings
    from service.db import dispose_all

    archive = Archive(Settings.from_env({**os.environ, **env}))
    try:
        def clean() -> None:
            fixity, index, audit = check_fixity(archive), check_index(archive), check_audit(archive)
            assert fixity["bad"] == [], fixity
            assert not (index["missing"] or index["stale"] or index["orphaned"]), index
            assert audit["problems"] == 0, audit

        clean()
        check_orphans(archive, delete=True, grace=0)
        left = check_orphans(archive)
        assert left["orphans"] == [] and left["leftovers"] == [], left
        clean()  # the sweep removed nothing the catalogue references
    finally:
        dispose_all()


def a_lease_later(archive):
    """The archive's clock moved past a page lease (DANGAN_PAGE_LEASE): a claim or an item
    left by a worker that lost its database is then the reconcile's, as it is in time."""
    from service import clock

    delta = timedelta(seconds=archive.settings.page_lease + 5)
    return clock.use_clock(lambda: datetime.now(UTC) + delta)


def catalogue_count(data: Path, table: str) -> int:
    """Rows of a table in an embedded archive's catalogue, read behind the program's back."""
    with sqlite3.connect(data / "catalogue.sqlite3") as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - a test's own table names


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0,
             poll: float = 0.02) -> object:
    """Poll until `condition()` is truthy; fail saying `what` never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll)
