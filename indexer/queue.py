"""The job queue: Huey on a local SQLite file (embedded) or on Redis (production).

Huey is the queue library; we only pick its storage from DANGAN_QUEUE_URL. The module-level
`huey` object is what task decorators and consumers share. Both storages honour task
priorities (SQLite orders by priority; Redis uses Huey's priority storage), which the
page tasks use so that one huge upload cannot starve a small one.
"""

from __future__ import annotations

from huey import Huey, PriorityRedisHuey, SqliteHuey

from service.config import Settings


def build_huey(settings: Settings) -> Huey:
    url = settings.queue_url
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        from pathlib import Path

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(settings.queue_name, filename=path, results=False, timeout=60)
    if url.startswith(("redis://", "rediss://", "unix://")):
        # The priority storage (a sorted set, Redis >= 5): page tasks carry priorities.
        return PriorityRedisHuey(settings.queue_name, url=url, results=False)
    if url == "immediate":
        return Huey(settings.queue_name, immediate=True, results=False)
    raise ValueError(f"DANGAN_QUEUE_URL must be sqlite:///path or redis://host:port/db, got {url!r}")


def drop_unprioritised_queue(h: Huey) -> bool:
    """Remove a Redis queue left as a plain list by an earlier version (before priorities).

    The priority storage keeps the queue as a sorted set under the same key, so an old list
    would make every dequeue fail with WRONGTYPE. Its page tasks are not lost: the worker's
    start-up reconcile queues every pending page again. Returns True when one was removed.
    """
    storage = h.storage
    if not isinstance(h, PriorityRedisHuey):
        return False
    if storage.conn.type(storage.queue_key) in (b"list", "list"):
        storage.conn.delete(storage.queue_key)
        return True
    return False


huey = build_huey(Settings.from_env())
