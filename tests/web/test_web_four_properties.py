"""四性检测 on the web (#14.6): the batch report with each item's four results, filtered by the
property that failed, exported as XLSX and CSV (audited); the item page's panel; run for a
batch or an item by the roles that manage the archive, refused to the others."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from service.audit import record
from service.audit_actions import AuditAction
from service.models import AuditEntry, StoredFile


@pytest.fixture
def batch(archive, h):
    """Two items registered as one batch (its batch.import entry, as service.batch writes
    it): one whose original is gone from the store."""
    good = h.item(title="四性检测合同甲", text="四性检测合同甲正文", owner="alice", department="销售部")
    lost = h.item(title="四性检测合同乙", text="四性检测合同乙正文", owner="alice", department="销售部")
    with archive.session() as s:
        for item_id in (good, lost):
            record(s, "arc", AuditAction.ITEM_INGEST, f"item:{item_id}", {})
        entry = record(s, "arc", AuditAction.BATCH_IMPORT, "sheet:四性.xlsx",
                       {"items": [good, lost], "counts": {}})
        s.flush()
        batch_id = entry.id
        key = s.scalar(select(StoredFile.key).where(StoredFile.item_id == lost))
    archive.store.delete(key)
    return {"id": batch_id, "good": good, "lost": lost}


def _last_entries(archive, action: str) -> list[AuditEntry]:
    with archive.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id)))


def test_batch_report_filter_and_exports(archive, client, h, batch) -> None:
    h.login(client, "arc")
    page = client.get(f"/four-properties/batch/{batch['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "四性.xlsx" in html and html.count("未检测") >= 2  # listed before any run

    token = h.csrf(client, f"/four-properties/batch/{batch['id']}")
    ran = client.post("/four-properties/run", data={"batch": batch["id"], "csrf_token": token})
    assert ran.status_code == 302 and ran.headers["Location"].endswith(
        f"/four-properties/batch/{batch['id']}")
    run_entry = _last_entries(archive, AuditAction.PRESERVATION_CHECK)[-1]
    assert (run_entry.actor, run_entry.target) == ("arc", f"batch:{batch['id']}")
    assert run_entry.detail["checked"] == 2 and run_entry.detail["failed"]["authenticity"] == 1

    html = client.get(f"/four-properties/batch/{batch['id']}").get_data(as_text=True)
    assert f'data-item="{batch["good"]}"' in html and f'data-item="{batch["lost"]}"' in html
    assert 'data-code="authenticity.object_missing"' in html
    assert "在对象存储中缺失" in html
    only = client.get(f"/four-properties/batch/{batch['id']}?failed=authenticity")
    html = only.get_data(as_text=True)
    assert f'data-item="{batch["lost"]}"' in html and f'data-item="{batch["good"]}"' not in html
    assert client.get("/four-properties?failed=beauty").status_code == 400

    xlsx = client.get(f"/four-properties/export.xlsx?batch={batch['id']}")
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:6] == ("档号", "题名", "真实性", "完整性", "可用性", "安全性")
    by_title = {r[1]: r for r in rows[1:]}
    assert by_title["四性检测合同乙"][2] == "未通过" and "缺失" in by_title["四性检测合同乙"][8]
    assert by_title["四性检测合同甲"][2] == "通过"
    got = client.get(f"/four-properties/export.csv?batch={batch['id']}&failed=authenticity")
    table = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
    assert [r[1] for r in table[1:]] == ["四性检测合同乙"]
    exports = _last_entries(archive, AuditAction.REPORT_EXPORT)[-2:]
    assert [(e.target, e.detail["format"], e.detail["rows"]) for e in exports] == [
        ("report:four-properties", "xlsx", 2), ("report:four-properties", "csv", 1)]

    # the item page's panel shows the latest result; the archive-wide page lists the batch
    item_page = client.get(f"/items/{batch['lost']}").get_data(as_text=True)
    assert 'id="four-properties"' in item_page and 'data-property="authenticity" data-passed="no"' in item_page
    assert f"/four-properties/batch/{batch['id']}" in item_page  # provenance: its batch
    assert f"/four-properties/batch/{batch['id']}" in client.get("/four-properties").get_data(as_text=True)


def test_only_the_archive_roles_run_and_read_it(archive, app, client, h, batch) -> None:
    h.login(client, "alice")  # staff: owns both items, may open them
    assert client.get(f"/four-properties/batch/{batch['id']}").status_code == 403
    assert client.get("/four-properties/export.csv").status_code == 403
    token = h.csrf(client, f"/items/{batch['good']}")
    before = len(_last_entries(archive, AuditAction.PRESERVATION_CHECK))
    refused = client.post("/four-properties/run", data={"item": batch["good"], "csrf_token": token})
    assert refused.status_code == 403
    assert len(_last_entries(archive, AuditAction.PRESERVATION_CHECK)) == before
    assert 'id="four-properties"' not in client.get(f"/items/{batch['good']}").get_data(as_text=True)

    client = app.test_client()
    h.login(client, "admin", h.ADMIN_PW)
    token = h.csrf(client, f"/items/{batch['good']}")
    ran = client.post("/four-properties/run", data={"item": batch["good"], "csrf_token": token})
    assert ran.status_code == 302 and ran.headers["Location"].endswith("#four-properties")
    panel = client.get(f"/items/{batch['good']}").get_data(as_text=True)
    assert 'data-property="authenticity" data-passed="yes"' in panel
