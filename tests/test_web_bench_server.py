"""bench/web_bench.py's server keeps answering however much it logs: its stderr once went to
a pipe nobody read, and once waitress's queue warnings had filled it every web process
blocked in write() and the bench's last wrk runs got no answer at all (#15.3)."""

from __future__ import annotations

import sys
import threading
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


@pytest.mark.timeout(300)
def test_the_bench_server_answers_after_logging_more_than_a_pipe_holds(
        archive, archive_env, monkeypatch) -> None:
    import web_bench

    from service.db import dispose_all

    dispose_all()  # the server opens the catalogue itself
    # one thread a process: every request that waits logs "Task queue depth is N" (~45 bytes)
    monkeypatch.setenv("DANGAN_WEB_THREADS", "1")
    server = web_bench.Server(Path(archive_env["DANGAN_DATA"]), processes=1)
    failures: list[BaseException] = []

    def client() -> None:
        try:
            for _ in range(60):
                urllib.request.urlopen(server.base + "/login", timeout=20).read()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)

    try:
        clients = [threading.Thread(target=client) for _ in range(40)]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        assert failures == [], failures[:3]
        urllib.request.urlopen(server.base + "/login", timeout=20).read()
    finally:
        server.stop()
