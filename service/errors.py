"""Errors the service layer raises; the CLI and the web turn them into messages.

Every message says what is wrong and how to fix it, in Chinese first and then English,
because archivists read the Chinese and operators grep logs in English.
"""

from __future__ import annotations

from typing import Any


class DanganError(Exception):
    """Base class: a user-facing error with a readable message."""

    exit_code = 1

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Structured facts behind the message (which files, which items), for a caller
        # that shows them as a list or a link; the API returns them beside "error".
        self.details: dict[str, Any] = dict(details or {})


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


class TooManyAttempts(DanganError):
    """Too many failed sign-ins for this user name or client address: wait and retry."""

    exit_code = 4

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
