"""Run one call in a forked child with a time limit and an address-space limit.

The fuzz and malformed-file tests feed parsers input built to hang them, crash them or make
them allocate without end. Run in the test process, such a case would take the whole suite
down with it; run here, a hang is a timeout, a crash is a signal and runaway memory is a
MemoryError in the child, each reported as an outcome the test asserts on. The child is a
fork of the test process (its imports are already paid), so a case costs milliseconds of
start-up, not a new interpreter's second.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: What a case may allocate beyond what the test process had mapped when it forked.
DEFAULT_MEMORY = 1 << 30
DEFAULT_TIMEOUT = 20.0


@dataclass(frozen=True)
class Outcome:
    """How a bounded call ended: ``kind`` is ok, raised, timeout or crashed."""

    kind: str
    value: Any = None
    #: for ``raised``: the exception's class (module.name), its ``code`` and its ``reason``
    error: str | None = None
    code: str | None = None
    reason: str | None = None
    detail: str | None = None
    seconds: float = 0.0

    def __str__(self) -> str:
        if self.kind == "raised":
            return f"raised {self.error} code={self.code} reason={self.reason} ({self.detail})"
        return f"{self.kind} {self.value!r} after {self.seconds:.1f}s"


def _mapped_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def _child(fn: Callable[..., Any], args: tuple, memory: int, out: int) -> None:
    limit = _mapped_bytes() + memory
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        result: tuple = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 - every way out is reported to the parent
        reason = getattr(exc, "reason", None) or getattr(exc, "msg", None)
        result = ("raised", f"{type(exc).__module__}.{type(exc).__qualname__}",
                  getattr(exc, "code", None), None if reason is None else str(reason),
                  repr(exc)[:300])
    try:
        data = pickle.dumps(result)
    except Exception:  # noqa: BLE001 - an unpicklable value is still an answer
        data = pickle.dumps(("ok", repr(result[1])[:300]) if result[0] == "ok" else result)
    view = memoryview(data)
    while view:
        view = view[os.write(out, view):]


def run_bounded(fn: Callable[..., Any], *args: Any, timeout: float = DEFAULT_TIMEOUT,
                memory: int = DEFAULT_MEMORY) -> Outcome:
    """``fn(*args)`` in a forked child limited to ``timeout`` seconds and ``memory`` bytes
    more than the parent had mapped; the child's return value must pickle."""
    read, write = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        code = 0
        try:
            os.close(read)
            _child(fn, args, memory, write)
        except BaseException:  # noqa: BLE001
            code = 70
        finally:
            os._exit(code)
    os.close(write)
    chunks: list[bytes] = []
    timed_out = False
    try:
        while True:
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read], [], [], left)
            if not ready:
                continue
            chunk = os.read(read, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read)
        if timed_out:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - start
    if timed_out:
        return Outcome("timeout", timeout, seconds=seconds)
    if os.WIFSIGNALED(status) or not chunks:
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        return Outcome("crashed", sig, seconds=seconds)
    data = pickle.loads(b"".join(chunks))
    if data[0] == "ok":
        return Outcome("ok", data[1], seconds=seconds)
    _, error, code, reason, detail = data
    return Outcome("raised", error=error, code=code, reason=reason, detail=detail,
                   seconds=seconds)
