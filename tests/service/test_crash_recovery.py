"""Nothing lost, nothing twice: SIGKILL the workers mid-item, restart, and the item completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelp import INGEST, ROOT, dangan, dangan_json
from scanfactory import render_page, write_tiff
from sqlalchemy import create_engine, text

PAGES = 6


def _page_states(data: Path) -> list[tuple[int, str]]:
    engine = create_engine(f"sqlite:///{data / 'catalogue.sqlite3'}")
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(text("SELECT n, status FROM page ORDER BY n"))]
    finally:
        engine.dispose()


def _start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli", "worker", "-w", "2"], cwd=ROOT,
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.slow
def test_sigkill_mid_item_then_restart_completes_without_gaps_or_duplicates(
        archive_env: dict[str, str], tmp_path: Path) -> None:
    env = archive_env
    data = Path(env["DANGAN_DATA"])
    dangan(env, "init", "--admin-password", "initial-pass")
    pages = [render_page(["房屋租赁合同", "甲方应于二〇二四年三月前支付合同款",
                          f"甲方乙方共同遵守第{i}条约定", "合同编号 HT-2024-0031"])
             for i in range(1, PAGES + 1)]
    volume = write_tiff(tmp_path / "volume.tif", pages)
    res = dangan_json(env, "ingest", str(volume), *INGEST, "--title", "多页合同")
    assert res["pages"] == PAGES and res["status"] == "processing"

    worker = _start_worker(env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = dict(_page_states(data))
            if "done" in states.values() and any(s != "done" for s in states.values()):
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"workers made no progress: {_page_states(data)}")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    killed_at = dict(_page_states(data))
    assert any(s != "done" for s in killed_at.values()), "item finished before the kill"

    worker = _start_worker(env)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if dangan_json(env, "show", str(res["id"]))["status"] != "processing":
                break
            time.sleep(0.5)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    shown = dangan_json(env, "show", str(res["id"]))
    assert shown["status"] == "ready", shown["status_reason"]
    assert [p["n"] for p in shown["pages"]] == list(range(1, PAGES + 1))
    assert all(p["status"] == "done" and p["text"] for p in shown["pages"])
    for i, page in enumerate(shown["pages"], start=1):
        assert f"第{i}条约定" in page["text"]
    hits = dangan_json(env, "search", "甲方乙方共同遵守", "--limit", "10")
    assert hits["total"] == 1
    engine = create_engine(f"sqlite:///{data / 'catalogue.sqlite3'}")
    with engine.connect() as c:
        indexed = c.execute(text("SELECT page_no FROM search_page WHERE item_id = :i "
                                 "ORDER BY page_no"), {"i": res["id"]}).scalars().all()
    engine.dispose()
    assert indexed == list(range(1, PAGES + 1))
    pdf = next(f for f in shown["files"] if f["role"] == "searchable_pdf")
    assert pdf["pages"] == PAGES
