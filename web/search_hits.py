"""A search page's hits as the page shows them: each link, label and badge worked out here,
once, in Python.

The template only prints these fields. Worked out in the template, each hit took about ten
calls through Jinja's `context.call` (links, labels, badges, each snippet's page label), the
largest part of the page's rendering after the engine; the same work here costs about half.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from indexer.search.types import ItemHit
from service.catalogue import CategoryName
from service.items import HitRow

from .ctx import gettext as _
from .ctx import row_url, safe_snippet
from .labels import category_label, location_label, secrecy_badge, status_badge


@dataclass(frozen=True, slots=True)
class SnippetLink:
    """A page of the hit that matched: its link, its label (第 3 页) and the snippet."""

    url: str
    label: str
    snippet: Markup


@dataclass(frozen=True, slots=True)
class HitView:
    """One hit as the page shows it (only what the reader may see: a thumbnail and
    snippets only of an item the reader may open, `HitRow.openable`)."""

    id: int
    title: str
    archival_code: str
    show_url: str
    thumb_url: str | None
    secrecy_badge: Markup
    #: Shown unless the item is ready (None then).
    status_badge: Markup | None
    #: 待删除，2026-12-01 正式删除 (None: not held for deletion).
    deletion_note: str | None
    category_year: str
    customer: str | None
    customer_url: str | None
    #: The paper original's place in the user's language (None: not in a box).
    location: str | None
    openable: bool
    #: Why not, and what to do (access.Decision's remedy): "loan", "reading_room" or None.
    remedy: str | None
    loan_url: str | None
    snippets: list[SnippetLink]


def hit_views(hits: list[ItemHit], rows: dict[int, HitRow], q: str,
              categories: dict[str, CategoryName],
              status_label: Callable[[str], str]) -> list[HitView]:
    """The hits the reader may see (those `rows` holds: service.items.hit_rows), in order.
    `status_label(status)` names an item status in the user's language."""
    out: list[HitView] = []
    for h in hits:
        row = rows.get(h.id)
        if row is None:
            continue
        best = h.pages[0].page if h.pages else None
        show_url = row_url("items.show", item_id=h.id, q=q, page=best)
        snippets = [SnippetLink(
            show_url if p.page == best else row_url("items.show", item_id=h.id, q=q, page=p.page),
            _("第 %(n)s 页", n=p.page), safe_snippet(p.snippet))
            for p in h.pages] if row.openable else []
        out.append(HitView(
            id=h.id, title=h.title, archival_code=h.archival_code, show_url=show_url,
            thumb_url=row_url("items.page_thumb", item_id=h.id, n=row.thumb_page)
            if row.thumb_page else None,
            secrecy_badge=secrecy_badge(row.secrecy),
            status_badge=status_badge(row.status, status_label(row.status))
            if row.status != "ready" else None,
            deletion_note=_("待删除，%(date)s 正式删除",
                            date=row.deletion_due.strftime("%Y-%m-%d"))
            if row.deletion_due else None,
            category_year=f"{category_label(categories.get(row.category_code), row.category)}"
                          f" · {row.year}",
            customer=row.customer or None,
            customer_url=row_url("customers.show", number=row.customer_number)
            if row.customer else None,
            location=location_label(row.location) if row.location else None,
            openable=row.openable, remedy=row.remedy,
            loan_url=row_url("loans.new", item=h.id)
            if not row.openable and row.remedy == "loan" else None,
            snippets=snippets))
    return out
