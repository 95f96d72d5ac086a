"""Several web processes on one port (web.server.serve): a process whose threads are all busy
leaves new connections to a free one, so no client waits behind a long request while another
process sits idle and kept-alive connections spread evenly; and when every process is busy for
good (kept-alive clients that never pause), a new client is still taken at once."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SLOW_S = 4.0

SERVER = f"""
import os, sys, time
from flask import Flask
from web.server import serve

def make_app():
    app = Flask("balance")
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
        time.sleep({SLOW_S})
        return str(os.getpid())

    return app

serve(make_app, host="127.0.0.1", port=int(sys.argv[1]), threads=1, processes=2)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, timeout: float = 30) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def _both_processes_answer(port: int, seconds: float = 30) -> set[str]:
    seen: set[str] = set()
    deadline = time.monotonic() + seconds
    while len(seen) < 2 and time.monotonic() < deadline:
        try:
            seen.add(_get(port, "/pid", timeout=5))
        except OSError:
            time.sleep(0.1)
    return seen


def test_a_busy_process_leaves_new_connections_to_a_free_one() -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=ROOT, env=env)
    try:
        assert len(_both_processes_answer(port)) == 2, "two processes never both answered"
        slow_pid: list[str] = []
        slow = threading.Thread(target=lambda: slow_pid.append(_get(port, "/slow")))
        slow.start()
        time.sleep(0.5)  # the slow request is in one process's only thread

        answers: list[tuple[str, float]] = []
        lock = threading.Lock()

        def quick() -> None:
            t0 = time.monotonic()
            pid = _get(port, "/pid")
            with lock:
                answers.append((pid, time.monotonic() - t0))

        clients = [threading.Thread(target=quick) for _ in range(8)]
        for c in clients:
            c.start()
        for c in clients:
            c.join(30)
        slow.join(30)
        assert slow_pid and len(answers) == 8
        waited = [round(s, 2) for _pid, s in answers if s > SLOW_S / 2]
        assert not waited, f"new connections waited behind the slow request: {waited} s"
        assert slow_pid[0] not in {pid for pid, _s in answers}
    finally:
        server.terminate()
        server.wait(30)


def test_a_new_client_is_taken_while_kept_alive_clients_keep_every_process_busy() -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=ROOT, env=env)
    stop = threading.Event()
    load: list[threading.Thread] = []

    def hammer() -> None:  # one kept-alive connection, never idle
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while not stop.is_set():
                conn.request("GET", "/work")
                conn.getresponse().read()
        finally:
            conn.close()

    try:
        assert len(_both_processes_answer(port)) == 2, "two processes never both answered"
        load.extend(threading.Thread(target=hammer) for _ in range(8))
        for t in load:
            t.start()
        time.sleep(1.0)  # every process has kept-alive clients queued behind its thread
        waits = []
        for _ in range(5):
            t0 = time.monotonic()
            _get(port, "/pid", timeout=30)
            waits.append(round(time.monotonic() - t0, 3))
        assert max(waits) < 1.0, f"a new client waited while the load went on: {waits} s"
    finally:
        stop.set()
        for t in load:
            t.join(30)
        server.terminate()
        server.wait(30)
