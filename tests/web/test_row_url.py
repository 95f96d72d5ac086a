"""Templates build links with web.ctx.row_url (a route's pattern made once a process) where
Flask's url_for builds every link anew: they must give the same text for every route."""

from __future__ import annotations

import pytest
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing.converters import NumberConverter

from web.ctx import row_url

_TEXT = st.text(min_size=1, max_size=12)
_QUERY = st.dictionaries(st.sampled_from(["q", "page", "next", "item", "n", "sort"]),
                         st.one_of(st.none(), st.integers(-5, 10**6), st.booleans(), _TEXT), max_size=3)


def _routes(app) -> list:
    return sorted({rule.endpoint: rule for rule in app.url_map.iter_rules()}.values(),
                  key=lambda r: r.endpoint)


def _argument(rule, name: str):
    if isinstance(rule._converters[name], NumberConverter):
        return st.integers(0, 2**62)
    return _TEXT.filter(lambda s: "/" not in s) if type(rule._converters[name]).__name__ \
        != "PathConverter" else _TEXT


@pytest.mark.parametrize("script_root", ["", "/archive"])
def test_every_route_gives_url_for_text(app, script_root: str) -> None:
    """Each route with its arguments drawn at random (Chinese, escapes, big ids) and query
    values (None left out, numbers, text): row_url's text is url_for's, under a script root
    too (the app behind a prefix)."""
    rules = _routes(app)
    assert len(rules) > 50  # the whole URL map, not a sample

    @settings(max_examples=400, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.data())
    def check(data) -> None:
        rule = data.draw(st.sampled_from(rules))
        values = {n: data.draw(_argument(rule, n)) for n in rule.arguments}
        values.update({k: v for k, v in data.draw(_QUERY).items() if k not in values})
        with app.test_request_context("/", base_url=f"http://localhost{script_root}"):
            assert row_url(rule.endpoint, **values) == url_for(rule.endpoint, **values)

    check()


def test_links_of_the_search_page(app) -> None:
    """The links a search page repeats: an item with the search words and a page, a page's
    thumbnail, a customer's file (a text argument), a loan request (a query only)."""
    with app.test_request_context("/search?q=x"):
        for endpoint, values in [
                ("items.show", {"item_id": 5, "q": "合同 a&b", "page": 3}),
                ("items.show", {"item_id": 5, "q": None, "page": None}),
                ("items.page_thumb", {"item_id": 5, "n": 2}),
                ("customers.show", {"number": "C-1/é x"}),
                ("loans.new", {"item": 7}),
                ("items.show", {"item_id": "12"}),
                ("static", {"filename": "a b/app.css"}),
                ("items.show", {"item_id": 5, "_anchor": "p2"})]:
            assert row_url(endpoint, **values) == url_for(endpoint, **values)
