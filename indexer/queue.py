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


huey = build_huey(Settings.from_env())
