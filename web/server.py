"""Serving the app with waitress, with the upload cap enforced by the server and answered by the app.

waitress buffers a whole request body before it calls the app, so the cap must be waitress's
own `max_request_body_size` (its default, 1 GiB, would otherwise override
DANGAN_MAX_UPLOAD_BYTES). When waitress refuses a body as too large it normally answers
with its own plain English 413; here that one case is handed to the app instead, with the
body left unread and the request marked, so the answer is the app's localised 413 (JSON for
the API, a page for the web) and the connection is closed after it.

One process answers on about one core at most (the GIL); `processes` > 1 forks that many
waitress servers after the listening sockets are bound, each with its own app, database
pool and threads (`DANGAN_WEB_PROCESSES`), and keeps them running. One thread a process
(`DANGAN_WEB_THREADS`, the default) answers its requests one after the other: threads of
one process share its core by the GIL, so under load each request took as long as all of
them together (20 searchers at 100k pages, bench/web_bench.py: p95 390 against 480–510 ms
with 8 threads, and 12% less CPU a request); waitress still reads every request and
sends every answer in its own I/O loop, whatever the client's speed (`make_server`).

The processes share the listening socket. A process takes a new connection at once while it
has a thread free (`_Dispatcher`), and while all are busy only one that has waited
BUSY_ACCEPT_AFTER_S untaken. Before, whichever I/O loop woke first took it, busy or not: kept-alive
connections fell unevenly (20 wrk connections on a CPU-bound page: 17 and 3, p90 144 against
89 ms when even), and a new connection could wait behind a long request while another process
sat idle.
"""

from __future__ import annotations

import gc
import logging
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask, Task, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import RequestEntityTooLarge

from service.audit_anchor import flush_anchors

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


class _Counted:
    """A channel handed to the threads, counted in its dispatcher until it is served."""

    def __init__(self, channel: Any, dispatcher: _Dispatcher) -> None:
        self.channel = channel
        self.dispatcher = dispatcher

    def service(self) -> None:
        try:
            self.channel.service()
        finally:
            self.dispatcher.finished()
            # wake the I/O loop: its listeners were left out of its wait while no thread was free
            self.channel.server.pull_trigger()

    def cancel(self) -> None:  # at shutdown, for a task no thread took
        try:
            self.channel.cancel()
        finally:
            self.dispatcher.finished()


class _Dispatcher(ThreadedTaskDispatcher):
    """waitress's threads, knowing how many of the tasks handed to them are not yet done, so
    that the listeners can leave a new connection to another process while all are busy."""

    def __init__(self, threads: int) -> None:
        super().__init__()
        self.in_hand = 0
        self.count_lock = threading.Lock()
        self.set_thread_count(threads)
        self.size = threads

    def add_task(self, task: Any) -> None:
        with self.count_lock:
            self.in_hand += 1
        super().add_task(_Counted(task, self))  # type: ignore[arg-type]  # the threads call only service() and cancel()

    def finished(self) -> None:
        with self.count_lock:
            self.in_hand -= 1

    def free(self) -> bool:
        return self.in_hand < self.size


#: How often a process whose threads are all busy looks for a waiting connection, and how
#: long one must have waited, untaken by any free process, before that process takes it:
#: kept-alive connections keep a saturated process busy for good, so "only when free" alone
#: would leave a new client waiting until the load ends; taking one at its first look, a
#: busy process took connections a free one was about to take (a free process alternates
#: between free and busy as it answers them), and their clients waited behind its request.
BUSY_ACCEPT_INTERVAL_S = 0.02
BUSY_ACCEPT_AFTER_S = 0.1


def _connection_waiting(sock: socket.socket | None) -> bool:
    """A connection waits in the listening socket's queue (it polls as readable)."""
    if sock is None:
        return False
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):  # closed under us: the loop will see to it
        return False


