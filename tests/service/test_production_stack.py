"""The production settings end to end: PostgreSQL catalogue, S3 over HTTP, Redis queue.

The same CLI and code as the embedded default, only the environment differs. The S3
server is moto's, started by the tests; PostgreSQL and Redis are this machine's servers,
each test using its own database and queue name and removing them afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelp import INGEST, dangan, dangan_json
from minio import Minio
from scanfactory import render_page, write_pdf_image_only

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_queue() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc}); the Redis queue test needs it")
    name = f"dangan-test-{uuid.uuid4().hex[:10]}"
    yield name
    for key in client.scan_iter(match=f"*{name}*"):
        client.delete(key)
    client.close()


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
