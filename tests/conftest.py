"""Fixtures shared by the whole suite: databases (SQLite and PostgreSQL) and archives.

PostgreSQL runs on this machine (127.0.0.1:5432, trust auth). Each test that needs it
gets a database of its own, dropped afterwards; where no server answers, those tests
skip and say why. Override the server with DANGAN_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from machine_services import REDIS_URL
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(Path(__file__).resolve().parent))  # after the real packages

# Property and fuzz tests: a small budget in `make test`, a large one on demand
# (HYPOTHESIS_PROFILE=long, see the README's testing section). No deadline: the machine is
# shared, and a slow example is not a failure; time is bounded by the example count.
settings.register_profile("default", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Chromium for the browser tests: launched once a session, a context per test.
pytest_plugins = ["tests.browser"]

PG_ADMIN_URL = os.environ.get("DANGAN_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_admin() -> sa.Engine | None:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "no server here"
        engine.dispose()
        return None
    return engine


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine]:
    engine = _pg_admin()
    if engine is None:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: set DANGAN_TEST_POSTGRES_URL "
                    "to a server (trust auth) to run the PostgreSQL tests")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin: sa.Engine) -> Iterator[str]:
    """A fresh PostgreSQL database for one test."""
    name = f"dangan_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = pg_admin.url.set(database=name).render_as_string(hide_password=False)
    yield url
    from service.db import dispose_all

    dispose_all()
    with pg_admin.connect() as conn:
        conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each catalogue test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def archive_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment of an embedded archive in a temp dir (no shared state between tests)."""
    data = tmp_path / "data"
    env = {"DANGAN_DATA": str(data), "DANGAN_WORKERS": "2", "OMP_THREAD_LIMIT": "1"}
    for key in ("DANGAN_DATABASE_URL", "DANGAN_STORAGE_URL", "DANGAN_QUEUE_URL",
                "DANGAN_SEARCH_URL"):
        monkeypatch.delenv(key, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture
def archive(archive_env: dict[str, str]):
    """An initialised embedded archive (SQLite catalogue, local store, FTS5)."""
    from service.archive import Archive
    from service.setup import init_archive

    arch = Archive()
    init_archive(arch, admin_password="admin-password")
    yield arch
    from service.db import dispose_all

    dispose_all()




@pytest.fixture
def redis_queue() -> Iterator[str]:
    """A queue name of this test's own on the Redis server here, its keys removed after."""
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


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """An in-process moto S3 server on a free port, shared by the session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"{host}:{port}"
    finally:
        server.stop()
