"""Lending (借阅) pages: request, approve, issue and return through the forms, the reminder
banner, the register's downloads, and the pages in English (#13.2)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from service import clock
from service.lending import local_input

#: The pages' "now": fixed, so a request's start is never in the past however long the
#: suite ran before this module (a time read at import was stale by the time the tests ran).
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with clock.use_clock(lambda: T0):
        yield


@pytest.fixture(scope="module")
def people(archive):
    from service.users import create_user

    with archive.session() as s:
        create_user(s, "dm", "password-123", role="dept_manager", department="销售部",
                    display_name="部门经理")
        create_user(s, "exe", "password-123", role="executive", display_name="高管")
    return True


def _loan_id(r) -> int:
    m = re.search(r"/loans/(\d+)$", r.headers["Location"])
    assert m, r.headers.get("Location")
    return int(m.group(1))


def _request(client, h, items: list[int], kind: str, hours: float, **extra):
    data = {"csrf_token": h.csrf(client, "/loans/new"), "item": [str(i) for i in items],
            "kind": kind, "purpose": "核对合同条款", "starts_at": local_input(T0),
            "ends_at": local_input(T0 + timedelta(hours=hours)), **extra}
    return client.post("/loans/new", data=data)


def test_a_paper_loan_through_the_pages_with_a_mismatch(app, h, people):
    item = h.item(title="购销合同", text="甲方乙方", owner="alice", department="销售部")
    alice, dm, arc = app.test_client(), app.test_client(), app.test_client()
    h.login(alice, "alice")
    h.login(dm, "dm")
    h.login(arc, "arc")
    form = alice.get(f"/loans/new?item={item}").get_data(as_text=True)
    assert "购销合同" in form and "纸质原件不外借" in form
    assert "借阅台" not in form  # alice is no archivist

    r = _request(alice, h, [item], "paper", 30)
    assert r.status_code == 400 and "不能带走" in r.get_data(as_text=True)
    r = _request(alice, h, [item], "paper", 3)
    assert r.status_code == 302
    loan_id = _loan_id(r)
    assert "待审批" in alice.get(f"/loans/{loan_id}").get_data(as_text=True)

    # alice may not approve her own loan; her manager may
    assert 'id="approve-loan"' not in alice.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert "等待您审批" in dm.get("/loans/approvals").get_data(as_text=True)
    r = dm.post(f"/loans/{loan_id}/reject", data={"csrf_token": h.csrf(dm, f"/loans/{loan_id}"),
                                                  "reason": ""}, follow_redirects=True)
    assert "须填写理由" in r.get_data(as_text=True)
    r = dm.post(f"/loans/{loan_id}/approve", data={"csrf_token": h.csrf(dm, f"/loans/{loan_id}")},
                follow_redirects=True)
    assert "已批准" in r.get_data(as_text=True)

    page = arc.get(f"/loans/{loan_id}").get_data(as_text=True)
    assert f'name="out-{item}"' in page
    arc.post(f"/loans/{loan_id}/issue", data={"csrf_token": h.csrf(arc, f"/loans/{loan_id}"),
                                              f"out-{item}": "1"})
    # overdue: the borrower sees a reminder on every page, the archivist the list
    with clock.use_clock(lambda: T0 + timedelta(hours=4)):
        assert "已逾期" in alice.get("/search").get_data(as_text=True)
        assert "逾期未还 1 笔" in arc.get("/search").get_data(as_text=True)
        assert "逾期未还" in arc.get("/loans/overdue").get_data(as_text=True)
        r = arc.post(f"/loans/{loan_id}/return",
                     data={"csrf_token": h.csrf(arc, f"/loans/{loan_id}"), f"back-{item}": "0",
                           f"note-{item}": "少一页"}, follow_redirects=True)
        body = r.get_data(as_text=True)
        assert "页数不符" in body and "借出 1 页，归还 0 页" in body and "少一页" in body
        assert "已逾期" not in alice.get("/search").get_data(as_text=True)
        assert "归还页数不符 1 笔" in arc.get("/search").get_data(as_text=True)
    # the register: on screen, as XLSX and as PDF
    page = arc.get("/loans/register?kind=paper").get_data(as_text=True)
    assert "页数不符" in page
    sheet = arc.get("/loans/register?kind=paper&format=xlsx")
    rows = list(load_workbook(BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert "页数不符" in rows[1][6] and "1/0 ≠（少一页）" in rows[1][10]
    pdf = arc.get("/loans/register?format=pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert alice.get("/loans/register").status_code == 403


def test_electronic_secret_loan_needs_the_executive_and_four_hours(app, h, people):
    item = h.item(title="秘密协议", text="保密条款", secrecy="秘密", owner="alice",
                  department="销售部")
    alice, dm, exe = app.test_client(), app.test_client(), app.test_client()
    for client, name in ((alice, "alice"), (dm, "dm"), (exe, "exe")):
        h.login(client, name)
    r = _request(alice, h, [item], "electronic", 5)
    assert r.status_code == 400 and "最长 4 小时" in r.get_data(as_text=True)
    loan_id = _loan_id(_request(alice, h, [item], "electronic", 4))
    r = dm.post(f"/loans/{loan_id}/approve", data={"csrf_token": h.csrf(dm, "/loans")},
                follow_redirects=True)
    assert "须由公司领导审批" in r.get_data(as_text=True)
    r = exe.post(f"/loans/{loan_id}/approve", data={"csrf_token": h.csrf(exe, "/loans")},
                 follow_redirects=True)
    assert "已批准" in r.get_data(as_text=True)
    assert alice.get(f"/loans/{loan_id}/issue").status_code == 405
    r = alice.post(f"/loans/{loan_id}/issue", data={"csrf_token": h.csrf(alice, "/loans")},
                   follow_redirects=True)
    assert "只有档案管理员" in r.get_data(as_text=True)
    bob = app.test_client()
    h.login(bob, "bob")
    assert bob.get(f"/loans/{loan_id}").status_code == 403


def test_the_lending_pages_in_english(app, h, people):
    from tests.web.test_web_english import _chinese_outside_data

    item = h.item(title="合同", text="甲方", owner="alice", department="销售部")
    alice = app.test_client()
    h.login(alice, "alice")
    loan_id = _loan_id(_request(alice, h, [item], "paper", 2))
    for name in ("alice", "dm", "arc", "exe"):
        client = app.test_client()
        h.login(client, name)
        client.post("/lang", data={"lang": "en", "next": "/loans",
                                   "csrf_token": h.csrf(client, "/loans")})
        for url in ("/loans", "/loans/new?q=合同", f"/loans/new?item={item}", "/loans/approvals",
                    "/loans/desk", "/loans/overdue", "/loans/register", f"/loans/{loan_id}"):
            r = client.get(url)
            if r.status_code == 403:
                continue
            body = r.get_data(as_text=True)
            for data in ("核对合同条款", "销售部", "部门经理", "高管", "张丽", "档案员小李", "秘密协议",
                         "购销合同", "少一页", "合同"):
                body = body.replace(data, "")
            assert not _chinese_outside_data(body), (name, url, _chinese_outside_data(body)[:5])
