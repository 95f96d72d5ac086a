"""What every fault test ends with: the archive consistent, as its own checks see it.

Consistent means `dangan check` (fixity, index, audit chain) finds nothing, and once the
orphan grace has passed (`--grace 0` stands for "an hour later"), `dangan check --orphans
--delete` leaves no object the catalogue does not reference and no unfinished upload,
without removing anything the catalogue does reference (the fixity check after it).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from clihelp import dangan


def check_report(env: dict[str, str], *args: str) -> tuple[int, dict]:
    proc = dangan(env, "check", *args, "--json", check=False)
    return proc.returncode, json.loads(proc.stdout)


def assert_consistent(env: dict[str, str]) -> None:
    """`dangan check` clean, then the orphan sweep past its grace leaves nothing behind."""
    code, report = check_report(env)
    assert code == 0, report
    dangan(env, "check", "--orphans", "--delete", "--grace", "0")
    code, report = check_report(env, "--orphans")
    assert code == 0 and report["orphans"]["orphans"] == [], report
    assert report["orphans"]["leftovers"] == [], report
    code, report = check_report(env)
    assert code == 0, report  # the sweep removed nothing the catalogue references


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
