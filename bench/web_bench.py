"""The web under load: the search page and ``/api/v1/search`` at 1, 5 and 20 clients (#15.3).

    python bench/web_bench.py [--pages 100000] [--duration 15] [--clients 1,5,20]
                              [--processes 2] [--ocr-beside]

Needs Debian's ``wrk`` (``make bench`` installs it) and the ``bench`` extra (jieba, for its
dictionary of real words with real frequencies).

Archive: ``--pages`` pages in items of 5 pages, registered in the catalogue (fonds J001,
categories, years 2010–2024, retentions, 密级 mostly 内部 with some 公开/秘密/机密, 200
customers, 400 boxes on shelves) and indexed through the project's own indexing path
(``service.search.reindex``). The text is words drawn from jieba's dictionary by their
corpus frequency, in ~36-character lines. Every page has a thumbnail (one stored image). It
is kept in ``bench/out/web-N/`` and reused by later runs (delete the folder to rebuild).

Load: the production server (``dangan serve --no-workers``, ``DANGAN_WEB_PROCESSES``
processes) on loopback, signed in as ``admin`` and as ``staff1`` (staff, owner of one item
in eight), ``wrk`` with a Lua script cycling through 200 real queries (2–4 character
phrases cut from random pages), ``--duration`` seconds per run. Printed per endpoint, role
and client count: requests/s, p50/p95/p99 latency, errors (non-2xx, socket errors,
timeouts), and the server's CPU per request (user+system time of every server process,
read from /proc before and after the run, over the requests served) against the engine's
CPU per query (``run_search`` in a child of this process for the same queries and user,
facets on, 20 hits, not audited, measured right after each run), and their ratio; the page's
figure is the median of its runs' ratios. CPU time, unlike clock time, stands up on a shared
machine, but its speed drifts: one engine figure for all runs put the same code at 2.0x
in one table and 2.5x in the next.

``--ocr-beside``: the same search load at 5 clients, first alone, then while uploads of
scanned pages are OCR'd by the server's workers (started with the server for that run):
p50/p95 and the ratio (target at most 2x).

Targets (2-core machine, 100k pages): zero errors; p95 < 200 ms at 20 clients; the search
page's server CPU at most 2x the engine's.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HERE = Path(__file__).resolve().parent
ADMIN_PW = "bench-admin-pass"
STAFF_PW = "bench-staff-pass"
PAGES_PER_ITEM = 5
CLK = os.sysconf("SC_CLK_TCK")
TARGET_P95_MS = 200.0
TARGET_CPU_RATIO = 2.0
TARGET_OCR_SLOWDOWN = 2.0


# ----------------------------------------------------------------- the archive


def _words(rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    try:
        import jieba
    except ImportError as e:  # pragma: no cover - guidance only
        raise SystemExit("install the bench extra: pip install -e '.[bench]'") from e
    words, freqs = [], []
    with Path(jieba.__file__).with_name("dict.txt").open(encoding="utf-8") as f:
        for line in f:
            w, n, _tag = line.split()
            if all("\u4e00" <= c <= "\u9fff" for c in w):
                words.append(w)
                freqs.append(int(n))
    p = np.asarray(freqs, dtype=float)
    return words, p / p.sum()


def _page_text(words: list[str], p: np.ndarray, rng: np.random.Generator) -> str:
    drawn = rng.choice(len(words), size=int(rng.integers(180, 360)), p=p)
    text = "".join(words[i] + ("，" if rng.random() < 0.08 else "") for i in drawn) + "。"
    return "\n".join(text[k:k + 36] for k in range(0, len(text), 36))


def _thumb() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (120, 168), "white")
    ImageDraw.Draw(img).rectangle((12, 12, 108, 30), fill=(60, 60, 60))
    buf = io.BytesIO()
    img.save(buf, "WEBP")
    return buf.getvalue()


def build_archive(data: Path, n_pages: int, seed: int = 3) -> None:
    """Register n_pages pages in items of PAGES_PER_ITEM and index them (cached in `data`)."""
    from service.archive import Archive
    from service.codes import allocate, format_code
    from service.config import Settings
    from service.models import (
        ArchiveItem,
        Box,
        Category,
        Customer,
        Fonds,
        Page,
        Rack,
        Room,
        Section,
        Shelf,
        StoredFile,
    )
    from service.search import reindex
    from service.setup import init_archive
    from service.users import create_user

    if (data / "bench-ready").exists():
        # a cached archive of an older version: migrated as `dangan serve` would (the
        # search index re-analysed when its format changed), before the engine is timed
        from service.migrate import upgrade

        arc = Archive(Settings.from_env({"DANGAN_DATA": str(data)}))
        upgrade(arc.engine)
        arc.engine.dispose()
        return
    shutil.rmtree(data, ignore_errors=True)
    arc = Archive(Settings.from_env({"DANGAN_DATA": str(data)}))
    init_archive(arc, admin_password=ADMIN_PW)
    rng = np.random.default_rng(seed)
    words, p = _words(rng)
    thumb = arc.store.put_bytes(_thumb(), content_type="image/webp")
    t0 = time.time()
    with arc.session() as s:
        staff = create_user(s, "staff1", STAFF_PW, role="staff", department="销售部")
        staff_id = staff.id
        fonds_id = s.query(Fonds).filter_by(code="J001").one().id
        cats = [(c.code, c.id) for c in s.query(Category).order_by(Category.code)][:4]
        customers = [Customer(number=f"KH-2024{(n % 12) + 1:02d}{n:03d}", name=f"客户{n}有限公司",
                              kind="企业") for n in range(200)]
        shelves = [Shelf(code=str(n % 6 + 1), section=Section(code=str(n // 6 + 1), rack=Rack(
            code=str(n + 1), room=Room(code=f"R{n}", name=f"{n}号库房")))) for n in range(40)]
        boxes = [Box(barcode=f"WB-{n:05d}", shelf=shelves[n % 40]) for n in range(400)]
        s.add_all(customers + boxes)
        s.flush()
        customer_ids = [c.id for c in customers]
        box_ids = [b.id for b in boxes]
    n_items = max(1, n_pages // PAGES_PER_ITEM)
    levels = ["内部"] * 80 + ["公开"] * 12 + ["秘密"] * 6 + ["机密"] * 2
    for start in range(0, n_items, 500):
        with arc.session() as s:
            for i in range(start, min(start + 500, n_items)):
                cat_code, cat_id = cats[i % len(cats)]
                year, retention = 2010 + i % 15, ("D30", "Y", "D10")[i // 15 % 3]
                code = allocate(s, "J001", cat_code, year, retention, None)
                item = ArchiveItem(
                    archival_code=format_code(code), fonds_id=fonds_id, category_id=cat_id,
                    year=year, retention=retention, item_no=code.item_no,
                    title=f"第{i}号合同 {words[int(rng.integers(len(words)))]}",
                    secrecy=levels[int(rng.integers(len(levels)))], status="ready",
                    owner_id=staff_id if i % 8 == 0 else None, created_by="bench",
                    paper_pages=PAGES_PER_ITEM, customer_id=customer_ids[i % 200],
                    box_id=box_ids[i % 400])
                s.add(item)
                s.flush()
                f = StoredFile(item_id=item.id, role="original", seq=1, key=thumb.key,
                               sha256=f"{i:064x}", size=thumb.size, original_name="scan.pdf",
                               format="pdf", page_count=PAGES_PER_ITEM)
                s.add(f)
                s.flush()
                s.add_all(Page(item_id=item.id, file_id=f.id, n=n, file_page=n, status="done",
                               source="ocr", text=_page_text(words, p, rng), confidence=90.0,
                               width=2480, height=3508, words=[], thumb_key=thumb.key,
                               image_key=thumb.key) for n in range(1, PAGES_PER_ITEM + 1))
        print(f"  registered {min(start + 500, n_items) * PAGES_PER_ITEM} pages "
              f"({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    t1 = time.process_time()
    reindex(arc)
    print(f"  indexed {n_items * PAGES_PER_ITEM} pages in {time.process_time() - t1:.0f} s CPU",
          file=sys.stderr, flush=True)
    arc.engine.dispose()
    (data / "bench-ready").write_text(json.dumps({"pages": n_items * PAGES_PER_ITEM}))


def pick_queries(data: Path, n: int, seed: int = 11) -> list[str]:
    """Phrases of 2–4 characters cut from random pages' text (each has at least one hit)."""
    import sqlite3

    rng = random.Random(seed)
    con = sqlite3.connect(data / "catalogue.sqlite3")
    top = con.execute("select max(id) from page").fetchone()[0]
    out: list[str] = []
    while len(out) < n:
        row = con.execute("select text from page where id = ?",
                          (rng.randint(1, top),)).fetchone()
        text = re.sub(r"[^\u4e00-\u9fff]", "", (row or [""])[0] or "")
        if len(text) < 10:
            continue
        k = rng.choice((2, 3, 3, 4))
        at = rng.randrange(len(text) - k)
        out.append(text[at:at + k])
    con.close()
    return out


