"""Editing an item's record and arranging its pages from the browser (#12.2, #12.3)."""

from __future__ import annotations

import re
from pathlib import Path

from scanfactory import text_pdf_bytes
from sqlalchemy import select

from service.changes import pending_changes
from service.edits import history
from service.ingest import IngestRequest, ingest
from service.items import get_item
from service.jobs.pipeline import run_page
from service.models import AuditEntry, User
from tests.web.conftest import PW, csrf_token, login, make_item


def _volume(archive, no_queue, tmp_path: Path, n: int) -> int:
    pdf = tmp_path / "vol.pdf"
    pdf.write_bytes(text_pdf_bytes([[f"web volume page {i} sheet{i}q"] for i in range(1, n + 1)],
                                   media_box=(200, 100)))
    res = ingest(archive, IngestRequest(files=[pdf], fonds="J001", category="HT", year=2024,
                                        retention="D30", secrecy="内部", title="网页卷"))
    while len(no_queue):
        run_page(archive, no_queue.pop(0))
    return res.id


def _manager(archive, name: str) -> None:
    from service.users import create_user

    with archive.session() as s:
        if s.scalar(select(User).where(User.username == name)) is None:
            create_user(s, name, PW, role="manager")


def test_archivist_edits_an_item_and_the_page_shows_the_history(client, app, archive) -> None:
    """The edit is a change request: the item page shows it waiting, the manager approves
    it in the queue, and the page shows the new value and the history with both names."""
    item_id = make_item(archive, title="旧合同题名", text="租赁合同 正文")
    _manager(archive, "boss")
    login(client, "arc")
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert f"/items/{item_id}/edit" in page
    edit_page = client.get(f"/items/{item_id}/edit").get_data(as_text=True)
    assert 'id="approval-note"' in edit_page and "档案室主任批准" in edit_page
    token = csrf_token(client, f"/items/{item_id}/edit")
    form = {"title": "新合同题名", "doc_number": "沪租〔2024〕5号", "responsible": "", "date": "2024-03-01",
            "secrecy": "内部", "paper_pages": "1", "customer": "", "customer_section": "",
            "remarks": "", "reason": "题名录错"}
    # no CSRF token: refused, nothing changed
    assert client.post(f"/items/{item_id}/edit", data=form).status_code == 400
    r = client.post(f"/items/{item_id}/edit", data={**form, "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith("#pending-changes")
    html = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "待档案室主任审批" in html  # the flash: the change awaits approval
    pending = re.search(r'id="pending-changes".*?</section>', html, re.S)[0]
    assert "新合同题名" in pending and "题名录错" in pending and "旧合同题名" in pending
    assert "<h1>旧合同题名</h1>" in html and 'id="history"' not in html  # not yet applied
    with archive.session() as s:
        (req,) = pending_changes(s, item_id)
        assert req.requested_by == "arc" and req.changes["doc_number"] == ["", "沪租〔2024〕5号"]
        assert history(s, item_id) == []
    # the archivist cannot approve; the queue shows the request without the buttons
    queue = client.get("/changes").get_data(as_text=True)
    assert f'id="change-{req.id}"' in queue and 'value="approve"' not in queue
    r = client.post(f"/changes/{req.id}", data={"decision": "approve", "csrf_token": token})
    assert r.status_code == 302
    # a bad value: the form again with the reason, in Chinese, nothing stored
    r = client.post(f"/items/{item_id}/edit",
                    data={**form, "date": "2019-01-01", "reason": "x", "csrf_token": token})
    assert r.status_code == 400 and "不在年度 2024 内" in r.get_data(as_text=True)
    with archive.session() as s:
        assert len(pending_changes(s, item_id)) == 1 and history(s, item_id) == []
    # the manager: a rejection needs a reason; the approval writes the change
    boss = app.test_client()
    login(boss, "boss")
    queue = boss.get("/changes").get_data(as_text=True)
    assert 'value="approve"' in queue and "旧合同题名" in queue and "新合同题名" in queue
    token = csrf_token(boss, "/changes")
    r = boss.post(f"/changes/{req.id}", data={"decision": "reject", "note": "", "csrf_token": token},
                  follow_redirects=True)
    assert "驳回修改申请时请填写理由" in r.get_data(as_text=True)
    r = boss.post(f"/changes/{req.id}", data={"decision": "approve", "note": "已核对",
                                              "csrf_token": token}, follow_redirects=True)
    assert "档案著录已更新" in r.get_data(as_text=True)
    html = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "<h1>新合同题名</h1>" in html and 'id="pending-changes"' not in html
    history_html = re.search(r'id="history".*?</section>', html, re.S)[0]
    assert "题名录错" in history_html and "旧合同题名" in history_html
    assert '<td class="requester">arc</td>' in history_html
    assert '<td class="approver">boss</td>' in history_html
    with archive.session() as s:
        (change,) = history(s, item_id)
        assert (change.actor, change.approved_by) == ("arc", "boss")
    assert client.get("/changes?status=approved").status_code == 200


def test_staff_cannot_edit_or_arrange(client, archive) -> None:
    item_id = make_item(archive, title="员工的件", text="文字", owner="alice")
    login(client, "alice")
    assert f"/items/{item_id}/edit" not in client.get(f"/items/{item_id}").get_data(as_text=True)
    assert client.get(f"/items/{item_id}/edit").status_code == 403
    assert client.get("/changes").status_code == 403  # the queue is the archive's
    token = csrf_token(client, "/upload")
    r = client.post(f"/items/{item_id}/split",
                    data={"ranges": "1-1", "reason": "x", "csrf_token": token})
    assert r.status_code == 403


def test_split_and_arrange_through_the_forms(client, archive, no_queue, tmp_path) -> None:
    vid = _volume(archive, no_queue, tmp_path, 6)
    login(client, "arc")
    token = csrf_token(client, f"/items/{vid}/arrange")
    r = client.post(f"/items/{vid}/split", data={"ranges": "1-2, 3-5", "reason": "拆",
                                                 "csrf_token": token})
    assert r.status_code == 400 and "第 6 页" in r.get_data(as_text=True)
    r = client.post(f"/items/{vid}/split", data={"ranges": "1-2, 3-6", "titles": "第二件",
                                                 "reason": "两份合同", "csrf_token": token})
    assert r.status_code == 302
    with archive.session() as s:
        item = get_item(s, vid)
        assert len(item.pages) == 2
        new_id = max(c.item_id for c in s.scalars(select(type(history(s, vid)[0]))))
        new = get_item(s, new_id)
        assert new.title == "第二件" and [p.text for p in new.pages][0] == "web volume page 3 sheet3q"
    html = client.get(f"/items/{new_id}").get_data(as_text=True)
    assert "vol.pdf" in html  # the source original is listed (and downloadable)
    with archive.session() as s:
        fid = get_item(s, new_id).pages[0].file_id
    assert client.get(f"/items/{new_id}/files/{fid}").status_code == 200
    # order, blank page
    r = client.post(f"/items/{new_id}/arrange",
                    data={"pos-1": "4", "pos-2": "1", "pos-3": "2", "pos-4": "3",
                          "blank": "1", "reason": "顺序", "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with archive.session() as s:
        new = get_item(s, new_id)
        assert [p.file_page for p in new.pages] == [4, 5, 6, 3]
        assert [p.blank for p in new.pages] == [False, False, False, True]
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "item.arrange"))
    html = client.get(f"/items/{new_id}").get_data(as_text=True)
    assert "计数 3 页" in html