def _accept_when_free(listener: BaseWSGIServer, dispatcher: _Dispatcher) -> None:
    """The listener is polled for new connections while a thread is free; while none is, it
    is looked at every BUSY_ACCEPT_INTERVAL_S and polled once connections have been waiting
    for BUSY_ACCEPT_AFTER_S. Its own readable() still runs each time (it closes idle
    channels and keeps the connection limit)."""
    own = listener.readable
    next_look = 0.0
    waiting_since: float | None = None

    def readable() -> bool:
        nonlocal next_look, waiting_since
        if not own():
            return False
        if dispatcher.free():
            waiting_since = None
            return True
        now = time.monotonic()
        if now < next_look:
            return False
        next_look = now + BUSY_ACCEPT_INTERVAL_S
        if not _connection_waiting(listener.socket):
            waiting_since = None
            return False
        if waiting_since is None:
            waiting_since = now
        return now - waiting_since >= BUSY_ACCEPT_AFTER_S

    listener.readable = readable  # type: ignore[method-assign]  # asyncore asks the instance


def _socket_map(server: Any) -> dict:
    """The socket map a server's loop polls: one listening socket gives one server (which
    keeps it as `_map`); several (a name with IPv4 and IPv6 addresses) give a
    MultiSocketServer, whose `map` its listeners joined."""
    if isinstance(server, BaseWSGIServer):
        return server._map  # type: ignore[attr-defined]  # waitress's, absent from its stubs
    assert server.map is not None  # create_server hands it the map its servers joined
    return server.map


def make_server(app: Flask, threads: int, max_body: int, **where: Any) -> Any:
    """One waitress server (on `host`/`port`, or on already bound `sockets`), not started.

    Its threads never wait for a slow client: what a request answers is handed to
    waitress's buffer whatever its size (`outbuf_high_watermark` as large as the largest
    body; past 1 MB the buffer is a temporary file) and sent by its I/O loop, where by
    default a thread that had written 16 MB of a download waited until the client had read
    it, so a few slow downloads could hold every thread of a process."""
    dispatcher = _Dispatcher(threads)
    server = create_server(app, threads=threads, ident="dangan",
                           max_request_body_size=max_body,
                           outbuf_high_watermark=max(max_body, 1 << 24),
                           _dispatcher=dispatcher, **where)
    # the map holds waitress's dispatchers (its stubs say sockets): the listeners among them
    dispatchers: list[object] = list(_socket_map(server).values())
    for listener in (d for d in dispatchers if isinstance(d, BaseWSGIServer)):
        listener.channel_class = _Channel
        _accept_when_free(listener, dispatcher)
    return server


#: Allocations between two collections of the youngest objects (Python's default: 700). A
#: search page holds a few thousand objects at its peak and drops them by reference count at
#: its end: at 700 about one collection a page ran, ~0.1 ms of CPU, walking objects about to
#: be freed anyway.
YOUNG_OBJECTS = 20_000


def freeze_startup_objects() -> None:
    """Keep what the process built to serve (modules, the app, its mappers and templates,
    ~220k objects) out of every later garbage collection (`gc.freeze`): a full collection
    walked them all, ~110 ms of CPU once every few hundred searches, a pause for whoever
    was being answered. And collect the youngest objects after YOUNG_OBJECTS allocations."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])


class _StopOnSignal(wasyncore.file_dispatcher):
    """Ends a server's loop from the loop's own code once a stop signal came: the
    signal's handler does nothing but let `signal.set_wakeup_fd` write to this pipe. A
    handler that raised SystemExit itself lost it whenever the signal landed in a finaliser
    or a weakref callback of a garbage collection ("Exception ignored"), and the process
    served on after SIGTERM: a replacement process, collecting as it started, did so."""

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def handle_read(self) -> None:
        try:
            self.recv(4096)
        except OSError:
            pass
        raise SystemExit(0)


def _stop_on_signal() -> int:
    """Route the stop signals of this process to a pipe its server loop reads;
    returns the pipe's read end."""
    read, write = os.pipe()
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write)
    for sig in _STOP_SIGNALS:
        signal.signal(sig, lambda *_: None)  # the wakeup fd carries it to the loop
    return read


