"""The top bar's links, kept rendered per process (web.top_nav): each user still gets the
links of their own role, in their own language, with the page they are on marked."""

from __future__ import annotations

import re

from jinja2 import meta

from tests.web.conftest import ADMIN_PW, csrf_token, login


def _nav(html: str) -> str:
    m = re.search(r'<nav aria-label="[^"]*">(.*?)</nav>', html, re.S)
    assert m, "no top bar on the page"
    return m.group(1)


def _links(html: str) -> list[str]:
    return re.findall(r">([^<>]+)</a>", _nav(html))


def _current(html: str) -> list[str]:
    return re.findall(r'aria-current="page">([^<>]+)</a>', _nav(html))


def test_the_nav_template_reads_only_what_keys_its_cache(app):
    """A variable the template read but the cache key left out would show one user's links
    (or one page's mark) to another."""
    from web.top_nav import NAV_VARIABLES

    env = app.jinja_env
    source = env.loader.get_source(env, "_nav.html")[0]
    read = meta.find_undeclared_variables(env.parse(source))
    assert read - set(env.globals) <= {*NAV_VARIABLES, "ep"}


def test_each_role_language_and_page_gets_its_own_bar(app):
    admin, staff = app.test_client(), app.test_client()
    login(admin, "admin", ADMIN_PW)
    login(staff, "alice")
    for _ in range(2):  # the second round from the kept bars
        admin_page = admin.get("/search").get_data(as_text=True)
        staff_page = staff.get("/search").get_data(as_text=True)
        assert "用户" in _links(admin_page) and "审计" in _links(admin_page)
        assert "用户" not in _links(staff_page) and "审计" not in _links(staff_page)
        assert _current(admin_page) == ["检索"] and _current(staff_page) == ["检索"]
        assert _current(staff.get("/customers").get_data(as_text=True)) == ["客户"]
    staff.post("/lang", data={"lang": "en", "next": "/search",
                              "csrf_token": csrf_token(staff, "/search")})
    english = staff.get("/search").get_data(as_text=True)
    assert "Search" in _links(english) and "检索" not in _links(english)
    assert _current(english) == ["Search"]
    assert "检索" in _links(admin.get("/search").get_data(as_text=True))
