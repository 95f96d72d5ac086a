"""`dangan check --index` finds missing, stale and orphaned index entries; `reindex` mends them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import INGEST, dangan, dangan_json
from scanfactory import render_page, write_png
from sqlalchemy import create_engine, text


@pytest.mark.slow
def test_check_index_and_reindex(archive_env: dict[str, str], tmp_path: Path) -> None:
    env = archive_env
    dangan(env, "init", "--admin-password", "initial-pass")
    ids = []
    for i, line in enumerate(["甲方应于二〇二四年三月前支付合同款", "乙方负责房屋的日常维修"]):
        scan = write_png(tmp_path / f"{i}.png", render_page(["租赁合同", line, "双方签字盖章"]))
        ids.append(dangan_json(env, "ingest", str(scan), *INGEST, "--title", f"合同{i}",
                               "--wait")["id"])
    assert json.loads(dangan(env, "check", "--index", "--json").stdout)["index"]["missing"] == []

    db = create_engine(f"sqlite:///{Path(env['DANGAN_DATA']) / 'catalogue.sqlite3'}")
    with db.begin() as c:
        c.execute(text("UPDATE archive_item SET title = '改过的题名' WHERE id = :i"), {"i": ids[1]})
    from service.archive import Archive

    Archive().search.delete_item(ids[0])
    proc = dangan(env, "check", "--index", "--json", check=False)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)["index"]
    assert report["missing"] == [ids[0]] and report["stale"] == [ids[1]]

    assert dangan_json(env, "search", "支付合同款")["total"] == 0
    out = dangan_json(env, "reindex")
    assert out["indexed"] == 2 and out["skipped"] == 0
    assert dangan(env, "check", "--index").returncode == 0
    assert dangan_json(env, "search", "支付合同款")["total"] == 1
    assert dangan_json(env, "search", "改过的题名")["total"] == 1
    assert dangan_json(env, "reindex")["skipped"] == 2  # resumable: current items are skipped
    db.dispose()
