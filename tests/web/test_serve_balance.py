"""Several web processes on one port (web.server.serve): a process whose threads are all busy
leaves new connections to a free one, so no client waits behind a long request while another
process sits idle and kept-alive connections spread evenly; and when every process is busy for
good (kept-alive clients that never pause), a new client is still taken at once."""

from __future__ import annotations

import http.client
import threading
import time

from tests.forked_server import SLOW_S, answering_processes, forked_server, get


def test_a_busy_process_leaves_new_connections_to_a_free_one() -> None:
    with forked_server(2) as (_server, port):
        assert len(answering_processes(port, 2)) == 2, "two processes never both answered"
        slow_pid: list[str] = []
        slow = threading.Thread(target=lambda: slow_pid.append(get(port, "/slow")))
        slow.start()
        time.sleep(0.5)  # the slow request is in one process's only thread

        answers: list[tuple[str, float]] = []
        lock = threading.Lock()

        def quick() -> None:
            t0 = time.monotonic()
            pid = get(port, "/pid")
            with lock:
                answers.append((pid, time.monotonic() - t0))

        clients = [threading.Thread(target=quick) for _ in range(8)]
        for c in clients:
            c.start()
        for c in clients:
            c.join(30)
        slow.join(30)
        assert slow_pid and len(answers) == 8
        waited = [round(s, 2) for _pid, s in answers if s > SLOW_S / 2]
        assert not waited, f"new connections waited behind the slow request: {waited} s"
        assert slow_pid[0] not in {pid for pid, _s in answers}


def test_a_new_client_is_taken_while_kept_alive_clients_keep_every_process_busy() -> None:
    stop = threading.Event()
    load: list[threading.Thread] = []
    with forked_server(2) as (_server, port):

        def hammer() -> None:  # one kept-alive connection, never idle
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                while not stop.is_set():
                    conn.request("GET", "/work")
                    conn.getresponse().read()
            finally:
                conn.close()

        try:
            assert len(answering_processes(port, 2)) == 2, "two processes never both answered"
            load.extend(threading.Thread(target=hammer) for _ in range(8))
            for t in load:
                t.start()
            time.sleep(1.0)  # every process has kept-alive clients queued behind its thread
            waits = []
            for _ in range(5):
                t0 = time.monotonic()
                get(port, "/pid", timeout=30)
                waits.append(round(time.monotonic() - t0, 3))
            assert max(waits) < 1.0, f"a new client waited while the load went on: {waits} s"
        finally:
            stop.set()
            for t in load:
                t.join(30)


class _Listener:
    """What `_accept_when_free` reads of a waitress listener: its socket and readable()."""

    def __init__(self, sock) -> None:
        self.socket = sock

    def readable(self) -> bool:
        return True


class _Threads:
    def __init__(self, free: bool) -> None:
        self.is_free = free

    def free(self) -> bool:
        return self.is_free


def test_a_busy_process_takes_only_a_connection_left_waiting() -> None:
    """A busy process's loop may wake (a timeout, another channel) while a free process is
    about to take a new connection: it leaves it, and takes only one that has waited
    BUSY_ACCEPT_AFTER_S untaken. It took one at its first look, and its client waited
    behind the busy process's request."""
    import socket

    from web.server import BUSY_ACCEPT_AFTER_S, BUSY_ACCEPT_INTERVAL_S, _accept_when_free

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        threads = _Threads(free=False)
        listener = _Listener(sock)
        _accept_when_free(listener, threads)  # type: ignore[arg-type]  # stand-ins with the two members it reads
        assert not listener.readable(), "nothing waits: nothing to take"
        time.sleep(BUSY_ACCEPT_INTERVAL_S)
        client = socket.create_connection(sock.getsockname())
        try:
            assert not listener.readable(), "busy, took a connection at its first look"
            deadline = time.monotonic() + BUSY_ACCEPT_AFTER_S + 1
            while not listener.readable():
                assert time.monotonic() < deadline, "a connection left waiting was never taken"
                time.sleep(BUSY_ACCEPT_INTERVAL_S / 2)
            threads.is_free = True
            assert listener.readable(), "a free process polls at once"
        finally:
            client.close()
