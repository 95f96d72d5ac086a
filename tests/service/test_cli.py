"""The command-line contract: init, ingest (with real OCR), show, search, check, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from clihelp import INGEST, ROOT, dangan, dangan_json
from scanfactory import render_page, write_corrupt_image, write_png, write_zero_byte

PHRASE = "甲方应于二〇二四年三月前支付合同款"


@pytest.fixture
def env(archive_env: dict[str, str]) -> dict[str, str]:
    dangan(archive_env, "init", "--admin-password", "initial-pass")
    return archive_env


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    img = render_page(["房屋租赁合同", PHRASE, "合同编号 HT-2024-0031"])
    return write_png(tmp_path / "contract.png", img)


def test_init_is_idempotent_and_prints_a_one_time_password(archive_env: dict[str, str]) -> None:
    out = dangan(archive_env, "init").stdout
    assert "admin" in out and "one-time password" in out
    again = dangan_json(archive_env, "init")
    assert again["admin_created"] is False and again["admin_password"] is None
    assert Path(archive_env["DANGAN_DATA"], "catalogue.sqlite3").exists()


@pytest.mark.slow
def test_ingest_wait_show_search_round_trip(env: dict[str, str], scan: Path) -> None:
    res = dangan_json(env, "ingest", str(scan), *INGEST, "--title", "房屋租赁合同", "--wait")
    assert res == {"id": 1, "archival_code": "J001-HT·2024-D30-0001", "status": "ready", "pages": 1}
    shown = dangan_json(env, "show", "1")
    original = next(f for f in shown["files"] if f["role"] == "original")
    import hashlib

    assert original["sha256"] == hashlib.sha256(scan.read_bytes()).hexdigest()
    assert original["size"] == scan.stat().st_size
    assert shown["pages"][0]["n"] == 1
    assert "支付合同款" in shown["pages"][0]["text"]
    hits = dangan_json(env, "search", "支付合同款", "--limit", "5")
    assert hits["total"] == 1
    hit = hits["hits"][0]
    assert {"id", "archival_code", "title", "page", "snippet", "score"} <= set(hit)
    assert hit["id"] == 1 and hit["page"] == 1 and "<mark>" in hit["snippet"]
    # the same file again is refused, naming the item that holds it
    again = dangan(env, "ingest", str(scan), *INGEST, "--title", "again", check=False)
    assert again.returncode == 2 and "J001-HT·2024-D30-0001" in again.stderr
    assert dangan_json(env, "show", "1")["files"] == shown["files"]
    # a second item gets the next number
    other = write_png(scan.with_name("other.png"), render_page(["借款协议", "乙方按月归还本金"]))
    second = dangan_json(env, "ingest", str(other), *INGEST, "--title", "借款协议")
    assert second["archival_code"] == "J001-HT·2024-D30-0002"
    # fixity: all good, then a tampered derived file is reported
    assert dangan(env, "check", "--fixity").returncode == 0
    key = next(f["key"] for f in shown["files"] if f["role"] == "searchable_pdf")
    pdf = Path(env["DANGAN_DATA"], "objects", key)
    pdf.write_bytes(pdf.read_bytes() + b"tampered")
    proc = dangan(env, "check", "--fixity", "--json", check=False)
    assert proc.returncode == 1
    bad = json.loads(proc.stdout)["fixity"]["bad"]
    assert [b["key"] for b in bad] == [key]


@pytest.mark.parametrize("args,needle", [
    (("--retention", "D20"), "D20"),
    (("--secrecy", "保密"), "保密"),
    (("--category", "QQ"), "QQ"),
    (("--fonds", "X999"), "X999"),
    (("--org", "ab"), "ab"),
    (("--year", "20x4"), "year"),
    (("--customer", "KH-209901001"), "KH-209901001"),
    (("--box", "NO-SUCH-BOX"), "NO-SUCH-BOX"),
    (("--year", "2099"), "2099"),
    (("--date", "2023-06-30"), "不在年度 2024 内"),
    (("--customer", "KH-2024"), "KH-YYYYMMNNN"),
])
def test_bad_input_exits_2_with_a_message_and_registers_nothing(
        env: dict[str, str], scan: Path, args: tuple[str, ...], needle: str) -> None:
    base = dict(zip(INGEST[::2], INGEST[1::2], strict=True))
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    flat = [x for kv in base.items() for x in kv]
    proc = dangan(env, "ingest", str(scan), *flat, "--title", "t", "--json", check=False)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr
    assert proc.stdout == ""
    assert not Path(env["DANGAN_DATA"], "objects", "sha256").exists() or not any(
        Path(env["DANGAN_DATA"], "objects", "sha256").rglob("*"))


def test_missing_and_unreadable_paths_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    proc = dangan(env, "ingest", str(tmp_path / "nope.png"), *INGEST, "--title", "t",
                  check=False)
    assert proc.returncode == 2 and "nope.png" in proc.stderr
    proc = dangan(env, "ingest", str(tmp_path), *INGEST, "--title", "t", check=False)
    assert proc.returncode == 2 and "Not a regular file" in proc.stderr
    shown = dangan(env, "show", "1", check=False)
    assert shown.returncode == 2 and "does not exist" in shown.stderr


@pytest.mark.parametrize("args,status", [
    (("show", str(2**63)), 2),
    (("retry", "99999999999999999999"), 2),
    (("box", "add", "BOX-HUGE", "--year", "99999999999999999999"), 2),
])
def test_numbers_past_the_database_are_answered_not_a_traceback(env: dict[str, str], args,
                                                                status: int) -> None:
    """An id or year no column can hold is "not found" / a bad value, not an OverflowError."""
    proc = dangan(env, *args, check=False)
    assert proc.returncode == status and "Traceback" not in proc.stderr, proc.stderr


def test_commands_before_init_say_to_run_init(archive_env: dict[str, str], scan: Path) -> None:
    proc = dangan(archive_env, "search", "合同", check=False)
    assert proc.returncode == 2 and "dangan init" in proc.stderr


def test_nothing_readable_is_refused_with_each_reason_and_uses_no_code(
        env: dict[str, str], tmp_path: Path, scan: Path) -> None:
    empty = write_zero_byte(tmp_path / "empty.jpg")
    corrupt = write_corrupt_image(tmp_path / "corrupt.png")
    proc = dangan(env, "ingest", str(empty), str(corrupt), *INGEST, "--title", "坏图", "--json",
                  check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "没有占用档号" in proc.stderr
    lines = proc.stderr.splitlines()
    assert any(line.strip().startswith("empty.jpg: ") for line in lines)
    assert any(line.strip().startswith("corrupt.png: ") for line in lines)
    assert not Path(env["DANGAN_DATA"], "objects", "sha256").exists() or not any(
        Path(env["DANGAN_DATA"], "objects", "sha256").rglob("*"))
    good = dangan_json(env, "ingest", str(scan), *INGEST, "--title", "好图")
    assert good["archival_code"] == "J001-HT·2024-D30-0001"


def test_ingest_of_a_stored_file_says_so_and_registers_nothing(env: dict[str, str],
                                                               scan: Path) -> None:
    first = dangan_json(env, "ingest", str(scan), *INGEST, "--title", "第一次")
    proc = dangan(env, "ingest", str(scan), *INGEST, "--category", "WS", "--title", "第二次",
                  check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "已经入库" in proc.stderr and first["archival_code"] in proc.stderr
    assert f"dangan show {first['id']}" in proc.stderr  # how to open it
    other = dangan_json(env, "ingest", str(write_png(scan.with_name("b.png"),
                                                     render_page(["另一件"]))),
                        *INGEST, "--category", "WS", "--title", "另一件")
    assert other["archival_code"] == "J001-WS·2024-D30-0001"


def test_concurrent_ingests_never_collide(env: dict[str, str], tmp_path: Path) -> None:
    files = [write_png(tmp_path / f"s{i}.png", render_page([f"第{i}号合同", "双方签字盖章"],
                                                              size=(600, 800)))
             for i in range(6)]
    import os

    procs = [subprocess.Popen([sys.executable, "-m", "cli", "ingest", str(f), *INGEST,
                               "--title", f"合同{i}", "--json"], cwd=ROOT,
                              env={**os.environ, **env}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for i, f in enumerate(files)]
    codes = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        codes.append(json.loads(out)["archival_code"])
    assert sorted(codes) == [f"J001-HT·2024-D30-{n:04d}" for n in range(1, 7)]


@pytest.mark.slow
def test_search_respects_ownership_and_secrecy(env: dict[str, str], tmp_path: Path) -> None:
    dangan(env, "user", "add", "zhang", "--password", "password-1", "--department", "销售部")
    dangan(env, "user", "add", "wang", "--password", "password-2", "--department", "采购部")
    dangan(env, "customer", "add", "KH-202405001", "--name", "上海某贸易公司", "--owner", "zhang")
    dangan(env, "box", "add", "BOX-0001", "--room", "A", "--rack", "3", "--section", "2",
           "--shelf", "4", "--year", "2024", "--retention", "D30")
    lines = ["委托加工合同", "乙方交付的产品应符合国家标准"]
    own = write_png(tmp_path / "own.png", render_page(lines + ["编号一"]))
    secret = write_png(tmp_path / "secret.png", render_page(lines + ["编号二"]))
    a = dangan_json(env, "ingest", str(own), *INGEST, "--title", "委托加工合同",
                    "--customer", "KH-202405001", "--box", "BOX-0001", "--wait")
    args = dict(zip(INGEST[::2], INGEST[1::2], strict=True)) | {"--secrecy": "绝密"}
    dangan_json(env, "ingest", str(secret), *[x for kv in args.items() for x in kv],
                "--title", "绝密合同", "--wait")
    everyone = dangan_json(env, "search", "国家标准")
    assert [h["id"] for h in everyone["hits"]] == [a["id"]]  # 绝密 is never shown electronically
    assert dangan_json(env, "search", "国家标准", "--as", "zhang")["total"] == 1
    other = dangan_json(env, "search", "国家标准", "--as", "wang")
    assert other == {"total": 0, "hits": []}
    shown = dangan_json(env, "show", str(a["id"]))
    assert shown["location"]["path"] == "A库房/3架/2节/4层/盒 BOX-0001"
    assert shown["customer"]["number"] == "KH-202405001"


def test_search_filters_and_sort_are_validated(env: dict[str, str]) -> None:
    proc = dangan(env, "search", "合同", "--sort", "sideways", check=False)
    assert proc.returncode == 2
    assert dangan_json(env, "search", "合同", "--category", "HT", "--year", "2024",
                       "--sort", "date_desc") == {"total": 0, "hits": []}
