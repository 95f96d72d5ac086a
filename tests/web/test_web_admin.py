"""Users, fonds and categories, and customer records kept from the browser (#12.3)."""

from __future__ import annotations

import re

from sqlalchemy import select

from service.models import Customer, User
from tests.web.conftest import ADMIN_PW, PW, csrf_token, login


def _user(archive, name: str) -> User | None:
    with archive.session() as s:
        u = s.scalar(select(User).where(User.username == name))
        if u is not None:
            s.expunge(u)
        return u


def test_admin_creates_an_account_which_must_change_its_password(app, archive) -> None:
    admin = app.test_client()
    login(admin, "admin", ADMIN_PW)
    page = admin.get("/admin/users").get_data(as_text=True)
    assert 'href="/admin/users"' in page and "档案员小李" in page
    token = csrf_token(admin, "/admin/users")
    assert admin.post("/admin/users/new", data={"username": "dora", "role": "officer"}
                      ).status_code == 400  # no CSRF token
    r = admin.post("/admin/users/new", data={"username": "dora", "role": "officer",
                                              "display_name": "多拉", "department": "档案室",
                                              "csrf_token": token}, follow_redirects=True)
    html = r.get_data(as_text=True)
    password = re.search(r"一次性密码：(\S+)（", html).group(1)
    assert _user(archive, "dora").role == "officer"
    dora = app.test_client()
    login(dora, "dora", password)
    assert dora.get("/search").headers["Location"].endswith("/account/password")
    # disabled: the running session ends too
    r = admin.post("/admin/users/dora", data={"action": "disable", "csrf_token": token})
    assert r.status_code == 302 and not _user(archive, "dora").active
    assert dora.get("/account/password").status_code == 302
    r = admin.post("/admin/users/dora", data={"action": "reset", "csrf_token": token},
                   follow_redirects=True)
    assert "一次性密码" in r.get_data(as_text=True)
    r = admin.post("/admin/users/admin", data={"action": "disable", "csrf_token": token})
    assert r.status_code == 400 and "不能停用自己的账户" in r.get_data(as_text=True)


def test_only_admins_keep_users_and_managers_keep_the_scheme(app) -> None:
    arc = app.test_client()
    login(arc, "arc")
    assert arc.get("/admin/users").status_code == 403
    assert arc.get("/admin/scheme").status_code == 403
    token = csrf_token(arc, "/upload")
    assert arc.post("/admin/users/new", data={"username": "evil", "role": "admin",
                                              "csrf_token": token}).status_code == 403
    assert arc.post("/admin/fonds", data={"code": "J009", "name": "x",
                                          "csrf_token": token}).status_code == 403


def test_fonds_and_categories_from_the_browser(app, archive) -> None:
    admin = app.test_client()
    login(admin, "admin", ADMIN_PW)
    token = csrf_token(admin, "/admin/scheme")
    r = admin.post("/admin/fonds", data={"code": "J007", "name": "七号全宗", "csrf_token": token})
    assert r.status_code == 302
    r = admin.post("/admin/categories", data={"code": "KJ", "name": "会计", "name_en": "Accounting",
                                              "csrf_token": token})
    assert r.status_code == 302
    page = admin.get("/admin/scheme").get_data(as_text=True)
    assert "七号全宗" in page and "Accounting" in page
    r = admin.post("/admin/fonds", data={"code": "J007", "name": "again", "csrf_token": token})
    assert r.status_code == 400 and "已存在" in r.get_data(as_text=True)
    assert "again" in r.get_data(as_text=True)  # the form keeps what was typed


def test_customer_edited_from_the_browser(app, archive) -> None:
    arc = app.test_client()
    login(arc, "arc")
    token = csrf_token(arc, "/customers")
    r = arc.post("/customers/new", data={"number": "KH-202406007", "name": "西南物流", "kind": "企业",
                                         "grade": "普通", "phone": "028-1234 5678",
                                         "address": "成都市高新区", "csrf_token": token})
    assert r.status_code == 302
    page = arc.get("/customers/KH-202406007").get_data(as_text=True)
    assert "028-1234 5678" in page and "/customers/KH-202406007/edit" in page
    form = {"name": "西南物流有限公司", "kind": "企业", "grade": "重点", "industry": "物流",
            "phone": "028-1234 5678", "address": "成都市高新区", "owner": "alice",
            "department": "销售部", "contacts": "李四", "csrf_token": token}
    assert arc.post("/customers/KH-202406007/edit", data=form).status_code == 302
    with archive.session() as s:
        c = s.scalar(select(Customer).where(Customer.number == "KH-202406007"))
        assert (c.name, c.grade, c.contacts) == ("西南物流有限公司", "重点", "李四")
    r = arc.post("/customers/KH-202406007/edit", data={**form, "grade": "VIP"})
    assert r.status_code == 400 and "客户等级" in r.get_data(as_text=True)
    staff = app.test_client()
    login(staff, "bob", PW)
    assert staff.get("/customers/KH-202406007/edit").status_code == 403
