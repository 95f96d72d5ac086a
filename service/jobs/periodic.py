"""Periodic jobs (reconcile, purge) once per period, however many workers run them.

Every worker's scheduler queues the periodic tasks, so with N machines each period's task
arrives N times. The first worker to move the job's row in the catalogue (shared by every
worker, whatever the queue) to the current period runs it; the others find the period
taken and skip. Nothing is held while the job runs, so a worker killed mid-run blocks
nothing: the next period is claimed afresh. A period differing from the last one claims,
not only a later one, so that a machine whose clock ran far ahead cannot block the others
until their clocks catch up.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..models import PeriodicRun
from .lease import worker_id

if TYPE_CHECKING:
    from ..archive import Archive

log = logging.getLogger(__name__)


def claim_period(archive: Archive, name: str, period: float) -> bool:
    """True when this worker is the one to run ``name`` in the current period (``period``
    seconds long, counted from the epoch so that every machine agrees on the periods)."""
    now, me = clock.now(), worker_id()
    slot = int(now.timestamp() // period)
    with archive.session() as s:
        moved = s.execute(update(PeriodicRun)
                          .where(PeriodicRun.name == name, PeriodicRun.slot != slot)
                          .values(slot=slot, ran_at=now, worker=me)
                          .execution_options(synchronize_session=False))
        if cast("CursorResult[Any]", moved).rowcount == 1:
            log.info("%s: period %s claimed by %s", name, slot, me)
            return True
        if s.get(PeriodicRun, name) is not None:
            return False
    try:  # the job's first run ever: a concurrent first run loses on the primary key
        with archive.session() as s:
            s.add(PeriodicRun(name=name, slot=slot, ran_at=now, worker=me))
    except IntegrityError:
        return False
    log.info("%s: period %s claimed by %s", name, slot, me)
    return True
