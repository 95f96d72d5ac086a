"""Errors the service layer raises; the CLI and the web turn them into messages.

Every error carries a message id (the Chinese text, marked with ``N_``) and its parameters,
never a finished sentence: the web shows it in the user's language and the command line in
the operator's, through the Babel catalogues (see web/translations/README.md). Every
message says what is wrong and how to fix it.

    raise NotFound(N_("用户“%(name)s”不存在。"), name=username)
"""

from __future__ import annotations

from typing import Any

from indexer.messages import (  # noqa: F401 - re-exported for the service modules
    CLAUSES,
    LINES,
    N_,
    Listing,
    Message,
    Param,
    dumps,
    loads,
    msg,
)


def about(name: Param, reason: Param) -> Message:
    """"name：reason": why one file or page failed, as listed among several."""
    return Message(N_("%(name)s：%(reason)s"), {"name": name, "reason": reason})


class DanganError(Exception):
    """Base class: a user-facing error with a translatable message."""

    exit_code = 1

    def __init__(self, message: str | Message, details: dict[str, Any] | None = None,
                 **params: Param) -> None:
        self.msg = message if isinstance(message, Message) else Message(message, params)
        super().__init__(self.msg.render())
        # Structured facts behind the message (which files, which items), for a caller
        # that shows them as a list or a link; the API returns them beside "error".
        self.details: dict[str, Any] = dict(details or {})

    @property
    def message(self) -> str:
        """The message in the id's language (Chinese), for logs and tests."""
        return self.msg.render()


class InvalidInput(DanganError):
    """The caller gave a value that cannot be accepted (exit status 2 on the CLI)."""

    exit_code = 2


class NotFound(DanganError):
    """A referenced record does not exist (exit status 2 on the CLI)."""

    exit_code = 2


class Conflict(DanganError):
    """The request clashes with what is stored (a duplicate, a used code)."""

    exit_code = 2


class PermissionDenied(DanganError):
    """The user may not do or see this."""

    exit_code = 3


class BadSetting(DanganError, ValueError):
    """A setting from the environment cannot be used (a ValueError, as Python's own are)."""

    exit_code = 2


class TooManyAttempts(DanganError):
    """Too many failed sign-ins for this user name or client address: wait and retry."""

    exit_code = 4

    def __init__(self, message: str | Message, retry_after: int, **params: Param) -> None:
        super().__init__(message, None, **params)  # no details: params never fill them
        self.retry_after = retry_after
