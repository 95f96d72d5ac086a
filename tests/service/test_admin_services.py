"""Users, fonds, categories and customers kept from the browser: the services' rules (#12.3)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.accounts import add_account, list_accounts, reset_password, set_active, update_account
from service.browse import edit_customer, register_customer
from service.catalogue import get_customer
from service.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from service.models import AuditEntry, User
from service.scheme import add_fonds, rename_fonds, save_category
from service.users import authenticate, create_user, find_user


def _u(s, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


@pytest.fixture
def people(archive):
    with archive.session() as s:
        create_user(s, "arc", "password-123", role="archivist")
        create_user(s, "mgr", "password-123", role="manager")
        create_user(s, "bob", "password-123", role="staff", department="销售部")
    return archive


def test_admin_creates_disables_and_resets_accounts(people) -> None:
    with people.session() as s:
        admin = _u(s, "admin")
        user, pw = add_account(s, admin, "carol", "officer", display_name="核对员小王",
                               department="档案室")
        assert user.must_change_password and len(pw) >= 12
    with people.session() as s:
        assert authenticate(s, "carol", pw) is not None
        assert [u.username for u in list_accounts(s, _u(s, "admin"))] == sorted(
            ["admin", "arc", "bob", "carol", "mgr"])
        set_active(s, _u(s, "admin"), "carol", False)
    with people.session() as s:
        assert authenticate(s, "carol", pw) is None  # disabled: cannot sign in
        set_active(s, _u(s, "admin"), "carol", True)
        new = reset_password(s, _u(s, "admin"), "carol")
    with people.session() as s:
        assert authenticate(s, "carol", pw) is None and authenticate(s, "carol", new) is not None
        assert find_user(s, "carol").must_change_password
        update_account(s, _u(s, "admin"), "carol", role="archivist", department="档案室",
                       display_name="小王")
        assert find_user(s, "carol").role == "archivist"
        actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.target == "user:carol")))
        assert {"user.add", "user.disable", "user.enable", "user.reset_password",
                "user.update"} <= actions


def test_account_rules(people) -> None:
    with people.session() as s:
        admin = _u(s, "admin")
        with pytest.raises(InvalidInput):
            set_active(s, admin, "admin", False)  # not oneself
        with pytest.raises(InvalidInput):
            update_account(s, admin, "admin", role="staff", department=None, display_name=None)
        with pytest.raises(InvalidInput):
            add_account(s, admin, "x", "wizard")
        with pytest.raises(Conflict):
            add_account(s, admin, "bob", "staff")
        with pytest.raises(NotFound):
            reset_password(s, admin, "nobody")
        for who in ("arc", "mgr", "bob"):
            with pytest.raises(PermissionDenied):
                add_account(s, _u(s, who), "eve", "admin")
            with pytest.raises(PermissionDenied):
                reset_password(s, _u(s, who), "admin")


def test_fonds_and_categories(people) -> None:
    with people.session() as s:
        add_fonds(s, _u(s, "mgr"), "j002", "分公司全宗")
        rename_fonds(s, _u(s, "admin"), "J002", "华东分公司")
        save_category(s, _u(s, "mgr"), "kj", "会计", "Accounting")
        save_category(s, _u(s, "mgr"), "KJ", "会计档案", "")
        with pytest.raises(InvalidInput):
            add_fonds(s, _u(s, "mgr"), "J0-2", "bad")
        with pytest.raises(Conflict):
            add_fonds(s, _u(s, "mgr"), "J002", "again")
        with pytest.raises(InvalidInput):
            save_category(s, _u(s, "mgr"), "K", "one letter")
        with pytest.raises(PermissionDenied):
            add_fonds(s, _u(s, "arc"), "J003", "x")
    from service.catalogue import get_category, get_fonds
    with people.session() as s:
        assert get_fonds(s, "J002").name == "华东分公司"
        cat = get_category(s, "KJ")
        assert (cat.name, cat.name_en) == ("会计档案", "Accounting")


def test_customer_record_with_phone_address_and_owner(people) -> None:
    with people.session() as s:
        register_customer(s, _u(s, "arc"), "KH-202405001", "华东贸易", kind="企业", grade="普通",
                          industry="贸易", contacts="张三", owner_username=None, department=None,
                          phone="021-5555 0101", address="上海市浦东新区")
        edit_customer(s, _u(s, "arc"), "KH-202405001",
                      {"name": "华东贸易有限公司", "grade": "重点", "phone": "021-5555 0102"}, "bob")
        cust = get_customer(s, "KH-202405001")
        assert (cust.name, cust.grade, cust.phone, cust.address) == (
            "华东贸易有限公司", "重点", "021-5555 0102", "上海市浦东新区")
        assert cust.owner_id == _u(s, "bob").id
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "customer.edit"))
        assert entry.detail["changes"]["name"] == ["华东贸易", "华东贸易有限公司"]
        with pytest.raises(InvalidInput):
            edit_customer(s, _u(s, "arc"), "KH-202405001", {"grade": "VIP"}, "bob")
        with pytest.raises(InvalidInput):
            edit_customer(s, _u(s, "arc"), "KH-202405001", {"phone": "1" * 60}, "bob")
        with pytest.raises(InvalidInput):
            edit_customer(s, _u(s, "arc"), "KH-202405001", {}, "bob")  # nothing changed
        with pytest.raises(PermissionDenied):
            edit_customer(s, _u(s, "bob"), "KH-202405001", {"name": "x"}, None)
