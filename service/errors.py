"""Errors the service layer raises; the CLI and the web turn them into messages.

Every message says what is wrong and how to fix it, in Chinese first and then English,
because archivists read the Chinese and operators grep logs in English.
"""

from __future__ import annotations


class DanganError(Exception):
    """Base class: a user-facing error with a readable message."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
