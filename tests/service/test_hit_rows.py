"""The rows beside search hits (service.items.hit_rows): each hit's thumbnail is its best
page when that page has one, else its first page that has one (one query for all hits)."""

from __future__ import annotations

from sqlalchemy import select

from service.items import hit_rows
from service.models import Page, User
from tests.service.test_lending import make_item


def test_a_hit_shows_its_best_page_else_its_first_with_a_thumbnail(archive) -> None:
    with archive.session() as s:
        three = make_item(s, "三页", "内部", pages=3)  # page 1 has no thumbnail
        two = make_item(s, "两页", "内部", pages=2)
        none = make_item(s, "无图", "内部", pages=2)
        for page in s.scalars(select(Page).where(Page.item_id.in_([three, two]))):
            if (page.item_id, page.n) != (three, 1):
                page.thumb_key = f"t{page.item_id}-{page.n}"
    with archive.session() as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        cases = [({three: 3, two: None, none: 1}, {three: 3, two: 1, none: None}),
                 ({three: 1, two: 2, none: None}, {three: 2, two: 2, none: None}),
                 ({three: None, two: 5, none: 2}, {three: 2, two: 1, none: None}),
                 ({three: None, two: None}, {three: 2, two: 1})]  # no best page at all
        for wanted, shown in cases:
            rows = hit_rows(s, admin, list(wanted), wanted)
            assert {i: rows[i].thumb_page for i in wanted} == shown, wanted
