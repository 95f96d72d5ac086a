"""The production settings end to end: PostgreSQL catalogue, S3 over HTTP, Redis queue.

The same CLI and code as the embedded default, only the environment differs. The S3
server is moto's, started by the tests; PostgreSQL and Redis are this machine's servers,
each test using its own database and queue name and removing them afterwards.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from clihelp import INGEST, dangan, dangan_json
from machine_services import REDIS_URL
from minio import Minio
from scanfactory import render_page, write_pdf_image_only

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_s3_redis_ingest_search_and_fixity(
        archive_env: dict[str, str], pg_url: str, moto_endpoint: str, redis_queue: str,
        tmp_path: Path) -> None:
    bucket = f"dangan-{uuid.uuid4().hex[:8]}"
    env = {**archive_env,
           "DANGAN_DATABASE_URL": pg_url,
           "DANGAN_STORAGE_URL": f"s3://test-key:test-secret@{moto_endpoint}/{bucket}?secure=false",
           "DANGAN_QUEUE_URL": REDIS_URL,
           "DANGAN_QUEUE_NAME": redis_queue}
    dangan(env, "init", "--admin-password", "initial-pass")
    assert dangan_json(env, "health")["healthy"] is True  # the containers' health check
    pdf = write_pdf_image_only(tmp_path / "scan.pdf", [
        render_page(["保密协议", "乙方不得向第三方披露商业秘密"]),
        render_page(["附件一", "违约金为合同总额的百分之二十"])])
    res = dangan_json(env, "ingest", str(pdf), *INGEST, "--title", "保密协议", "--wait")
    assert res["status"] == "ready" and res["pages"] == 2
    assert res["archival_code"] == "J001-HT·2024-D30-0001"
    hits = dangan_json(env, "search", "违约金")
    assert hits["total"] == 1 and hits["hits"][0]["page"] == 2

    shown = dangan_json(env, "show", str(res["id"]))
    original = next(f for f in shown["files"] if f["role"] == "original")
    client = Minio(moto_endpoint, access_key="test-key", secret_key="test-secret", secure=False)
    stat = client.stat_object(bucket, original["key"])
    assert stat.size == original["size"] == pdf.stat().st_size
    assert dangan(env, "check", "--fixity").returncode == 0

    import io

    client.put_object(bucket, original["key"], io.BytesIO(b"altered"), 7)
    proc = dangan(env, "check", "--fixity", "--json", check=False)
    assert proc.returncode == 1 and original["key"] in proc.stdout


@pytest.mark.slow
@pytest.mark.postgres
def test_web_and_a_worker_share_no_data_directory(
        archive_env: dict[str, str], pg_url: str, moto_endpoint: str, redis_queue: str,
        tmp_path: Path) -> None:
    """deploy/compose.yaml's topology: `dangan serve --no-workers` with its own data
    directory, `dangan worker` in another one that is never initialised; the page is read
    by the worker and found through the web's side. The web and worker health checks of
    the compose file pass. With Elasticsearch (DANGAN_TEST_ELASTICSEARCH_URL) the worker's
    directory stays empty; without it, it holds only the FTS5 index that Elasticsearch
    holds in the stack."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    import yaml
    from served import dangan_serve

    root = Path(__file__).resolve().parents[2]
    compose = yaml.safe_load((root / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    es_url = os.environ.get("DANGAN_TEST_ELASTICSEARCH_URL", "")
    common = {**archive_env,
              "DANGAN_DATABASE_URL": pg_url,
              "DANGAN_STORAGE_URL": f"s3://k:s@{moto_endpoint}/dangan-{uuid.uuid4().hex[:8]}?secure=false",
              "DANGAN_QUEUE_URL": REDIS_URL, "DANGAN_QUEUE_NAME": redis_queue,
              "DANGAN_SECRET_KEY": uuid.uuid4().hex * 2, "DANGAN_WEB_THREADS": "4",
              "DANGAN_WORKERS": "1", **({"DANGAN_SEARCH_URL": es_url} if es_url else {})}
    web = {**common, "DANGAN_DATA": str(tmp_path / "web")}
    worker_dir = tmp_path / "worker"
    worker = {**common, "DANGAN_DATA": str(worker_dir)}
    (tmp_path / "web").mkdir()
    with dangan_serve(tmp_path / "web", "initial-pass", env=web, serve_args=("--no-workers",)) as port:
        # The compose file's own health check of the web service, on this server's port.
        check = compose["services"]["web"]["healthcheck"]["test"]
        probe = [sys.executable if check[1] == "python" else check[1],
                 *[a.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for a in check[2:]]]
        assert subprocess.run(probe, timeout=30).returncode == 0
        assert not (tmp_path / "web" / "secret.key").exists()  # DANGAN_SECRET_KEY signs

        pdf = write_pdf_image_only(tmp_path / "scan.pdf", [render_page(["借款合同", "违约金为本金的百分之五"])])
        res = dangan_json(web, "ingest", str(pdf), *INGEST, "--title", "借款合同")
        assert res["status"] != "ready"  # queued: no worker has run yet
        proc = subprocess.Popen([sys.executable, "-m", "cli", "worker"], cwd=root,
                                env={**os.environ, **worker}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            while dangan_json(web, "show", str(res["id"]))["status"] not in ("ready", "partial", "failed"):
                assert time.monotonic() < deadline, "the worker did not finish the page"
                assert proc.poll() is None, "the worker stopped"
                time.sleep(1)
            assert dangan_json(web, "show", str(res["id"]))["status"] == "ready"
            health = dangan(worker, *compose["services"]["worker"]["healthcheck"]["test"][2:],
                            "--json")
            assert json.loads(health.stdout)["healthy"] is True
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        left = sorted(p.name for p in worker_dir.rglob("*") if p.is_file()) if worker_dir.exists() else []
        if es_url:
            assert left == []
            assert dangan_json(web, "search", "违约金")["total"] == 1
        else:
            assert set(left) <= {"search.sqlite3", "search.sqlite3-wal", "search.sqlite3-shm"}, left


def _compose_redis(tmp_path: Path, password: str) -> tuple[subprocess.Popen[bytes], int]:
    """deploy/compose.yaml's Redis command line, on a free port and a directory of ours."""
    import yaml
    from served import free_port

    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    shell, flag, line = compose["services"]["redis"]["command"]
    assert (shell, flag) == ("sh", "-c") and line.startswith("exec redis-server ")
    port = free_port()
    proc = subprocess.Popen(
        [shell, flag, line.replace("$$", "$") + f" --port {port} --bind 127.0.0.1 --dir {tmp_path}"
         " --save ''"], env={**os.environ, "REDIS_PASSWORD": password},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, port


def test_the_stacks_redis_keeps_queued_pages_across_a_restart_and_wants_its_password(
        tmp_path: Path) -> None:
    """The queue as compose runs it (append-only file, requirepass from the environment):
    pages queued before a restart are still queued after it, and the URL's password is
    the one that opens it."""
    import shutil
    import time

    import redis

    from service.config import Settings
    from service.jobs.queue import JobQueue, build_huey

    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed here")
    password = uuid.uuid4().hex
    data = tmp_path / "redis"
    data.mkdir()

    def started() -> tuple[subprocess.Popen[bytes], str]:
        proc, port = _compose_redis(data, password)
        url = f"redis://:{password}@127.0.0.1:{port}/0"
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis.from_url(url, socket_connect_timeout=1).ping()
                return proc, url
            except redis.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, "redis did not start"
                time.sleep(0.1)

    def stopped(proc: subprocess.Popen[bytes]) -> None:
        proc.terminate()  # SIGTERM: Redis flushes its append-only file and exits
        proc.wait(20)

    def settings(url: str) -> Settings:
        return Settings.from_env({"DANGAN_DATA": str(tmp_path / "d"), "DANGAN_QUEUE_URL": url})

    def no_task() -> None:
        pytest.fail("no task runs in this test")

    proc, url = started()
    try:
        JobQueue(settings(url), no_task).enqueue_pages({101: 1, 102: 2, 103: 1})
        assert build_huey(settings(url)).pending_count() == 3
        with pytest.raises(redis.AuthenticationError):
            build_huey(settings(url.replace(password, "wrong-password"))).pending_count()
        with pytest.raises(redis.AuthenticationError):
            build_huey(settings(url.replace(f":{password}@", ""))).pending_count()
    finally:
        stopped(proc)
    assert any(data.rglob("*.aof")), "no append-only file written"
    proc, url = started()
    try:
        assert build_huey(settings(url)).pending_count() == 3
        # what the periodic reconcile compares the pending pages with (#15.5)
        assert JobQueue(settings(url), no_task).queued_pages() == {101, 102, 103}
    finally:
        stopped(proc)
