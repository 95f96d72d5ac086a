"""Data types shared by every search engine.

The engines (SQLite FTS5 embedded, Elasticsearch in production) take and return
exactly these objects so the web layer, the CLI and the contract tests never
care which one is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args, runtime_checkable

#: Filters a SearchRequest may carry; anything else is a programming error.
FILTER_KEYS: frozenset[str] = frozenset(
    {
        "fonds",
        "category",
        "year_from",
        "year_to",
        "retention",
        "secrecy",
        "customer",
        "box",
        "location",
        "status",
    }
)

#: Fields reported as facets, in display order.
FACET_FIELDS: tuple[str, ...] = (
    "fonds",
    "category",
    "year",
    "retention",
    "secrecy",
    "status",
    "customer",
    "location",
)

#: At most this many values per facet field (both engines cut the same way).
FACET_SIZE = 50

#: Which index rows a user matches (PageDoc.masked): a page without personal data has one
#: row for everybody; one with it has a full row and a masked row.
AUDIENCE_ALL, AUDIENCE_PERSONAL, AUDIENCE_MASKED = "all", "personal", "masked"


def audiences(v: Visibility) -> tuple[str, str]:
    return (AUDIENCE_ALL, AUDIENCE_PERSONAL if v.personal else AUDIENCE_MASKED)


def catalogue_text(meta_text: str | None, archival_code: str | None, title: str | None) -> str:
    """The catalogue text searchable on every page of an item (档号 and title included)."""
    return " ".join(p for p in (meta_text, archival_code, title) if p)


def page_rows(d: PageDoc) -> list[tuple[str, str, str]]:
    """``(audience, text, meta)`` rows to index for a page; ``meta`` is the catalogue text
    searchable on every page (with 档号 and title always included)."""
    meta = catalogue_text(d.meta_text, d.archival_code, d.title)
    if d.personal_only:  # only users who may see personal data match it at all
        return [(AUDIENCE_PERSONAL, d.text or "", meta)]
    if d.masked is None:
        return [(AUDIENCE_ALL, d.text or "", meta)]
    return [(AUDIENCE_PERSONAL, d.text or "", meta), (AUDIENCE_MASKED, *d.masked)]


#: At most this many matching pages are returned per item.
MAX_PAGES_PER_ITEM = 5

#: ``code`` is by 档号 (ascending), the order of a catalogue listing.
SortOrder = Literal["relevance", "date_desc", "date_asc", "code"]
SORT_ORDERS: tuple[str, ...] = get_args(SortOrder)


@dataclass
class PageDoc:
    """One indexed page; the item's catalogue fields are copied onto each page
    so filters and permissions apply inside the engine query (no join to the
    catalogue, no post-filtering that could leak counts)."""

    item_id: int
    page_no: int
    text: str
    words: list[dict[str, Any]]
    meta_text: str
    archival_code: str
    title: str
    fonds: str
    category: str
    year: int
    retention: str
    secrecy: str
    customer: str | None = None
    box: str | None = None
    location: str | None = None
    status: str = ""
    date: str | None = None
    owner_id: int | None = None
    department: str | None = None
    fingerprint: str = ""
    #: The page as users who may not see personal data may match it: ``(text, meta)``
    #: with ID and mobile numbers masked (``meta`` as :func:`page_rows` builds it, 档号
    #: and title included), or None when masking changes nothing.  Engines
    #: index it beside the page for those users, so a search never confirms a number
    #: they cannot read (no hit, total, facet or exclusion depends on it).
    masked: tuple[str, str] | None = None
    #: The whole page is personal data (an item holding ID copies): it is indexed for users
    #: who may see personal data only, never masked for the others (:func:`page_rows`).
    personal_only: bool = False


@dataclass(frozen=True)
class Visibility:
    """What the asking user may see.

    An item is visible iff ``secrecy in self.secrecy`` and (``see_all`` or its
    owner is in ``owner_ids`` or its department is in ``departments``), or its id is in
    ``granted_ids`` and ``secrecy in self.granted_secrecy`` (a live viewing grant of an
    electronic loan opens an item whatever its owner, up to the levels a loan may open).
    """

    secrecy: frozenset[str]
    see_all: bool = False
    owner_ids: frozenset[int] = frozenset()
    departments: frozenset[str] = frozenset()
    granted_ids: frozenset[int] = frozenset()
    granted_secrecy: frozenset[str] = frozenset()
    #: False: match pages as masked for personal data (PageDoc.masked), never the numbers
    personal: bool = True


@dataclass
class SearchRequest:
    q: str
    visibility: Visibility
    filters: dict[str, Any] = field(default_factory=dict)
    sort: SortOrder = "relevance"
    page: int = 1
    per_page: int = 20
    facets: bool = True
    #: Applied to page text before snippets are cut, e.g. masking personal data for users
    #: without the right to read it; must keep the text's length (offsets stay valid).
    text_filter: Callable[[str], str] | None = None


@dataclass
class PageHit:
    page: int
    snippet: str
    boxes: list[dict[str, int]]
    score: float


@dataclass
class ItemHit:
    id: int
    archival_code: str
    title: str
    score: float
    pages: list[PageHit]


@dataclass
class SearchResult:
    """``total`` and ``facets`` count matching items the user may see.

    ``total_is_exact`` is False when a very common term matched more pages
    than the engine counts exactly: ``total`` and ``facets`` then cover only
    the pages looked at (a lower bound; show it as "N+"), still never an
    invisible item.  ``fuzzy`` is True when nothing matched exactly and the
    hits come from the OCR-tolerant fallback (see :func:`.query.relax_query`).
    """

    total: int
    hits: list[ItemHit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    total_is_exact: bool = True
    fuzzy: bool = False


@runtime_checkable
class SearchEngine(Protocol):
    def index_pages(self, docs: list[PageDoc], conn: Any = None) -> None: ...

    def delete_item(self, item_id: int, conn: Any = None) -> None: ...

    def search(self, req: SearchRequest) -> SearchResult: ...

    def iter_ids(self, req: SearchRequest) -> Iterator[int]:
        """Every item id of the result of ``req`` (page and per_page ignored), each once, in
        the result's order, read as one walk (a cursor, not page after page): what an
        export lists.  Permissions, filters and the OCR-tolerant fallback as ``search``."""
        ...

    def indexed_items(
        self, item_ids: Sequence[int] | None = None, conn: Any = None
    ) -> dict[int, str]: ...

    def clear(self) -> None: ...

    def rebuild(self, docs: Iterable[PageDoc]) -> int:
        """Replace the whole index by these pages (grouped by item); returns the pages
        loaded. Elasticsearch builds the new index beside the live one and swaps; SQLite
        empties its tables and fills them again."""
        ...

    def count_pages(self) -> int: ...


def to_cli_json(result: SearchResult) -> dict[str, Any]:
    """The fixed JSON contract of ``dangan search --json`` and the HTTP API."""
    hits = []
    for h in result.hits:
        best = h.pages[0] if h.pages else None
        hits.append(
            {
                "id": h.id,
                "archival_code": h.archival_code,
                "title": h.title,
                "page": best.page if best else None,
                "snippet": best.snippet if best else "",
                "score": h.score,
                "pages": [
                    {"page": p.page, "snippet": p.snippet, "boxes": p.boxes, "score": p.score}
                    for p in h.pages
                ],
            }
        )
    out: dict[str, Any] = {"total": result.total, "hits": hits}
    if not result.total_is_exact:
        out["total_is_exact"] = False  # a very common term: counted over a capped set of pages
    if result.fuzzy:
        out["fuzzy"] = True  # no exact match: one OCR-misread character tolerated
    return out


def clamp_request(req: SearchRequest) -> tuple[int, int]:
    """Sane page/per_page (1-based page, 1..100 per page) -> (offset, limit)."""
    per_page = max(1, min(int(req.per_page or 20), 100))
    page = max(1, min(int(req.page or 1), 10_000))
    return (page - 1) * per_page, per_page
