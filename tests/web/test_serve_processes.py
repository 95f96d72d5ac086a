"""`dangan serve` with several web processes (DANGAN_WEB_PROCESSES, #15.3): that many
processes answer on the one port, a process that dies is replaced, and SIGTERM stops them
all."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.served import CLI, ROOT, free_port


def _children(pid: int) -> set[int]:
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                out.add(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def test_several_web_processes_share_the_port_and_are_kept_running(tmp_path):
    env = {**os.environ, "DANGAN_DATA": str(tmp_path / "data"), "DANGAN_WEB_PROCESSES": "3"}
    subprocess.run([*CLI, "init", "--admin-password", "processes-pass-1"], env=env, cwd=ROOT,
                   check=True, capture_output=True, timeout=120)
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([*CLI, "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--no-workers"], env=env, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert _wait(lambda: _answers(port)), (tmp_path / "serve.log").read_text()
        assert _wait(lambda: len(_children(proc.pid)) == 3), _children(proc.pid)
        first = _children(proc.pid)
        assert all(_answers(port) for _ in range(12))
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        assert _wait(lambda: len(_children(proc.pid)) == 3 and victim not in _children(proc.pid))
        assert _answers(port)
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert _wait(lambda: not any(_alive(pid) for pid in workers), 10)
        assert not _answers(port)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()
