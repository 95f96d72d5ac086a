"""A forked web process stops on SIGTERM whatever it is doing when the signal lands
(web.server._StopOnSignal): a handler that raised SystemExit itself lost it inside a
finaliser or a garbage collection's weakref callback ("Exception ignored"), and a process
starting up (collecting as it builds its app) served on after the stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.web.test_serve_balance import _free_port

ROOT = Path(__file__).resolve().parents[2]

SERVER = """
import sys, time
from flask import Flask
from web.server import serve

class Slow:
    def __del__(self):
        time.sleep(0.005)  # a signal delivered now is handled inside this finaliser

def make_app():
    end = time.monotonic() + 3
    while time.monotonic() < end:
        Slow()
    app = Flask("stopping")
    app.config["MAX_CONTENT_LENGTH"] = 1 << 20
    return app

serve(make_app, host="127.0.0.1", port=int(sys.argv[1]), threads=1, processes=2)
"""


def test_sigterm_during_start_up_stops_every_process() -> None:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        time.sleep(1.5)  # both processes are in make_app, finalising
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            raise AssertionError("a web process served on after SIGTERM") from None
        assert b"Exception ignored" not in server.stderr.read()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
