"""Every command run while the database cannot be used says so in one clear message: the
database is unavailable or busy, nothing was half-written, the command can be run again;
and exits 75 (EX_TEMPFAIL). The real `dangan` command against a SQLite catalogue another
connection holds with BEGIN EXCLUSIVE, and against PostgreSQL on a closed port."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from clihelp import dangan, dangan_json

RETRY = "请稍后重新运行此命令"
EXIT_DB_UNAVAILABLE = 75


def _assert_retry_message(proc) -> None:
    assert proc.returncode == EXIT_DB_UNAVAILABLE, (proc.returncode, proc.stderr)
    assert "数据库暂时无法使用" in proc.stderr and RETRY in proc.stderr, proc.stderr
    assert "没有写入一半的内容" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_command_against_a_locked_sqlite_catalogue_says_run_it_again(
        archive_env: dict[str, str]) -> None:
    env = archive_env
    dangan(env, "init", "--admin-password", "initial-pass")
    catalogue = Path(env["DANGAN_DATA"]) / "catalogue.sqlite3"
    locked = {**env, "DANGAN_DATABASE_URL": f"sqlite:///{catalogue}?timeout=1"}
    holder = sqlite3.connect(catalogue, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        proc = dangan(locked, "user", "add", "clerk", "--password", "clerk-pass-1",
                      "--role", "staff", check=False, timeout=120)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _assert_retry_message(proc)
    with sqlite3.connect(catalogue) as db:  # nothing of it written, nothing of it audited
        assert db.execute("SELECT count(*) FROM app_user WHERE username = 'clerk'").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM audit_entry WHERE action = 'user.add'"
                          ).fetchone() == (0,)
    again = dangan_json(locked, "user", "add", "clerk", "--password", "clerk-pass-1",
                        "--role", "staff")
    assert again["username"] == "clerk"


@pytest.mark.parametrize("args", [
    ("check", "--audit"), ("user", "add", "clerk", "--password", "clerk-pass-1"),
    ("search", "合同"), ("show", "1"), ("purge",),
    ("loans", "overdue"), ("stats",), ("export", "{tmp}/out.xlsx"), ("export", "{tmp}/out.csv"),
])
def test_every_command_says_the_same_when_postgresql_is_down(
        archive_env: dict[str, str], tmp_path: Path, args: tuple[str, ...]) -> None:
    """One handler for every command, however nested (a closed port: nothing listens)."""
    env = {**archive_env, "DANGAN_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"}
    args = tuple(a.format(tmp=tmp_path) for a in args)
    _assert_retry_message(dangan(env, *args, check=False, timeout=120))
    assert not [p for p in tmp_path.iterdir() if "out." in p.name]  # no half-written export
