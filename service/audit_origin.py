"""From where an audited action comes: one context variable, set where a request or a
process starts, read by service.audit.record. Kept tiny (no catalogue imports) so the
command line can set it before anything else loads.

Values: the client's address on the web and the API (``203.0.113.7``; behind a reverse
proxy the address its ``X-Forwarded-For`` gives, as ``DANGAN_PROXY_HOPS`` trusts),
``cli:user@host`` for a command, ``worker:host`` for the background workers.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

MAX_ORIGIN = 200

_origin: ContextVar[str | None] = ContextVar("dangan_audit_origin", default=None)


def cli_origin() -> str:
    """``cli:user@host``: the operating-system account and machine a command ran from."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        who = "?"
    return f"cli:{who}@{socket.gethostname()}"


def worker_origin() -> str:
    return f"worker:{socket.gethostname()}"


def set_origin(value: str | None) -> Token[str | None]:
    """Set where what follows comes from (in this thread or task); returns the token
    `reset_origin` takes."""
    return _origin.set(value[:MAX_ORIGIN] if value else None)


def reset_origin(token: Token[str | None]) -> None:
    _origin.reset(token)


def current_origin() -> str | None:
    return _origin.get()


@contextmanager
def origin(value: str | None) -> Iterator[None]:
    token = set_origin(value)
    try:
        yield
    finally:
        reset_origin(token)
