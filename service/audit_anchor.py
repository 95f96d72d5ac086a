"""The audit chain's anchor: its position, kept in the object store, where the database
alone cannot rewrite it.

After a transaction that appended audit entries commits (service.audit), the position of
its newest entry (entry count, id, hash) is written as a new object
``audit/anchors/<count, 20 digits>.json``, created only if absent (`put_if_absent`) and
never overwritten. The anchor is the object with the highest count, so it only moves
forward, whatever order concurrent writers finish in, across processes and hosts, with no
lock and no read before the write: at most one small PUT per committing transaction.
The write is done by a thread of the process (`submit_anchor`) within GATHER_S (a quarter of a
second) of the commit, so a request does not wait for the store; every commit of that time is
covered by the one write (one object for many commits under load). A command waits for
it before it exits (`flush_anchors`, at exit), `check --audit` before it compares. Old
anchor objects are pruned now and then (the newest `KEEP` stay).

What a crash between the commit and the anchor write can hide: the entries committed since
the last anchor write (those of the transactions whose anchor write was lost: in a process
killed in the quarter of a second between its commit and its anchor thread's write, or a
worker process, which exits without running exit handlers) are covered by nothing outside
the database until the next audited commit, from any process, anchors a later position.
Until then, someone able to rewrite the database could remove exactly those newest entries
(and set the head to match) unseen; ``dangan check --audit`` shows how many entries are
newer than the anchor (``unanchored``). It cannot hide anything older: every entry up to
the anchor stays provable, and an entry altered, inserted or removed among them shows. The
window is the last few transactions of a crashed process, closed by the next audited action
anywhere (a sign-in, a view); `dangan init` anchors the chain as it stands. An unreachable
store is the same case: the work is committed, the failure logged, the next commit anchors.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from storage import ObjectStore

log = logging.getLogger("dangan.audit")

PREFIX = "audit/anchors/"
#: Anchor objects kept when pruning (older ones prove nothing the newest does not).
KEEP = 16
#: Prune after every this many entries anchored (counted by the anchored position).
PRUNE_EVERY = 256
_DIGITS = 20


@dataclass(frozen=True)
class Anchor:
    """A position in the chain: ``entries`` entries in all, the newest being ``id`` with
    ``hash``."""

    entries: int
    id: int
    hash: str


def anchor_key(entries: int) -> str:
    return f"{PREFIX}{entries:0{_DIGITS}d}.json"


def _encode(anchor: Anchor) -> bytes:
    return json.dumps({"entries": anchor.entries, "id": anchor.id, "hash": anchor.hash,
                       "written_at": datetime.now(UTC).isoformat(timespec="seconds")},
                      sort_keys=True).encode()


def _decode(key: str, data: bytes) -> Anchor:
    raw = json.loads(data)
    anchor = Anchor(entries=int(raw["entries"]), id=int(raw["id"]), hash=str(raw["hash"]))
    if anchor_key(anchor.entries) != key:
        raise ValueError(f"audit anchor {key} names {anchor.entries} entries")
    return anchor


def _anchor_keys(store: ObjectStore) -> list[str]:
    return sorted(k.key for k in store.list_keys(PREFIX)
                  if k.key.endswith(".json") and len(k.key) == len(anchor_key(0)))


def latest_anchor(store: ObjectStore) -> Anchor | None:
    """The anchor: the furthest position written, or None when none ever was. A damaged
    anchor object raises ValueError (it is reported, never skipped)."""
    keys = _anchor_keys(store)
    if not keys:
        return None
    return _decode(keys[-1], store.read_bytes(keys[-1]))


class _Progress:
    """What this process has anchored per store, so writers in it coalesce: while one
    writes, the others wait, then find their entry covered and write nothing."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.anchored: dict[str, int] = {}
        self.pending: dict[str, Anchor] = {}
        self.pruned: dict[str, int] = {}
        self.guard = threading.Lock()


_progress = _Progress()


def advance_anchor(store: ObjectStore, anchor: Anchor) -> bool:
    """Anchor the chain at least as far as `anchor`; True when an anchor object was written
    (by this call). Safe between threads, processes and hosts: each position is its own
    object, created once."""
    where = store.describe()
    p = _progress
    with p.guard:
        if p.anchored.get(where, -1) >= anchor.entries:
            return False
        best = p.pending.get(where)
        if best is None or best.entries < anchor.entries:
            p.pending[where] = anchor
    with p.lock:
        with p.guard:
            if p.anchored.get(where, -1) >= anchor.entries:
                return False
            target = p.pending.pop(where, anchor)
        store.put_if_absent(anchor_key(target.entries), _encode(target),
                            content_type="application/json")
        with p.guard:
            p.anchored[where] = max(p.anchored.get(where, -1), target.entries)
            due = target.entries - p.pruned.get(where, -PRUNE_EVERY) >= PRUNE_EVERY
            if due:
                p.pruned[where] = target.entries
    if due:
        prune(store)
    return True


