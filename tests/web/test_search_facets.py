"""A facet shows its most frequent values and links to the rest: a result spread over dozens
of customers or shelves lists ten of each, with "N more" opening that facet in full."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from tests.web.conftest import PW, csrf_token, login, make_item

WORD = "分面词"
CUSTOMERS = 13


@pytest.fixture(scope="module")
def spread(archive):
    """CUSTOMERS items with WORD, each of its own customer."""
    from service.models import ArchiveItem, Customer

    ids = [make_item(archive, title=f"分面合同{n}", text=f"合同正文{WORD}第{n}件", owner="alice")
           for n in range(CUSTOMERS)]
    with archive.session() as s:
        customers = [Customer(number=f"KH-2023{n:02d}001", name=f"分面客户{n:02d}", kind="企业")
                     for n in range(CUSTOMERS)]
        s.add_all(customers)
        s.flush()
        for item_id, customer in zip(ids, customers, strict=True):
            s.get(ArchiveItem, item_id).customer_id = customer.id
    return ids


def _facet(html: str, heading: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The facet's value labels and its more/fewer link (address, text)."""
    m = re.search(rf'<section class="facet" id="facet-\w+">\s*<h2>{heading}</h2>(.*?)</section>',
                  html, re.S)
    assert m, f"no facet {heading}"
    labels = re.findall(r'<span class="flabel">([^<]*)</span>', m.group(1))
    links = re.findall(r'class="facet-more" href="([^"]*)">([^<]*)<', m.group(1))
    return labels, [(unquote(href.replace("&amp;", "&")), text) for href, text in links]


def test_a_long_facet_shows_ten_and_links_to_all(app, spread):
    client = app.test_client()
    login(client, "alice", PW)
    html = client.get(f"/search?q={WORD}").get_data(as_text=True)
    labels, links = _facet(html, "客户")
    # ties by count are ordered by value: the ten lowest customer numbers
    assert labels == [f"分面客户{n:02d}" for n in range(10)]
    assert links == [(f"/search?q={WORD}&facet=customer#facet-customer", "另外 3 项…")]
    assert "facet=" not in "".join(re.findall(r'id="export-(?:xlsx|csv)" href="([^"]*)"', html))

    full = client.get(links[0][0]).get_data(as_text=True)
    labels, links = _facet(full, "客户")
    assert labels == [f"分面客户{n:02d}" for n in range(CUSTOMERS)]
    assert links == [(f"/search?q={WORD}#facet-customer", "收起")]
    assert full.count('class="hit"') == CUSTOMERS
    # the exports list the result, not the facet shown in full
    exports = re.findall(r'id="export-(?:xlsx|csv)" href="([^"]*)"', full)
    assert exports and not any("facet" in href for href in exports)

    client.post("/lang", data={"lang": "en", "next": "/search",
                               "csrf_token": csrf_token(client, "/search")})
    english = client.get(f"/search?q={WORD}").get_data(as_text=True)
    assert _facet(english, "Customer")[1][0][1] == "3 more…"


def test_the_value_in_force_shows_wherever_it_ranks(archive):
    from indexer.search.types import SearchResult
    from service.search import facet_groups

    years = {str(2000 + n): 20 - n for n in range(14)}
    result = SearchResult(total=1, hits=[], facets={"year": years, "secrecy": {"内部": 3}})
    with archive.session() as s:
        top = facet_groups(s, result, {}, shown=10)
        picked = facet_groups(s, result, {"year": "2012"}, shown=10)
        every = facet_groups(s, result, {}, shown=10, in_full="year")
    assert [e.value for e in top[0].entries] == [str(2000 + n) for n in range(10)]
    assert top[0].hidden == 4 and top[1].hidden == 0
    assert [e.value for e in picked[0].entries][-1] == "2012" and picked[0].entries[-1].active
    assert picked[0].hidden == 3
    assert len(every[0].entries) == 14 and every[0].hidden == 0
