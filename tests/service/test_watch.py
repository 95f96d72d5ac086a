"""The scanner hot folder: settled files are ingested and moved to done/ or failed/."""

from __future__ import annotations

import json
from pathlib import Path

from clihelp import INGEST, dangan
from scanfactory import render_page, write_jpeg, write_text

from service.ingest import IngestRequest
from service.watch import WatchState, scan_once


def test_files_are_taken_only_once_settled(archive, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    scan = write_jpeg(inbox / "合同扫描.jpg", render_page(["委托代理合同", "乙方负责办理"],
                                                        size=(800, 1000)))
    (inbox / "still-writing.part").write_bytes(b"partial")
    template = IngestRequest(files=[], fonds="J001", category="HT", year=2024, retention="D30",
                             secrecy="内部", title="")
    state = WatchState()
    assert scan_once(archive, inbox, template, state, settle=2, now=100.0) == []
    assert scan_once(archive, inbox, template, state, settle=2, now=101.0) == []
    with scan.open("ab") as fh:  # the scanner is still writing: the clock restarts
        fh.write(b"\0")
    assert scan_once(archive, inbox, template, state, settle=2, now=102.5) == []
    reports = scan_once(archive, inbox, template, state, settle=2, now=105.0)
    assert len(reports) == 1 and reports[0]["archival_code"] == "J001-HT·2024-D30-0001"
    assert Path(reports[0]["moved_to"]).parent == tmp_path / "done"
    assert not scan.exists() and (inbox / "still-writing.part").exists()


def test_watch_command_moves_bad_files_to_failed_with_a_reason(
        archive_env: dict[str, str], tmp_path: Path) -> None:
    dangan(archive_env, "init", "--admin-password", "initial-pass")
    inbox = tmp_path / "scans"
    inbox.mkdir()
    write_text(inbox / "notes.pdf")
    proc = dangan(archive_env, "watch", str(inbox), *INGEST, "--settle", "0.2",
                  "--interval", "0.2", "--once")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "id" not in report and "archival_code" not in report  # nothing registered
    moved = Path(report["moved_to"])
    assert moved.parent == tmp_path / "failed" and moved.exists()
    reason = moved.with_name(moved.name + ".txt").read_text(encoding="utf-8")
    assert "text" in reason.lower() or "文本" in reason
