"""A tiny Flask app served by the production server (web.server.serve) in a child process,
for the tests of the server itself: which process answers, how it shares connections, what
it does at start-up and on a stop signal."""

from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from tests.served import ROOT, free_port

#: How long /slow holds its process's only thread.
SLOW_S = 4.0

#: The app: /pid (the answering process), /work (5 ms of CPU), /slow (SLOW_S asleep),
#: /frozen (how many objects its process froze out of the collector), /young (its collector's
#: threshold for the youngest objects). `{before}` runs when the module loads, before
#: `serve`; `{make_app_first}` at the start of make_app.
APP = """
import gc, os, sys, time
from flask import Flask
from web.server import serve

{before}

def make_app():
    {make_app_first}
    app = Flask("forked")
    app.config["MAX_CONTENT_LENGTH"] = 1 << 20

    @app.get("/pid")
    def pid():
        return str(os.getpid())

    @app.get("/work")
    def work():
        t = time.process_time()
        while time.process_time() - t < 0.005:
            pass
        return str(os.getpid())

    @app.get("/slow")
    def slow():
        time.sleep({slow_s})
        return str(os.getpid())

    @app.get("/frozen")
    def frozen():
        return str(gc.get_freeze_count())

    @app.get("/young")
    def young():
        return str(gc.get_threshold()[0])

    return app

serve(make_app, host="127.0.0.1", port=int(sys.argv[1]), threads=1, processes=int(sys.argv[2]))
"""


@contextlib.contextmanager
def forked_server(processes: int = 2, *, before: str = "", make_app_first: str = "pass",
                  **popen: Any) -> Iterator[tuple[subprocess.Popen, int]]:
    """The app served by `processes` processes on a free port: (the server, its port);
    stopped (SIGTERM, then killed) when the block ends."""
    port = free_port()
    source = APP.format(before=before, make_app_first=make_app_first, slow_s=SLOW_S)
    server = subprocess.Popen([sys.executable, "-c", source, str(port), str(processes)],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              start_new_session=True, **popen)
    try:
        yield server, port
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, 9)
                server.wait(10)


def get(port: int, path: str, timeout: float = 30) -> str:
    """One GET on a connection of its own; the answer's text."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def answering_processes(port: int, want: int, seconds: float = 30) -> set[str]:
    """The processes seen answering /pid, asked until `want` of them have (or time is up)."""
    seen: set[str] = set()
    deadline = time.monotonic() + seconds
    while len(seen) < want and time.monotonic() < deadline:
        try:
            seen.add(get(port, "/pid", timeout=5))
        except OSError:
            time.sleep(0.1)
    return seen