# ----------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`dangan serve` on loopback, as in production (its processes and threads)."""

    def __init__(self, data: Path, processes: int, workers: bool = False,
                 src: Path = ROOT) -> None:
        self.port = free_port()
        env = {**os.environ, "DANGAN_DATA": str(data), "DANGAN_WEB_PROCESSES": str(processes),
               "OMP_THREAD_LIMIT": "1", "PYTHONPATH": str(src)}
        for key in ("DANGAN_DATABASE_URL", "DANGAN_STORAGE_URL", "DANGAN_QUEUE_URL",
                    "DANGAN_SEARCH_URL"):
            env.pop(key, None)
        args = [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1",
                "--port", str(self.port)] + ([] if workers else ["--no-workers"])
        # The server's stderr goes to a file, never to a pipe nobody reads while it serves:
        # waitress logs "Task queue depth is N" whenever requests wait for a thread, so at 20
        # clients a run writes thousands of lines; once the 64 KB pipe was full every web
        # process blocked in write() (wchan anon_pipe_write), idle, and the table's last
        # runs answered a few requests or none, although the same run by hand served ~100/s.
        self.log = tempfile.TemporaryFile(prefix="web-bench-server-", suffix=".log")
        self.proc = subprocess.Popen(args, env=env, cwd=src, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/login", timeout=2).read()
                break
            except OSError as exc:
                if self.proc.poll() is not None:
                    raise SystemExit("the server did not start: " + self.log_tail()) from exc
                time.sleep(0.5)
        self.web_pids = self._web_pids()

    def log_tail(self, size: int = 2000) -> str:
        """The end of what the server wrote to stderr."""
        self.log.seek(0, io.SEEK_END)
        self.log.seek(max(0, self.log.tell() - size))
        return self.log.read().decode(errors="replace")

    def _tree(self) -> list[int]:
        """The server process and all its descendants."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def _web_pids(self) -> list[int]:
        """The processes that serve requests (not the OCR workers)."""
        out = []
        for pid in self._tree():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"worker" not in cmd:  # `python -m cli worker` and its worker processes
                out.append(pid)
        return out

    def worker_nice(self) -> list[int]:
        """The OS priority (nice) of the OCR worker processes, as they run."""
        out = []
        for pid in set(self._tree()) - set(self.web_pids):
            try:
                out.append(int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1]
                               .split()[16]))
            except OSError:
                continue
        return sorted(set(out))

    def cpu(self) -> float:
        """User+system seconds of the web processes so far."""
        total = 0.0
        for pid in self.web_pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / CLK
        return total

    def login(self, username: str, password: str) -> str:
        """Sign in like a browser; the session cookie's header value."""
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(self.base + "/login").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        body = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrf_token": token}).encode()
        opener.open(self.base + "/login", data=body).read()
        return "; ".join(f"{c.name}={c.value}" for c in jar)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


# ----------------------------------------------------------------- the load

_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Cookie"] = "%s"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%.3f %%.3f %%.3f %%.3f\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000))
end
"""


def wrk(server: Server, cookie: str, paths: list[str], clients: int, duration: int) -> dict:
    """One bounded wrk run; its counts and latency percentiles (ms)."""
    quoted = ", ".join(json.dumps(p) for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_LUA % (quoted, cookie))
        script = f.name
    try:
        cpu0 = server.cpu()
        out = subprocess.run(
            ["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{duration}s",
             "--timeout", "10s", "-s", script, server.base],
            capture_output=True, text=True, timeout=duration + 60, check=True).stdout
        cpu = server.cpu() - cpu0
    finally:
        os.unlink(script)
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    n, us, conn, read, write, status, timeout, p50, p95, p99, mean = line.split()[1:]
    n_req = int(n)
    return {"requests": n_req, "rps": n_req / (int(us) / 1e6),
            "errors": int(conn) + int(read) + int(write) + int(status) + int(timeout),
            "p50": float(p50), "p95": float(p95), "p99": float(p99), "mean": float(mean),
            "cpu_ms": 1000 * cpu / max(1, n_req)}


def engine_cpu_ms(data: Path, username: str, queries: list[str], api: bool) -> float:
    """The engine's CPU per query in this process: the service's search for the same user
    and queries as the endpoint asks (the page: facets, 20 hits; the API: 10 hits)."""
    from sqlalchemy import select

    from service.archive import Archive
    from service.config import Settings
    from service.models import User
    from service.search import parse_search_params, run_search

    arc = Archive(Settings.from_env({"DANGAN_DATA": str(data)}))
    with arc.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        s.expunge(user)
    for q in queries[:20]:  # warm the page cache
        run_search(arc, parse_search_params({"q": q}), user=user, facets=not api, raw=True,
                   audited=False)
    t0 = time.process_time()
    for q in queries:
        params = parse_search_params({"q": q}, default_limit=10 if api else 20)
        run_search(arc, params, user=user, facets=not api, raw=True, audited=False)
    arc.engine.dispose()
    return 1000 * (time.process_time() - t0) / len(queries)


def _row(label: str, r: dict, engine_ms: float | None) -> str:
    ratio = f"{r['cpu_ms'] / engine_ms:5.1f}x" if engine_ms else "   - "
    return (f"{label:<28} {r['rps']:7.1f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} "
            f"{r['errors']:6d} {r['cpu_ms']:8.1f} {engine_ms or 0:8.1f} {ratio}")


def _engine_in_child(data: Path, username: str, queries: list[str], api: bool) -> float:
    """engine_cpu_ms in a forked process: none of its connections outlives it (a search
    engine left open in this process beside the server once stalled a whole run)."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(engine_cpu_ms, (data, username, queries, api))


def load_table(data: Path, queries: list[str], clients: list[int], duration: int,
               processes: int, src: Path = ROOT) -> list[dict]:
    usernames = {"admin": "admin", "staff": "staff1"}
    server = Server(data, processes, src=src)
    results = []
    try:
        cookies = {"admin": server.login("admin", ADMIN_PW),
                   "staff": server.login("staff1", STAFF_PW)}
        endpoints = {"page": "/search?q=%s", "api": "/api/v1/search?q=%s"}
        print(f"{'endpoint role clients':<28} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'p99 ms':>8} {'errors':>6} {'srv CPU':>8} {'engine':>8} ratio")
        for ep, pattern in endpoints.items():
            paths = [pattern % urllib.parse.quote(q) for q in queries]
            for role, cookie in cookies.items():
                for c in clients:
                    r = wrk(server, cookie, paths, c, duration)
                    # the engine measured right after the run, so that a shared machine's
                    # changing speed weighs alike on both sides of the ratio; the engine in
                    # this process is this checkout's: only beside its own server
                    engine_ms = _engine_in_child(data, usernames[role], queries, ep == "api") \
                        if src == ROOT else None
                    r.update(endpoint=ep, role=role, clients=c, engine_ms=engine_ms)
                    results.append(r)
                    print(_row(f"{ep} {role} {c}", r, engine_ms), flush=True)
    finally:
        server.stop()
    return results


# ----------------------------------------------------------------- searches beside OCR


def _api_token(data: Path) -> str:
    """An API token of the bench's archivist (who uploads beside the searches)."""
    from sqlalchemy import select

    from service.archive import Archive
    from service.config import Settings
    from service.models import User
    from service.users import create_user, issue_token

    arc = Archive(Settings.from_env({"DANGAN_DATA": str(data)}))
    with arc.session() as s:
        user = s.scalar(select(User).where(User.username == "ocr1")) \
            or create_user(s, "ocr1", STAFF_PW, role="archivist")
        token = issue_token(user)
    arc.engine.dispose()
    return token


def _scan(n: int) -> bytes:
    """A printed A4 page at 150 dpi as a scanner delivers it (PNG), its text its own."""
    from tests.scanfactory import render_page

    rng = random.Random(n)
    lines = [f"购销合同 第{n}号 甲方：测试贸易有限公司{rng.randint(100, 999)}",
             "乙方：示例科技发展有限公司 签订日期：2024年5月8日",
             *("".join(rng.choice("合同约定双方权利义务货物数量价格交付验收付款违约责任争议解决")
                       for _ in range(30)) for _ in range(24))]
    buf = io.BytesIO()
    render_page(lines, noise=True).save(buf, "PNG")
    return buf.getvalue()


def _upload(base: str, token: str, n: int) -> None:
    """POST /api/v1/items: one item of two scanned pages, OCR'd by the workers."""
    boundary = f"bench{n}x{time.time_ns()}"
    fields = {"fonds": "J001", "category": "HT", "year": "2024", "retention": "D30",
              "secrecy": "内部", "title": f"OCR并行测试{n}"}
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             .encode() for k, v in fields.items()]
    for k in (1, 2):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                     f'filename="scan{n}-{k}.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
                     + _scan(n * 10 + k) + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + "/api/v1/items", data=body, headers={
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    urllib.request.urlopen(req, timeout=120).read()


def _ocr_busy(data: Path) -> int:
    """Pages waiting or being read."""
    import sqlite3

    con = sqlite3.connect(data / "catalogue.sqlite3")
    n = con.execute("select count(*) from page where status not in ('done', 'failed')"
                    ).fetchone()[0]
    con.close()
    return int(n)


def ocr_beside(data: Path, queries: list[str], duration: int, processes: int) -> dict:
    """Search p50/p95 and server CPU at 5 clients alone, then while uploads are OCR'd by
    the server's workers (DANGAN_WORKER_NICE lower than the web)."""
    token = _api_token(data)
    server = Server(data, processes, workers=True)
    try:
        cookie = server.login("admin", ADMIN_PW)
        paths = [f"/search?q={urllib.parse.quote(q)}" for q in queries]
        alone = wrk(server, cookie, paths, 5, duration)
        stop = threading.Event()
        uploaded = [0]

        def upload() -> None:
            n = int(time.time()) % 100_000 * 100
            while not stop.is_set():
                n += 1
                if _ocr_busy(data) < 8:  # keep the workers busy, not the queue growing
                    _upload(server.base, token, n)
                    uploaded[0] += 1
                time.sleep(0.5)

        t = threading.Thread(target=upload, daemon=True)
        t.start()
        while _ocr_busy(data) == 0 and t.is_alive():
            time.sleep(0.5)
        time.sleep(3)  # the workers are reading pages
        busy_before = _ocr_busy(data)
        nice = server.worker_nice()
        beside = wrk(server, cookie, paths, 5, duration)
        stop.set()
        t.join(120)
    finally:
        server.stop()
    return {"alone": alone, "beside": beside, "uploads": uploaded[0], "busy": busy_before,
            "nice": nice}


def profile(data: Path, queries: list[str], username: str, password: str) -> None:
    """Where a search page's server CPU goes: pyinstrument over the app in this process."""
    from pyinstrument import Profiler

    from service.archive import Archive
    from service.config import Settings
    from web.app import create_app

    app = create_app(Archive(Settings.from_env({"DANGAN_DATA": str(data)})))
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    client.post("/login", data={"username": username, "password": password,
                                "csrf_token": token})
    paths = [f"/search?q={urllib.parse.quote(q)}" for q in queries]
    for path in paths[:10]:
        client.get(path)
    profiler = Profiler(interval=0.0005)
    t0 = time.process_time()
    with profiler:
        for path in paths:
            assert client.get(path).status_code == 200
    print(f"search page in process, {username}: "
          f"{1000 * (time.process_time() - t0) / len(paths):.1f} ms CPU a request (profiled)")
    print(profiler.output_text(unicode=True, color=False, show_all=False))


# ----------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100_000)
    ap.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    ap.add_argument("--clients", default="1,5,20")
    ap.add_argument("--processes", type=int, default=0,
                    help="web processes (default: DANGAN_WEB_PROCESSES's default, cores)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--ocr-beside", action="store_true")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--server-src", type=Path, default=ROOT,
                    help="serve another checkout's code (a baseline: an earlier commit)")
    ap.add_argument("--profile", action="store_true",
                    help="only profile the search page in process (pyinstrument)")
    args = ap.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (make bench installs it)")
    processes = args.processes or os.cpu_count() or 1
    data = args.data or HERE / "out" / f"web-{args.pages}"
    t0 = time.time()
    build_archive(data, args.pages)
    pages = json.loads((data / "bench-ready").read_text())["pages"]
    print(f"web bench: {pages} pages ({data}, ready in {time.time() - t0:.0f} s), "
          f"{processes} web processes, {args.duration} s per run, {os.cpu_count()} cores")
    queries = pick_queries(data, args.queries)
    if args.profile:
        profile(data, queries, "admin", ADMIN_PW)
        return 0
    clients = [int(c) for c in args.clients.split(",")]
    results = load_table(data, queries, clients, args.duration, processes, args.server_src)
    ok = True
    for r in results:
        if r["errors"]:
            ok = False
            print(f"FAIL {r['endpoint']} {r['role']} {r['clients']}: {r['errors']} errors")
        if r["clients"] == 20 and r["p95"] > TARGET_P95_MS:
            ok = False
            print(f"MISS {r['endpoint']} {r['role']} 20 clients: p95 {r['p95']:.0f} ms "
                  f"> {TARGET_P95_MS:.0f} ms")
    for role in ("admin", "staff"):
        page = [r for r in results if r["endpoint"] == "page" and r["role"] == role]
        if not page[0]["engine_ms"]:
            continue
        ratio = statistics.median(r["cpu_ms"] / r["engine_ms"] for r in page)
        print(f"search page, {role}: server CPU {ratio:.1f}x the engine's "
              f"(target <= {TARGET_CPU_RATIO:.0f}x)")
        ok = ok and ratio <= TARGET_CPU_RATIO
    if args.ocr_beside:
        o = ocr_beside(data, queries, args.duration, processes)
        slow = o["beside"]["p95"] / max(o["alone"]["p95"], 1e-9)
        print(f"search page, 5 clients, beside OCR ({o['uploads']} uploads of 2 pages, "
              f"{o['busy']} pages in work, workers at nice {o['nice']}): p50 {o['alone']['p50']:.1f} -> "
              f"{o['beside']['p50']:.1f} ms, p95 {o['alone']['p95']:.1f} -> "
              f"{o['beside']['p95']:.1f} ms ({slow:.2f}x, target <= {TARGET_OCR_SLOWDOWN:.0f}x), "
              f"{o['alone']['rps']:.1f} -> {o['beside']['rps']:.1f} req/s, errors "
              f"{o['alone']['errors']} + {o['beside']['errors']}, server CPU a request "
              f"{o['alone']['cpu_ms']:.1f} -> {o['beside']['cpu_ms']:.1f} ms")
        ok = ok and slow <= TARGET_OCR_SLOWDOWN
    print("web targets: " + ("met" if ok else "NOT met"))
    return 0  # the figures are the result; `make bench` goes on to print them all


if __name__ == "__main__":
    sys.exit(main())
