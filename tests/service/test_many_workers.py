"""Several `dangan worker` processes on one Redis queue, two of them SIGKILLed while they hold
a page (#14.5, #15.5): every page is done exactly once, none is lost, every item is
finalised once, the periodic reconcile ran once per period, and `dangan check` is clean.

The production setting: the catalogue on this machine's PostgreSQL (a database of the
test's own), the queue on its Redis (a queue name of the test's own), short leases so that
a dead worker's page comes back within seconds. What each worker did is read from its log.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from clihelp import INGEST, ROOT, dangan, dangan_json
from machine_services import REDIS_URL
from scanfactory import render_page, write_tiff

ITEMS, PAGES, WORKERS = 3, 4, 3
DONE = re.compile(r"page (\d+) done by (\S+) ")
CLAIMED = re.compile(r"page (\d+) claimed by (\S+) ")
FINALISED = re.compile(r"item (\d+) finalised by ")
PERIOD = re.compile(r"reconcile: period (\d+) claimed by ")


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "cli", "worker", "-w", "1"], cwd=ROOT,
                                env={**os.environ, **env}, stdout=out, stderr=out,
                                start_new_session=True)


def _running(engine: sa.Engine) -> list[tuple[int, str]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(sa.text(
            "SELECT id, worker FROM page WHERE status = 'running' AND worker IS NOT NULL"))]


def _kill_one_holding_a_page(engine: sa.Engine, workers: list[subprocess.Popen[bytes]],
                             deadline: float) -> int | None:
    """SIGKILL the whole process group of a live worker while one of its processes holds a
    page; returns that page's id when the worker died holding it (None when it finished
    the page in the instant between the look and the kill)."""
    live = {w.pid: w for w in workers if w.poll() is None}
    while time.monotonic() < deadline:
        for page, holder in _running(engine):
            try:
                group = os.getpgid(int(holder.split(":")[1]))  # host:pid:token
            except ProcessLookupError:
                continue
            if group in live:
                os.killpg(group, signal.SIGKILL)
                live[group].wait(10)
                return page if (page, holder) in _running(engine) else None
        time.sleep(0.05)
    pytest.fail("no worker was seen holding a page")


@pytest.mark.slow
@pytest.mark.postgres
def test_workers_killed_mid_page_lose_nothing_and_run_nothing_twice(
        archive_env: dict[str, str], pg_url: str, redis_queue: str, tmp_path: Path) -> None:
    env = {**archive_env, "DANGAN_DATABASE_URL": pg_url, "DANGAN_QUEUE_URL": REDIS_URL,
           "DANGAN_QUEUE_NAME": redis_queue, "DANGAN_WORKERS": "1", "DANGAN_PAGE_LEASE": "3",
           "DANGAN_RECONCILE_INTERVAL": "2", "DANGAN_OCR_TIMEOUT": "60"}
    dangan(env, "init", "--admin-password", "initial-pass")
    items = []
    for k in range(ITEMS):
        scan = write_tiff(tmp_path / f"vol{k}.tif", [
            render_page([f"借款合同第{k}卷", f"甲方乙方共同遵守第{k}卷第{i}条约定"], size=(700, 500))
            for i in range(1, PAGES + 1)])
        items.append(dangan_json(env, "ingest", str(scan), *INGEST, "--title", f"借款合同{k}")["id"])

    engine = sa.create_engine(pg_url)
    logs = [tmp_path / f"worker-{i}.log" for i in range(WORKERS)]
    workers = [_start(env, log) for log in logs]
    try:
        deadline = time.monotonic() + 120
        held = [_kill_one_holding_a_page(engine, workers, deadline) for _ in range(2)]
        survivor = next(w for w in workers if w.poll() is None)
        deadline = time.monotonic() + 240
        while True:
            with engine.connect() as c:
                unfinished = c.execute(sa.text(
                    "SELECT count(*) FROM archive_item WHERE status = 'processing'")).scalar()
            if not unfinished:
                break
            assert survivor.poll() is None, "the last worker stopped"
            assert time.monotonic() < deadline, "the pages of the killed workers never came back"
            time.sleep(0.5)
        time.sleep(3)  # a few more reconcile periods with nothing to do
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, signal.SIGKILL)
                w.wait(5)

    text = "\n".join(log.read_text(encoding="utf-8", errors="replace") for log in logs)
    with engine.connect() as c:
        pages = dict(c.execute(sa.text("SELECT id, item_id FROM page")).all())
        states = Counter(c.execute(sa.text("SELECT status FROM page")).scalars())
        pdfs = Counter(c.execute(sa.text(
            "SELECT item_id FROM stored_file WHERE role = 'searchable_pdf'")).scalars())
    engine.dispose()
    assert len(pages) == ITEMS * PAGES and states == {"done": ITEMS * PAGES}
    killed = [p for p in held if p is not None]
    assert killed, "neither worker died holding its page"

    done = Counter(int(p) for p, _ in DONE.findall(text))
    assert done == dict.fromkeys(pages, 1), "a page was lost or done twice"
    claims = Counter(int(p) for p, _ in CLAIMED.findall(text))
    assert set(killed) <= {p for p, n in claims.items() if n >= 2}  # taken again after the kill
    assert all(n == 1 for p, n in claims.items() if p not in killed), claims
    assert Counter(int(i) for i in FINALISED.findall(text)) == dict.fromkeys(items, 1)
    assert pdfs == dict.fromkeys(items, 1)
    periods = Counter(PERIOD.findall(text))
    assert len(periods) >= 3 and set(periods.values()) == {1}, periods

    for item in items:
        shown = dangan_json(env, "show", str(item))
        assert shown["status"] == "ready", shown["status_reason"]
        assert [p["n"] for p in shown["pages"]] == list(range(1, PAGES + 1))
    assert dangan_json(env, "search", "共同遵守第1卷第3条")["total"] == 1
    for check in (("check",), ("check", "--orphans", "--grace", "0")):
        proc = dangan(env, *check, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.postgres
def test_the_periodic_reconcile_runs_once_per_period_with_several_workers(
        archive_env: dict[str, str], pg_url: str, redis_queue: str, tmp_path: Path) -> None:
    """Three idle workers, each queueing the reconcile twice a period: every period in
    which they ran is claimed, and claimed by one worker only."""
    env = {**archive_env, "DANGAN_DATABASE_URL": pg_url, "DANGAN_QUEUE_URL": REDIS_URL,
           "DANGAN_QUEUE_NAME": redis_queue, "DANGAN_WORKERS": "1",
           "DANGAN_RECONCILE_INTERVAL": "1"}
    dangan(env, "init", "--admin-password", "initial-pass")
    logs = [tmp_path / f"worker-{i}.log" for i in range(WORKERS)]
    workers = [_start(env, log) for log in logs]
    try:
        deadline = time.monotonic() + 90
        while True:  # until each has run for a while
            periods = [PERIOD.findall(log.read_text(encoding="utf-8")) for log in logs]
            if len(set().union(*periods)) >= 8:
                break
            assert time.monotonic() < deadline, periods
            assert all(w.poll() is None for w in workers), "a worker stopped"
            time.sleep(0.5)
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            w.wait(30)
    claimed = Counter(int(p) for log in logs for p in PERIOD.findall(log.read_text(encoding="utf-8")))
    assert set(claimed.values()) == {1}, claimed
    span = range(min(claimed), max(claimed) + 1)
    assert len(claimed) >= 0.7 * len(span), sorted(claimed)  # hardly a period missed
