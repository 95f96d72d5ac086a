"""The upload cap against a real `dangan serve` (waitress): DANGAN_MAX_UPLOAD_BYTES is the
server's limit too, and an over-cap body gets the app's localised 413 (issue 8.22)."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path

import pytest

from tests.served import dangan_serve

ROOT = Path(__file__).resolve().parents[2]
CAP = 64 * 1024
PASSWORD = "serve-cap-pass-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("dangan-cap")
    with dangan_serve(data, PASSWORD, {"DANGAN_MAX_UPLOAD_BYTES": str(CAP)},
                      ("--no-workers",)) as port:
        yield port


def _post(port: int, path: str, body: bytes, content_length: int | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """POST `body`, declaring `content_length` (may be larger than what is sent)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", "multipart/form-data; boundary=xyz")
    conn.putheader("Content-Length", str(len(body) if content_length is None else content_length))
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    conn.endheaders()
    try:
        conn.send(body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed before reading it all
    resp = conn.getresponse()
    out = resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
    conn.close()
    return out


def test_over_cap_api_upload_gets_localised_json_413(server):
    # declared far over waitress's own default limit (1 GiB): waitress refuses it unread
    status, headers, body = _post(server, "/api/v1/items", b"", content_length=2 * 1024**3)
    assert status == 413
    assert headers["content-type"].startswith("application/json")
    assert headers.get("connection") == "close"
    error = json.loads(body)["error"]
    assert "上传内容过大" in error and "64.0\u00a0KB" in error  # a size never breaks before its unit
    # just over the configured cap, body sent
    status, headers, body = _post(server, "/api/v1/items", b"x" * (CAP + 1))
    assert status == 413 and "上传内容过大" in json.loads(body)["error"]


def test_over_cap_web_upload_gets_a_page(server):
    status, headers, body = _post(server, "/upload", b"", content_length=3 * 1024**3)
    assert status == 413
    assert headers["content-type"].startswith("text/html")
    assert "上传内容过大" in body and re.search(r"<html[^>]*>", body)


def test_at_the_cap_the_request_reaches_the_app(server):
    # exactly CAP bytes is allowed: the app answers (no token: 401), not the size limit
    status, _headers, body = _post(server, "/api/v1/items", b"x" * CAP)
    assert status == 401 and "API" in json.loads(body)["error"]