def _run(app: Flask, threads: int, stop_fd: int | None = None, **where: Any) -> None:
    """One waitress server until stopped (by a byte on `stop_fd`, when given)."""
    freeze_startup_objects()
    # waitress refuses a body of max_request_body_size bytes or more; Flask allows up to
    # MAX_CONTENT_LENGTH bytes inclusive.
    server = make_server(app, threads, int(app.config["MAX_CONTENT_LENGTH"]) + 1, **where)
    if stop_fd is not None:
        _StopOnSignal(stop_fd, map=_socket_map(server))  # type: ignore[arg-type]  # waitress takes a descriptor; its stubs say BytesIO
    logging.basicConfig()  # as waitress.serve does: its warnings reach the log
    server.run()


_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _bind(host: str, port: int) -> list[socket.socket]:
    """The listening sockets of `host:port` (each address the name has), shared by the
    forked servers: the kernel hands each connection to one of them."""
    socks = []
    for family, kind, proto, _name, addr in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE):
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(addr)
        sock.listen(1024)
        socks.append(sock)
    return socks


def _serve_one(make_app: Callable[[], Flask], threads: int, **where: Any) -> None:
    """One process: stopped by SIGTERM or SIGINT through the loop's own pipe, as a forked
    process is (`_StopOnSignal`); a handler raising SystemExit (`dangan serve`'s) lost it in
    a finaliser and the server served on. The caller's handlers are back once it returns.
    Off the main thread (where no handler can be set) waitress's own loop is all."""
    on_main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS} if on_main else {}
    stop_fd = _stop_on_signal() if on_main else None
    try:
        _run(make_app(), threads, stop_fd=stop_fd, **where)
    finally:
        if stop_fd is not None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            os.close(signal.set_wakeup_fd(-1))  # the pipe's write end
            os.close(stop_fd)


def serve(make_app: Callable[[], Flask], *, host: str, port: int, threads: int = 8,
          processes: int = 1) -> None:
    """Serve the app `make_app` builds until interrupted (SIGINT, SIGTERM); bodies over
    MAX_CONTENT_LENGTH get the app's 413. With several processes each builds its own app
    after the fork (no connection pool or thread crosses it) and a dead one is replaced."""
    if processes <= 1:
        _serve_one(make_app, threads, host=host, port=port)
        return
    socks = _bind(host, port)
    children: set[int] = set()

    def start() -> None:
        # A stop signal waits until the new process has its own handlers: one delivered
        # in between would run the parent's handler in the child, which then served on.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        pid = os.fork()
        if pid:
            children.add(pid)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
            return
        code = 0
        try:
            stop_fd = _stop_on_signal()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
            _run(make_app(), threads, stop_fd=stop_fd, sockets=socks)
        except SystemExit:
            pass
        except BaseException:  # noqa: BLE001 - a child never returns into the parent's code
            logging.getLogger("dangan.web").exception("web process %s stopped", os.getpid())
            code = 1
        finally:
            flush_anchors()  # what atexit would do: os._exit skips it
            os._exit(code)

    stopping = False

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                children.discard(pid)

    previous = {sig: signal.signal(sig, stop) for sig in _STOP_SIGNALS}
    try:
        for _ in range(processes):
            start()
        while children:
            try:
                pid, _status = os.wait()
            except ChildProcessError:
                break
            if pid not in children:  # another child of this process (the OCR workers)
                continue
            children.discard(pid)
            if not stopping:
                print(f"web process {pid} ended; starting another", file=sys.stderr)
                time.sleep(1)  # a process that dies at once must not be restarted in a spin
                if not stopping:  # nor one started after the signal to stop
                    start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sock in socks:
            sock.close()
