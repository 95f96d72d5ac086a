"""The object store failing in the middle of an upload (#15.5).

- Disk full: the local store's directory is a 1 MiB tmpfs, mounted in a user and mount
  namespace of its own (`unshare --user --map-root-user --mount`, no root needed); every
  `dangan` command of the test runs in that namespace (`nsenter`). The kernel's own ENOSPC.
- S3 server stopped and restarted: moto's server in a subprocess, SIGKILLed while an
  upload's multipart parts arrive, then started again on the same port with its state
  replayed from moto's request recorder (what a real server keeps on its disk), unfinished
  upload included.

Each ends with the upload reported failed in Chinese (exit status 5), nothing registered,
the same upload retried registering normally, `dangan check` clean and, once the grace
has passed, no orphan and no unfinished upload left. (The web's answers to a full or
unreachable store, 507 and 503: tests/web/test_web_failures.py.)
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelp import INGEST, ROOT, dangan, dangan_json
from faulthelp import assert_consistent, catalogue_count, wait_for
from PIL import Image
from scanfactory import render_page, write_png

from service.archive import Archive
from service.checks import check_orphans
from service.config import Settings
from service.db import dispose_all


def _noise_scan(path: Path, side: int) -> Path:
    """A one-page grey scan that does not compress: `side`² bytes of noise."""
    Image.frombytes("L", (side, side), os.urandom(side * side)).save(path, "TIFF", dpi=(300, 300))
    return path


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """A 1 MiB tmpfs at DIR in a namespace of its own; yields DIR and the command prefix
    that runs a program in that namespace."""
    if not (shutil.which("unshare") and shutil.which("nsenter")):
        pytest.skip("unshare/nsenter (util-linux) not installed")
    where = tmp_path / "data" / "objects"
    where.mkdir(parents=True)
    holder = subprocess.Popen(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
         'mount -t tmpfs -o size=1m dangan-tiny "$1" && echo mounted && exec sleep 900', "sh",
         str(where)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    if holder.stdout.readline().strip() != "mounted":
        holder.kill()
        pytest.skip(f"no user and mount namespace here: {holder.communicate()[1].strip()}")
    try:
        yield where, ["nsenter", "--target", str(holder.pid), "--user", "--mount",
                      "--preserve-credentials"]
    finally:
        holder.kill()
        holder.wait(10)


def test_disk_full_mid_upload_then_space_freed(archive_env: dict[str, str], tiny_disk,
                                              tmp_path: Path) -> None:
    where, inside = tiny_disk
    env, data = archive_env, Path(archive_env["DANGAN_DATA"])

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*inside, sys.executable, "-m", "cli", *args], cwd=ROOT,
                              env={**os.environ, **env}, capture_output=True, text=True,
                              timeout=240)

    def report(*args: str) -> dict:
        proc = run("check", *args, "--json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads(proc.stdout)

    assert run("init", "--admin-password", "initial-pass").returncode == 0
    small = write_png(tmp_path / "receipt.png", render_page(["收据", "今收到货款"], size=(500, 300)))
    assert run("ingest", str(small), *INGEST, "--title", "收据").returncode == 0
    big = _noise_scan(tmp_path / "volume.tif", 1400)  # 1.9 MiB on a 1 MiB disk

    proc = run("ingest", str(big), *INGEST, "--title", "卷宗扫描", "--json")
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert "存储空间已满，命令未完成" in proc.stderr and proc.stdout == ""
    assert catalogue_count(data, "archive_item") == 1  # the receipt alone
    swept = report("--orphans")["orphans"]
    assert swept["orphans"] == [] and swept["leftovers"] == []  # its partial file removed

    grown = subprocess.run([*inside, "mount", "-o", "remount,size=16m", str(where)],
                           capture_output=True, text=True)
    assert grown.returncode == 0, grown.stderr  # the administrator makes room
    proc = run("ingest", str(big), *INGEST, "--title", "卷宗扫描", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["archival_code"] == "J001-HT·2024-D30-0002"
    first = report("--fixity", "--index", "--audit", "--orphans", "--delete", "--grace", "0")
    assert first["fixity"]["bad"] == [] and first["audit"]["problems"] == 0
    assert first["orphans"]["orphans"] == [] and first["orphans"]["leftovers"] == []
    assert report("--fixity")["fixity"] == {"checked": 2, "bad": []}  # nothing swept wrongly


class MotoProcess:
    """moto's S3 server in a subprocess on a fixed port, recording every request it is sent
    so that a restart can replay them (its "disk"); `lines` receives its request log."""

    def __init__(self, tmp_path: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.recording = tmp_path / "moto-requests.jsonl"
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str] = queue.Queue()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, replay: bool = False) -> None:
        env = {**os.environ, "MOTO_ENABLE_RECORDING": "1",
               "MOTO_RECORDER_FILEPATH": str(self.recording)}
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                      "-p", str(self.port)], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        wait_for(self._answers, "moto's server to answer", timeout=60, poll=0.1)
        if replay:
            self._drop_torn_entry()
            try:
                urllib.request.urlopen(urllib.request.Request(  # noqa: S310 - our own server
                    f"http://{self.endpoint}/moto-api/recorder/replay-recording",
                    method="POST"), timeout=120).read()
            except urllib.error.HTTPError as exc:
                log = [self.lines.get() for _ in range(self.lines.qsize())]
                raise AssertionError(f"replay failed: {exc}\n{''.join(log[-40:])}") from exc

    def _drop_torn_entry(self) -> None:
        """The request being written to the recording when the server was killed is lost,
        as an unsynced write is on a real server's disk: only whole entries are replayed."""
        entries = self.recording.read_bytes().split(b"\n")
        whole = []
        for entry in entries:
            try:
                json.loads(entry)
            except ValueError:
                continue
            whole.append(entry + b"\n")
        self.recording.write_bytes(b"".join(whole))

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.put(line)

    def _answers(self) -> bool:
        assert self.proc is not None
        assert self.proc.poll() is None, "moto's server exited"
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def moto_process(tmp_path: Path) -> Iterator[MotoProcess]:
    server = MotoProcess(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.mark.slow
def test_s3_server_killed_mid_upload_and_restarted(archive_env: dict[str, str],
                                                   moto_process: MotoProcess,
                                                   tmp_path: Path) -> None:
    server = moto_process
    env = {**archive_env, "DANGAN_STORAGE_URL":
           f"s3://test-key:test-secret@{server.endpoint}/faults?secure=false&part_size=5242880"}
    data = Path(env["DANGAN_DATA"])
    dangan(env, "init", "--admin-password", "initial-pass")
    small = write_png(tmp_path / "receipt.png", render_page(["收据", "今收到货款"], size=(500, 300)))
    dangan(env, "ingest", str(small), *INGEST, "--title", "收据")  # stored before the fault
    big = _noise_scan(tmp_path / "volume.tif", 5000)  # 24 MiB: five parts of 5 MiB

    upload = subprocess.Popen([sys.executable, "-m", "cli", "ingest", str(big), *INGEST,
                               "--title", "卷宗扫描", "--json"], cwd=ROOT,
                              env={**os.environ, **env}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        while "partNumber=" not in server.lines.get(timeout=120):  # a part has arrived
            assert upload.poll() is None, upload.communicate()
        server.kill()
        out, err = upload.communicate(timeout=180)
    finally:
        if upload.poll() is None:
            upload.kill()
    assert upload.returncode == 5, (out, err)
    assert "存储服务不可用，命令未完成" in err and out == ""
    assert catalogue_count(data, "archive_item") == 1  # the receipt alone

    server.start(replay=True)  # restarted with what it had received
    archive = Archive(Settings.from_env({**os.environ, **env}))
    try:
        left = check_orphans(archive)
    finally:
        dispose_all()
    assert left["orphans"] == []
    assert [x["kind"] for x in left["leftovers"]] == ["multipart"]  # the interrupted upload

    res = dangan_json(env, "ingest", str(big), *INGEST, "--title", "卷宗扫描")  # retried
    assert res["archival_code"] == "J001-HT·2024-D30-0002" and res["pages"] == 1
    assert_consistent(env)
