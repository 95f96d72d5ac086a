"""A real `dangan serve` in a subprocess, for the tests that talk to it over HTTP (the
browser tests and the waitress upload cap): initialised in its own data directory, on a free
port, stopped (and its process group killed if need be) when the test module is done.

Or the web app served in a thread of the test's own process (`serve_app`), where a test must
move the archive's one clock (`MovableClock`) that the server reads."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "cli"]


def dangan(data: Path, *args: str, timeout: float = 300) -> str:
    """Run a `dangan` command on the archive in DATA; its standard output (it must succeed)."""
    env = {**os.environ, "DANGAN_DATA": str(data), "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run([*CLI, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dangan_serve(data: Path, password: str, env: dict[str, str] | None = None,
                 serve_args: tuple[str, ...] = ()) -> Iterator[int]:
    """Run `dangan init` then `dangan serve` on DATA; yields the port once it accepts."""
    env = {**os.environ, "DANGAN_DATA": str(data), **(env or {})}
    subprocess.run([*CLI, "init", "--admin-password", password], env=env, cwd=ROOT,
                   check=True, capture_output=True, timeout=120)
    port = free_port()
    with open(data / "serve.log", "wb") as log:
        proc = subprocess.Popen([*CLI, "serve", "--host", "127.0.0.1", "--port", str(port),
                                 *serve_args], env=env, cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError((data / "serve.log").read_text()) from None
                    time.sleep(0.2)
            yield port
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@contextlib.contextmanager
def served_archive(data: Path, password: str, workers: int = 0) -> Iterator[dict[str, Any]]:
    """`dangan serve` of the archive in DATA (initialised if new) with WORKERS OCR workers of
    one thread each, or none; yields {"base": its URL, "data": DATA}."""
    env = {"DANGAN_WORKERS": str(workers), "OMP_THREAD_LIMIT": "1"}
    with dangan_serve(data, password, env if workers else None,
                      () if workers else ("--no-workers",)) as port:
        yield {"base": f"http://127.0.0.1:{port}", "data": data}


class MovableClock:
    """A clock for `service.clock`: START (the system's time when None) plus an offset the
    test moves forward, so rules that wait days or hours are reached at once."""

    def __init__(self, start: datetime | None = None) -> None:
        self.start = start
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return (self.start or datetime.now(UTC)) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@contextlib.contextmanager
def serve_app(app: WSGIApplication, *, threaded: bool) -> Iterator[str]:
    """Serve the WSGI APP from a thread of this process (werkzeug); yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=threaded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
