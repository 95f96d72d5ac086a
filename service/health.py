"""Can this process reach the parts of its archive? One probe each, for health checks.

Containers (deploy/compose.yaml) and monitoring run `dangan health`: a worker whose
catalogue, object store, queue or search engine does not answer is unhealthy. Each probe
is the cheapest call the part's own interface offers; none writes to the catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from .archive import Archive

log = logging.getLogger("dangan.health")
#: A key no object ever has (objects are named by their hash): asking for it reaches the store.
_PROBE_KEY = "health/probe"


@dataclass(frozen=True)
class PartHealth:
    part: str  # catalogue, objects, queue, search
    ok: bool
    detail: str  # what was reached, or why it failed (never a credential)


def _catalogue(archive: Archive) -> str:
    with archive.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return archive.engine.dialect.name


def _objects(archive: Archive) -> str:
    archive.store.exists(_PROBE_KEY)
    return archive.store.describe()


def _queue(archive: Archive) -> str:
    return f"{archive.queue.huey.pending_count()} task(s) waiting"


def _search(archive: Archive) -> str:
    return f"{archive.search.count_pages()} page(s) indexed"


_PROBES: tuple[tuple[str, Callable[[Archive], str]], ...] = (
    ("catalogue", _catalogue), ("objects", _objects), ("queue", _queue), ("search", _search))


def probe(archive: Archive) -> list[PartHealth]:
    """Every part, in order; a failing part does not stop the others from being probed."""
    found = []
    for part, check in _PROBES:
        try:
            found.append(PartHealth(part, True, check(archive)))
        except Exception as exc:  # noqa: BLE001 - any failure makes the part unhealthy
            log.debug("health: %s failed", part, exc_info=True)
            found.append(PartHealth(part, False, f"{type(exc).__name__}: {_first_line(exc)}"))
    return found


def _first_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip()
    return (text_.splitlines() or [""])[0][:300]
