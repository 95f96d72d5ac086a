"""Shared CLI plumbing: error handling, JSON output and the data-directory option."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.exc import SQLAlchemyError

from service.db import db_failure
from service.errors import DanganError, Listing, Message, loads
from storage import StorageError, StorageFull
from web.i18n import LANGUAGES, bilingual, render

if TYPE_CHECKING:
    from service.archive import Archive


def emit(data: Any, as_json: bool, human: Callable[[Any], str] | None = None) -> None:
    if as_json or human is None:
        click.echo(json.dumps(data, ensure_ascii=False, indent=None if as_json else 2))
    else:
        click.echo(human(data))


def say(message: Message | Listing | str | None) -> str:
    """A message for the operator: in $DANGAN_LANG when it names a language (zh_CN, en),
    else Chinese then English, as the command line has always printed (``i18n.bilingual``)."""
    if isinstance(message, str):
        message = loads(message)  # a message stored with a page or file, or plain text
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
    lines += [f"  {f['name']}: {say(f.get('reason') or f.get('code') or '')}"
              for f in exc.details.get("failed_files", [])]
    lines += [f"  {e['name']}: {e['archival_code']}  →  dangan show {e['id']}"
              for e in exc.details.get("existing", []) if e.get("id")]
    return "\n".join(lines)


def handle_errors(fn: Callable) -> Callable:
    """Turn service errors into a message on stderr and the right exit status."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
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
            fail(_infrastructure("database", kind, exc), 5)

    return wrapper


def _infrastructure(what: str, kind: str, exc: BaseException) -> str:
    """The object store or the database failed: say which and how, with the cause (the
    operator runs the CLI and needs it; stores never put secrets in their messages)."""
    zh = {("storage", "full"): "存储空间已满", ("storage", "unavailable"): "存储服务不可用",
          ("database", "full"): "数据库存储空间已满",
          ("database", "unavailable"): "数据库不可用"}[(what, kind)]
    en = {("storage", "full"): "the object store is full",
          ("storage", "unavailable"): "the object store is unavailable",
          ("database", "full"): "the database is out of space",
          ("database", "unavailable"): "the database is unavailable"}[(what, kind)]
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
    return f"{zh}，命令未完成：{cause} / {en.capitalize()}; the command did not complete: {cause}"


def set_data_dir(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        os.environ["DANGAN_DATA"] = value


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
        fail(f"档案库尚未初始化：{archive.settings.data_dir}。请先运行 `dangan init`。/ "
             f"No archive at {archive.settings.data_dir}: run `dangan init` first.", 2)
    return archive
