"""A web process keeps what it built to serve out of later garbage collections
(web.server.freeze_startup_objects): a full collection walked the whole app every few
hundred searches, ~110 ms of CPU and a pause for the request being answered."""

from __future__ import annotations

import gc
import time

from tests.forked_server import answering_processes, forked_server, get
from web.app import create_app
from web.server import YOUNG_OBJECTS, freeze_startup_objects


def _full_collection_s() -> float:
    t0 = time.process_time()
    gc.collect()
    return time.process_time() - t0


def test_a_full_collection_no_longer_walks_the_app(tmp_path) -> None:
    from service.archive import Archive
    from service.config import Settings

    app = create_app(Archive(Settings.from_env({"DANGAN_DATA": str(tmp_path / "data")})))
    assert app is not None
    threshold = gc.get_threshold()
    try:
        tracked = len(gc.get_objects())
        freeze_startup_objects()
        assert gc.get_threshold()[0] == YOUNG_OBJECTS
        assert gc.get_freeze_count() >= tracked // 2
        assert len(gc.get_objects()) < tracked // 4
        frozen = min(_full_collection_s() for _ in range(3))
        gc.unfreeze()
        walked = min(_full_collection_s() for _ in range(3))
        assert frozen < walked / 2, (frozen, walked)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)



def test_every_served_process_has_frozen_its_start() -> None:
    for processes in (1, 2):
        with forked_server(processes) as (_server, port):
            assert len(answering_processes(port, processes)) == processes
            counts = {int(get(port, "/frozen")) for _ in range(8)}
            assert counts and min(counts) > 1000, counts
            assert {int(get(port, "/young")) for _ in range(8)} == {YOUNG_OBJECTS}
