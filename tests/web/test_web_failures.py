"""Failures of the infrastructure get clear, localised answers with the right status, and
details go to the log (issue 8, finding 20): S3 down, disk full, the catalogue database full
(sign-in still works) and database connections dropped after the work was committed."""

from __future__ import annotations

import io
import logging
import os
import uuid

import pytest
import sqlalchemy as sa

FIELDS = {"fonds": "J001", "category": "HT", "year": "2024", "retention": "D30",
          "secrecy": "内部", "title": "基础设施故障测试"}


def _png(seed: int) -> bytes:
    from PIL import Image

    img = Image.new("RGB", (120, 160), "white")
    img.putpixel((seed % 120, seed % 160), (0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _upload(client, h, seed: int):
    return client.post("/api/v1/items", data={**FIELDS, "files": [(io.BytesIO(_png(seed)),
                                                                   "scan.png")]},
                       headers={"X-CSRFToken": h.csrf(client, "/upload")})


@pytest.fixture
def s3_goes_down(archive, moto_endpoint, monkeypatch):
    """The archive's store is an S3 bucket; calling the result stops its server answering."""
    import urllib3
    from minio import Minio

    from storage import S3Store

    store = S3Store(moto_endpoint, "key", "secret", f"t-{uuid.uuid4().hex[:16]}", secure=False,
                    region="us-east-1")
    monkeypatch.setitem(archive.__dict__, "store", store)

    def cut() -> None:
        store._client = Minio("127.0.0.1:9", access_key="key", secret_key="secret",
                              secure=False, region="us-east-1",
                              http_client=urllib3.PoolManager(retries=urllib3.Retry(total=0)))

    return cut


def test_storage_down_is_a_503_with_a_clear_message(app, h, archive, s3_goes_down,
                                                    caplog) -> None:
    item_id = h.item(title="存储故障", text="正文")
    s3_goes_down()
    client = app.test_client()
    h.login(client, "arc")
    with caplog.at_level(logging.ERROR, logger="dangan.web"):
        r = client.get(f"/items/{item_id}/pages/1/image")
    assert r.status_code == 503 and r.headers["Retry-After"]
    assert "存储服务暂时不可用" in r.get_data(as_text=True)
    assert "127.0.0.1:9" not in r.get_data(as_text=True)  # details: to the log only
    assert "StorageUnavailable" in caplog.text
    r = _upload(client, h, 1)
    assert r.status_code == 503 and "存储服务暂时不可用" in r.get_json()["error"]
    client.post("/lang", data={"lang": "en", "csrf_token": h.csrf(client, "/search")})
    r = _upload(client, h, 2)
    assert r.get_json()["error"] == "The storage service is temporarily unavailable. Try again later."


def test_disk_full_is_a_507(app, h, archive, monkeypatch) -> None:
    """The kernel's own ENOSPC: the store's temporary file is /dev/full."""
    import storage.local

    real_mkstemp = storage.local.tempfile.mkstemp

    def full_disk(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        os.close(fd)
        os.unlink(name)
        return os.open("/dev/full", os.O_WRONLY), name

    monkeypatch.setattr(storage.local.tempfile, "mkstemp", full_disk)
    client = app.test_client()
    h.login(client, "arc")
    r = _upload(client, h, 3)
    assert r.status_code == 507 and "存储空间已满" in r.get_json()["error"]
    r = client.post("/upload", data={**FIELDS, "csrf_token": h.csrf(client, "/upload"),
                                     "files": [(io.BytesIO(_png(4)), "scan.png")]})
    assert r.status_code == 507 and "存储空间已满" in r.get_data(as_text=True)


@pytest.fixture
def full_catalogue(archive):
    """The SQLite catalogue cannot grow (SQLite's own SQLITE_FULL), filled to the brim."""
    from service.audit import record

    engine = archive.engine

    def cap(dbapi_conn, _record) -> None:
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS filler (x BLOB)"))
    sa.event.listen(engine, "connect", cap)
    engine.dispose()
    for size in (4096, 512, 64, 8):  # take every free page and every gap an entry fits in
        for _ in range(10_000):
            try:
                with engine.begin() as conn:
                    conn.execute(sa.text("INSERT INTO filler VALUES (randomblob(:n))"), {"n": size})
            except sa.exc.OperationalError:
                break
    for _ in range(200):
        try:
            with archive.session() as s:
                record(s, "filler", "view", "item:0")
        except sa.exc.OperationalError:
            break
    else:
        pytest.fail("the catalogue never filled up")
    yield
    sa.event.remove(engine, "connect", cap)
    engine.dispose()
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE filler"))


def test_sign_in_works_and_reads_are_refused_when_the_catalogue_is_full(
        app, h, archive, caplog, request) -> None:
    item_id = h.item(title="磁盘已满", text="正文")
    request.getfixturevalue("full_catalogue")
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        h.login(client, "arc")  # asserts the redirect after a successful sign-in
    assert "could not be recorded" in caplog.text
    assert client.get("/search").status_code == 200
    r = client.get(f"/items/{item_id}")  # a view must be audited: refused, clearly
    assert r.status_code == 507 and "数据库存储空间已满" in r.get_data(as_text=True)
    r = client.get(f"/api/v1/items/{item_id}")
    assert r.status_code == 507 and "数据库存储空间已满" in r.get_json()["error"]


def test_dropped_connections_after_the_work_do_not_turn_it_into_an_error(
        pg_url, pg_admin, tmp_path) -> None:
    """PostgreSQL connections cut after an upload committed: the upload is answered 201."""
    from service.archive import Archive
    from service.config import Settings
    from service.models import ArchiveItem
    from service.setup import init_archive
    from service.users import create_user
    from tests.web.conftest import PW, csrf_token
    from web.app import create_app

    arc = Archive(Settings.from_env({"DANGAN_DATA": str(tmp_path / "data"),
                                     "DANGAN_DATABASE_URL": pg_url}))
    init_archive(arc, admin_password="admin-pass-123")
    with arc.session() as s:
        create_user(s, "arc", PW, role="archivist")
    app = create_app(arc, {"TESTING": True})
    name = sa.make_url(pg_url).database
    cut = {"on": False}

    @app.after_request
    def drop_connections(resp):
        if cut["on"]:
            with pg_admin.connect() as conn:
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :n AND pid <> pg_backend_pid()"),
                             {"n": name})
        return resp

    client = app.test_client()
    client.post("/login", data={"username": "arc", "password": PW,
                                "csrf_token": csrf_token(client)})
    token = csrf_token(client, "/upload")
    cut["on"] = True
    r = client.post("/api/v1/items", data={**FIELDS, "files": [(io.BytesIO(_png(5)), "s.png")]},
                    headers={"X-CSRFToken": token})
    cut["on"] = False
    assert r.status_code == 201, r.get_data(as_text=True)
    with arc.session() as s:
        assert s.get(ArchiveItem, r.get_json()["id"]) is not None
