"""The page tasks an archive's real job queue holds, seen as a list of page ids.

Tests that run pages themselves (no worker) read what ingest and repairs queued straight
from the archive's queue: `len`, iteration and `pop(0)` (which takes the task off the queue,
highest priority first) behave like the list of queued page ids.
"""

from __future__ import annotations

from collections.abc import Iterator


class QueuedPages:
    def __init__(self, archive) -> None:
        self.huey = archive.queue.huey
        self.huey.flush()  # start empty: an earlier test's pages are not this test's

    def _ids(self) -> list[int]:
        return [task.args[0] for task in self.huey.pending()]

    def __len__(self) -> int:
        return len(self._ids())

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids())

    def pop(self, index: int = 0) -> int:
        """Take the next page task off the queue (the index is always the head)."""
        assert index == 0, "the queue only hands out its head"
        task = self.huey.dequeue()
        assert task is not None, "no page is queued"
        return task.args[0]
