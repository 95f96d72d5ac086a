"""Shared CLI plumbing: error handling, JSON output and the data-directory option."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.exc import SQLAlchemyError

from service.db import db_failure
from service.errors import N_, DanganError, Listing, Message, loads, msg
from storage import StorageError, StorageFull
from web.i18n import LANGUAGES, bilingual, render

if TYPE_CHECKING:
    from service.archive import Archive


def said(value: Any) -> Any:
    """``value`` with every message inside (a failed file's reason) as ``say`` prints it."""
    if isinstance(value, Message | Listing):
        return say(value)
    if isinstance(value, dict):
        return {k: said(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [said(v) for v in value]
    return value


def emit(data: Any, as_json: bool, human: Callable[[Any], str] | None = None) -> None:
    data = said(data)
    if as_json or human is None:
        click.echo(json.dumps(data, ensure_ascii=False, indent=None if as_json else 2))
    else:
        click.echo(human(data))


def say(message: Message | Listing | str | None) -> str:
    """A message for the operator: in $DANGAN_LANG when it names a language (zh_CN, en),
    else Chinese then English, as the command line has always printed (``i18n.bilingual``).
    Plain text (a name, text stored before messages had ids) is printed as it is."""
    if isinstance(message, str):
        message = loads(message)
    if message is None or isinstance(message, str):
        return message or ""
    language = os.environ.get("DANGAN_LANG", "")
    return render(message, language) if language in LANGUAGES else bilingual(message)


def fail(message: Message | Listing | str, code: int = 2) -> None:
    click.echo(f"错误 / error: {say(message)}", err=True)
    sys.exit(code)


def _with_files(exc: DanganError) -> str:
    """The message, then one line per file the error lists: why each file is unreadable, or
    the command that opens the item already holding it."""
    lines = [say(exc.msg)]
    lines += [f"  {f['name']}: {say(f.get('reason') or f.get('code'))}"
              for f in exc.details.get("failed_files", [])]
    lines += [f"  {e['name']}: {e['archival_code']}  →  dangan show {e['id']}"
              for e in exc.details.get("existing", []) if e.get("id")]
    return "\n".join(lines)


#: Exit status when the database could not be reached or stayed locked past its busy timeout
#: (sysexits' EX_TEMPFAIL): nothing was half-written, the same command may simply be run again.
EXIT_DB_UNAVAILABLE = 75


@contextlib.contextmanager
def errors_handled() -> Iterator[None]:
    """Service errors as a message on stderr and the right exit status: the one handler of
    every command (`DanganGroup`)."""
    try:
        yield
    except DanganError as exc:
        fail(_with_files(exc), exc.exit_code)
    except ValueError as exc:
        fail(str(exc), 2)
    except StorageError as exc:
        fail(_infrastructure("storage", "full" if isinstance(exc, StorageFull) else
                             "unavailable", exc), 5)
    except SQLAlchemyError as exc:
        kind = db_failure(exc)
        if kind is None:
            raise
        if kind == "unavailable":  # down, unreachable, or locked by another writer
            fail(msg(_DB_UNAVAILABLE, cause=_cause(exc)), EXIT_DB_UNAVAILABLE)
        fail(_infrastructure("database", kind, exc), 5)


class DanganGroup(click.Group):
    """The `dangan` group: every command it runs, however deeply nested, runs inside
    `errors_handled`, so no command needs (or can forget) a handler of its own."""

    def invoke(self, ctx: click.Context) -> Any:
        with errors_handled():
            return super().invoke(ctx)


#: Every catalogue write is one transaction, rolled back whole when the database fails, and
#: an audit entry is written in the transaction of what it records: what the command had
#: finished stays finished, the step it was on left no trace.
_DB_UNAVAILABLE = N_("数据库暂时无法使用（无法连接，或被其他程序长时间锁定）：%(cause)s。"
                     "正在进行的操作已整体撤销，没有写入一半的内容；请稍后重新运行此命令。")
_FAILURES = {("storage", "full"): N_("存储空间已满，命令未完成：%(cause)s"),
             ("storage", "unavailable"): N_("存储服务不可用，命令未完成：%(cause)s"),
             ("database", "full"): N_("数据库存储空间已满，命令未完成：%(cause)s")}


def _cause(exc: BaseException) -> str:
    """The failure's first line, for the operator (stores and drivers put no secrets there)."""
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]


def _infrastructure(what: str, kind: str, exc: BaseException) -> Message:
    """The object store or the database failed: say which and how, with the cause (the
    operator runs the CLI and needs it)."""
    return msg(_FAILURES[(what, kind)], cause=_cause(exc))


def set_data_dir(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        os.environ["DANGAN_DATA"] = value


#: The search filters, shared by `dangan search` and `dangan export` (the service's
#: parse_search_params reads them): one list, so the two commands never drift apart.
_FILTERS: tuple[tuple[str, str | None], ...] = (
    ("--fonds", None), ("--category", None),
    ("--year", "One year, or use --year-from/--year-to."), ("--year-from", None),
    ("--year-to", None), ("--retention", None), ("--secrecy", None), ("--customer", None),
    ("--box", None), ("--location", None), ("--status", None),
)


def search_filter_options(fn: Callable) -> Callable:
    """Add the search filters (``--fonds`` ... ``--status``) as keyword arguments of ``fn``."""
    for flag, help_text in reversed(_FILTERS):
        fn = click.option(flag, default=None, help=help_text)(fn)
    return fn


data_option = click.option("--data", metavar="DIR", expose_value=False, is_eager=True,
                           callback=set_data_dir,
                           help="Data directory (default $DANGAN_DATA or ./dangan-data).")


def archive_ready() -> Archive:
    """The Archive, after checking that `dangan init` has been run."""
    from service.archive import Archive

    archive = Archive()
    if archive.engine.dialect.name == "sqlite" and not (
            archive.settings.data_dir / "catalogue.sqlite3").exists() and \
            "DANGAN_DATABASE_URL" not in os.environ:
        fail(msg(N_("档案库尚未初始化：%(dir)s。请先运行 `dangan init`。"),
                 dir=str(archive.settings.data_dir)), 2)
    return archive
