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


def _sigterm_during_start_up(processes: int, before: str = "") -> int:
    """Serve with finalisers running in make_app, send SIGTERM while they run; the exit
    status (the server must end, and no stop may be lost in a finaliser)."""
    with forked_server(processes, before=SLOW_FINALISERS + before, make_app_first=START_UP,
                       stderr=subprocess.PIPE) as (server, _port):
        time.sleep(1.5)  # every process is in make_app, finalising
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            raise AssertionError("a web process served on after SIGTERM") from None
        assert b"Exception ignored" not in server.stderr.read()
        return server.returncode


def test_sigterm_during_start_up_stops_every_process() -> None:
    _sigterm_during_start_up(2)


def test_sigterm_during_start_up_stops_a_single_process_server() -> None:
    """One web process (DANGAN_WEB_PROCESSES=1) under `dangan serve`, whose SIGTERM handler
    raises SystemExit: a signal landing in a finaliser lost it and the server served on."""
    cli_handler = "import signal\nsignal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
    assert _sigterm_during_start_up(1, before=cli_handler) == 0
