"""The archive's one clock: loan periods, viewing grants, deletion holds and retention are
measured against it, so tests move time forward instead of sleeping.

`now()` is the current time in UTC; a test swaps the clock with `use_clock` (a context
manager) or `set_clock`, and every rule that reads the time sees the same instant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def _system_clock() -> datetime:
    return datetime.now(UTC)


_clock: Clock = _system_clock


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return _clock()


def set_clock(clock: Clock | None) -> None:
    """Replace the clock (None puts the system clock back)."""
    global _clock
    _clock = clock or _system_clock


@contextmanager
def use_clock(clock: Clock) -> Iterator[None]:
    """Run a block under another clock, for tests of time limits."""
    previous = _clock
    set_clock(clock)
    try:
        yield
    finally:
        set_clock(previous)


def aware(at: datetime) -> datetime:
    """A stored time read back by SQLite comes without its zone; it was written in UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
