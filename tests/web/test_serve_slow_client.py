"""The production server's threads never wait for a slow client (web.server.make_server): a
download the client does not read is buffered by waitress, and the process's one thread
answers the next request at once."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request

from flask import Flask, Response

from web.server import make_server

BIG = 40 * 1024 * 1024  # more than waitress's default high watermark (16 MB)


def _app() -> Flask:
    app = Flask(__name__)

    @app.get("/big")
    def big() -> Response:
        chunk = b"x" * (1 << 20)
        return Response((chunk for _ in range(BIG // len(chunk))),
                        headers={"Content-Length": str(BIG)})

    @app.get("/small")
    def small() -> str:
        return "ok"

    return app


def test_a_download_nobody_reads_does_not_hold_the_only_thread() -> None:
    server = make_server(_app(), threads=1, max_body=64 * 1024 * 1024, host="127.0.0.1", port=0)
    port = server.socket.getsockname()[1]
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    slow = socket.create_connection(("127.0.0.1", port))
    try:
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")  # and never read
        time.sleep(0.5)  # the one thread is writing the download
        t0 = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/small", timeout=10) as resp:
            assert resp.read() == b"ok"
        assert time.monotonic() - t0 < 5
    finally:
        slow.close()
        server.close()