#: How long the anchor thread gathers commits before it writes: every commit in that time
#: shares one anchor object. A local write costs ~1.6 ms of CPU (two fsyncs, a link), more
#: than the rest of a search's audit entry, so one a search was a seventh of the search
#: page's CPU. The gathering widens the crash window above by as much.
GATHER_S = 0.25


class _Background:
    """One thread per process and store that writes the anchor after commits, so a request
    does not wait for the store (a local write is two fsyncs, an S3 one a round trip). It
    gathers the commits of GATHER_S (less when someone flushes), then writes the furthest
    position submitted: under load, many commits, one object."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.cv = threading.Condition()
        self.pending: Anchor | None = None
        self.busy = False
        self.flushing = 0
        threading.Thread(target=self._run, name="dangan-audit-anchor", daemon=True).start()

    def submit(self, anchor: Anchor) -> None:
        with self.cv:
            if self.pending is None or anchor.entries > self.pending.entries:
                self.pending = anchor
            self.cv.notify_all()

    def _take(self) -> Anchor:
        """The furthest position submitted, once GATHER_S has passed since the first of
        them or a flush is waiting."""
        with self.cv:
            while self.pending is None:
                self.cv.wait()
            self.busy = True
            deadline = time.monotonic() + GATHER_S
            while not self.flushing and (left := deadline - time.monotonic()) > 0:
                self.cv.wait(left)
            anchor, self.pending = self.pending, None
            assert anchor is not None  # only this thread takes it
            return anchor

    def _run(self) -> None:
        while True:
            anchor = self._take()
            try:
                advance_anchor(self.store, anchor)
            except Exception:  # noqa: BLE001 - the next commit's anchor covers these entries
                log.warning("the audit chain's anchor could not be moved to entry %s (%s "
                            "entries); the next audited commit will", anchor.id, anchor.entries,
                            exc_info=True)
            finally:
                with self.cv:
                    self.busy = False
                    self.cv.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until what was submitted is written, without waiting out the gathering."""
        with self.cv:
            self.flushing += 1
            self.cv.notify_all()
            try:
                return self.cv.wait_for(lambda: self.pending is None and not self.busy, timeout)
            finally:
                self.flushing -= 1


_background: dict[tuple[int, str], _Background] = {}
_background_lock = threading.Lock()


def submit_anchor(store: ObjectStore, anchor: Anchor) -> None:
    """Have the chain anchored at least as far as `anchor` shortly (this process's anchor
    thread writes it; `flush_anchors` waits for it)."""
    key = (os.getpid(), store.describe())
    with _background_lock:
        worker = _background.get(key)
        if worker is None:  # first use in this process (a forked worker has no thread yet)
            worker = _background[key] = _Background(store)
    worker.submit(anchor)


def _after_fork() -> None:
    """A forked worker starts with fresh locks (one held by the parent's anchor thread at the
    fork would never be released in the child) and no anchor thread of its own yet."""
    global _progress, _background_lock
    _progress = _Progress()
    _background_lock = threading.Lock()
    _background.clear()


os.register_at_fork(after_in_child=_after_fork)


@atexit.register
def flush_anchors(timeout: float = 10.0) -> bool:
    """Wait until every anchor this process submitted is written (a command's before it
    exits, `check --audit` before it compares); False if one is still pending."""
    pid = os.getpid()
    with _background_lock:
        workers = [w for (p, _), w in _background.items() if p == pid]
    return all(w.flush(timeout) for w in workers)


def prune(store: ObjectStore, keep: int | None = None) -> int:
    """Remove all but the newest `keep` (`KEEP`) anchor objects; returns how many went."""
    keep = KEEP if keep is None else keep
    keys = _anchor_keys(store)
    old = keys[:-keep] if keep else keys
    for key in old:
        try:
            store.delete(key)
        except Exception:  # noqa: BLE001 - pruning is housekeeping; the next run retries
            log.warning("could not prune audit anchor %s", key, exc_info=True)
    return len(old)
