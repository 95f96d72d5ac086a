"""A web process keeps what it built to serve out of later garbage collections
(web.server.freeze_startup_objects): a full collection walked the whole app every few
hundred searches, ~110 ms of CPU and a pause for the request being answered."""

from __future__ import annotations

import gc
import time

from web.app import create_app
from web.server import freeze_startup_objects


def _full_collection_s() -> float:
    t0 = time.process_time()
    gc.collect()
    return time.process_time() - t0


def test_a_full_collection_no_longer_walks_the_app(tmp_path) -> None:
    from service.archive import Archive
    from service.config import Settings

    app = create_app(Archive(Settings.from_env({"DANGAN_DATA": str(tmp_path / "data")})))
    assert app is not None
    try:
        tracked = len(gc.get_objects())
        freeze_startup_objects()
        assert gc.get_freeze_count() >= tracked // 2
        assert len(gc.get_objects()) < tracked // 4
        frozen = min(_full_collection_s() for _ in range(3))
        gc.unfreeze()
        walked = min(_full_collection_s() for _ in range(3))
        assert frozen < walked / 2, (frozen, walked)
    finally:
        gc.unfreeze()


SERVER = """
import gc, os, sys
from flask import Flask
from web.server import serve

def make_app():
    app = Flask("frozen")
    app.config["MAX_CONTENT_LENGTH"] = 1 << 20

    @app.get("/frozen")
    def frozen():
        return str(gc.get_freeze_count())

    @app.get("/pid")
    def pid():
        return str(os.getpid())

    return app

serve(make_app, host="127.0.0.1", port=int(sys.argv[1]), threads=1, processes=int(sys.argv[2]))
"""


def test_every_served_process_has_frozen_its_start(tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.web.test_serve_balance import _both_processes_answer, _free_port, _get

    root = Path(__file__).resolve().parents[2]
    for processes in (1, 2):
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(processes)],
                                  cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
        try:
            if processes == 2:
                assert len(_both_processes_answer(port)) == 2
            else:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    try:
                        _get(port, "/frozen", timeout=5)
                        break
                    except OSError:
                        time.sleep(0.1)
            counts = {int(_get(port, "/frozen")) for _ in range(8)}
            assert counts and min(counts) > 1000, counts
        finally:
            server.terminate()
            server.wait(30)
