"""Serving the app with waitress, with the upload cap enforced by the server and answered by the app.

waitress buffers a whole request body before it calls the app, so the cap must be waitress's
own `max_request_body_size` (its default, 1 GiB, would otherwise override
DANGAN_MAX_UPLOAD_BYTES). When waitress refuses a body as too large it normally answers
with its own plain English 413; here that one case is handed to the app instead, with the
body left unread and the request marked, so the answer is the app's localised 413 (JSON for
the API, a page for the web) and the connection is closed after it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask, Task, WSGITask
from waitress.utilities import RequestEntityTooLarge

# Set in the WSGI environ of a request whose body waitress refused as over the cap.
BODY_TOO_LARGE = "dangan.body_too_large"


class _TooLargeTask(WSGITask):
    """Runs the app for a refused request: no body, the mark set, the connection closed."""

    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ[BODY_TOO_LARGE] = True
        return environ

    def execute(self) -> None:
        self.set_close_on_finish()  # the rest of the body is never read
        super().execute()


class _Channel(HTTPChannel):
    @staticmethod
    def error_task_class(channel: HTTPChannel, request: Any) -> Task:  # type: ignore[override]  # waitress assigns a class here; a staticmethod factory stands in for it
        if isinstance(request.error, RequestEntityTooLarge):
            return _TooLargeTask(channel, request)
        return ErrorTask(channel, request)


def serve(app: Flask, *, host: str, port: int, threads: int = 8) -> None:
    """Serve `app` until interrupted; bodies over MAX_CONTENT_LENGTH get the app's 413."""
    # waitress refuses a body of max_request_body_size bytes or more; Flask allows up to
    # MAX_CONTENT_LENGTH bytes inclusive.
    server = create_server(app, host=host, port=port, threads=threads, ident="dangan",
                           max_request_body_size=int(app.config["MAX_CONTENT_LENGTH"]) + 1)
    # One listening socket gives one server; several (a name with IPv4 and IPv6 addresses)
    # give a MultiSocketServer whose listeners are in its socket map.
    listeners = [server] if isinstance(server, BaseWSGIServer) else [
        d for d in server.map.values() if isinstance(d, BaseWSGIServer)]
    for listener in listeners:
        listener.channel_class = _Channel
    logging.basicConfig()  # as waitress.serve does: its warnings reach the log
    server.run()
