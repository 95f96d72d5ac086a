"""A forked web process stops on SIGTERM whatever it is doing when the signal lands
(web.server._StopOnSignal): a handler that raised SystemExit itself lost it inside a
finaliser or a garbage collection's weakref callback ("Exception ignored"), and a process
starting up (collecting as it builds its app) served on after the stop."""

from __future__ import annotations

import signal
import subprocess
import time

from tests.forked_server import forked_server

#: make_app spends 3 s in finalisers: a signal delivered then is handled inside one.
SLOW_FINALISERS = """
class Slow:
    def __del__(self):
        time.sleep(0.005)
"""
START_UP = """end = time.monotonic() + 3
    while time.monotonic() < end:
        Slow()"""


def test_sigterm_during_start_up_stops_every_process() -> None:
    with forked_server(2, before=SLOW_FINALISERS, make_app_first=START_UP,
                       stderr=subprocess.PIPE) as (server, _port):
        time.sleep(1.5)  # both processes are in make_app, finalising
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            raise AssertionError("a web process served on after SIGTERM") from None
        assert b"Exception ignored" not in server.stderr.read()


def test_sigterm_during_start_up_stops_a_single_process_server() -> None:
    """One web process (DANGAN_WEB_PROCESSES=1) under `dangan serve`, whose SIGTERM handler
    raises SystemExit: a signal landing in a finaliser lost it and the server served on."""
    cli_handler = "import signal\nsignal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
    with forked_server(1, before=SLOW_FINALISERS + cli_handler, make_app_first=START_UP,
                       stderr=subprocess.PIPE) as (server, _port):
        time.sleep(1.5)  # make_app is finalising
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            raise AssertionError("the web process served on after SIGTERM") from None
        assert b"Exception ignored" not in server.stderr.read()
        assert server.returncode == 0
