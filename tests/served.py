"""A real `dangan serve` in a subprocess, for the tests that talk to it over HTTP (the
browser tests and the waitress upload cap): initialised in its own data directory, on a free
port, stopped (and its process group killed if need be) when the test module is done."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "cli"]


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
