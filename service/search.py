"""Searching and reindexing through whichever engine is configured."""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast, overload

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from indexer.search.types import (
    FILTER_KEYS,
    SORT_ORDERS,
    PageDoc,
    SearchRequest,
    SearchResult,
    SortOrder,
    Visibility,
    to_cli_json,
)

from .access import (
    Who,
    lookup_visibility,
    operator_search_visibility,
    operator_visibility,
    search_visibility,
    user_of,
)
from .archive import Archive
from .audit import record_event
from .audit_actions import AuditAction
from .errors import N_, InvalidInput, Listing, Message, msg
from .items import browse_catalogue, catalogue_after
from .models import ArchiveItem, Customer, User
from .privacy import can_see_personal, mask_personal, sees_personal, text_for
from .search_docs import item_fingerprint, page_docs, searchable
from .users import get_user
from .vocab import ITEM_STATUSES, RETENTIONS, SECRECY_LEVELS

SORTS = SORT_ORDERS
#: Every filter a search takes: the engines' one list, and `year`, shorthand for one year.
SEARCH_FILTERS: frozenset[str] = FILTER_KEYS | {"year"}
MAX_PAGE = 10_000
MAX_LIMIT = 200
_YEAR_RE = re.compile(r"^\d{4}$")
_FONDS_RE = re.compile(r"^[A-Za-z0-9]{4}$")
_CATEGORY_RE = re.compile(r"^[A-Za-z]{2}$")
_MAX_TEXT = 200


@dataclass(frozen=True)
class SearchParams:
    """One search or browse request, checked: what the web page, the API and the CLI ask."""

    q: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20

    @property
    def browsing(self) -> bool:
        """No search words: list the catalogue by the filters instead (sorted by 档号)."""
        return not self.q.strip()


def _bad(name: str, problem: Message) -> InvalidInput:
    return InvalidInput(N_("参数 %(name)s %(problem)s。"), name=name, problem=problem)


def _int(args: Mapping[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    raw = args.get(name)
    raw = "" if raw is None else str(raw).strip()
    if raw == "":
        return default
    if not raw.isascii() or not raw.isdigit():
        raise _bad(name, msg(N_("应为 %(lo)s–%(hi)s 之间的整数，收到“%(raw)s”"),
                             lo=lo, hi=hi, raw=raw[:20]))
    v = int(raw)
    if not lo <= v <= hi:
        raise _bad(name, msg(N_("应在 %(lo)s–%(hi)s 之间，收到 %(v)s"), lo=lo, hi=hi, v=v))
    return v


def _year(args: Mapping[str, Any], name: str) -> int | None:
    raw = args.get(name)
    raw = "" if raw is None else str(raw).strip()
    if raw == "":
        return None
    if not raw.isascii() or not _YEAR_RE.match(raw):
        raise _bad(name, msg(N_("应为四位数的年度，如 2024，收到“%(raw)s”"), raw=raw[:20]))
    return int(raw)


def _choice(args: Mapping[str, Any], name: str, allowed: Any) -> str | None:
    raw = str(args.get(name) or "").strip()
    if raw == "":
        return None
    if raw not in allowed:
        raise _bad(name, msg(N_("只能是 %(allowed)s，收到“%(raw)s”"),
                             allowed=Listing(tuple(allowed)), raw=raw[:20]))
    return raw


def _text(args: Mapping[str, Any], name: str, pattern: re.Pattern[str] | None = None,
          example: str = "") -> str | None:
    raw = str(args.get(name) or "").strip()
    if raw == "":
        return None
    if len(raw) > _MAX_TEXT or (pattern is not None and not pattern.match(raw)):
        raise _bad(name, msg(N_("格式不对，应如 %(example)s，收到“%(raw)s”"),
                             example=example, raw=raw[:20]))
    return raw.upper() if pattern is not None else raw


def parse_search_params(args: Mapping[str, Any], *, default_limit: int = 10,
                        limit_key: str = "limit") -> SearchParams:
    """Check every search/browse parameter (web query string, API, CLI options) in one place.

    Bad values raise InvalidInput with a bilingual message (API 400, web page message,
    CLI exit 2); nothing is silently ignored, as that would widen a search unnoticed.
    """
    filters: dict[str, Any] = {}
    fonds = _text(args, "fonds", _FONDS_RE, "J001")
    category = _text(args, "category", _CATEGORY_RE, "HT")
    for key, value in (("fonds", fonds), ("category", category),
                       ("retention", _choice(args, "retention", tuple(RETENTIONS))),
                       ("secrecy", _choice(args, "secrecy", SECRECY_LEVELS)),
                       ("status", _choice(args, "status", ITEM_STATUSES)),
                       ("customer", _text(args, "customer")), ("box", _text(args, "box")),
                       ("location", _text(args, "location"))):
        if value is not None:
            filters[key] = value
    year, year_from, year_to = (_year(args, k) for k in ("year", "year_from", "year_to"))
    if year is not None:
        if (year_from is not None and year_from != year) or (year_to is not None and year_to != year):
            raise InvalidInput(N_("参数 year 不能与不同的 year_from/year_to 同时使用。"))
        year_from = year_to = year
    if year_from is not None and year_to is not None and year_from > year_to:
        raise InvalidInput(N_("年度范围无效：起始年度 %(year_from)s 晚于截止年度 %(year_to)s。"), year_from=year_from,
                           year_to=year_to)
    if year_from is not None:
        filters["year_from"] = year_from
    if year_to is not None:
        filters["year_to"] = year_to
    sort = _choice(args, "sort", SORTS) or ("code" if not str(args.get("q") or "").strip()
                                            else "relevance")
    return SearchParams(
        q=str(args.get("q") or ""), filters=filters, sort=sort,
        page=_int(args, "page", 1, 1, MAX_PAGE),
        per_page=_int(args, limit_key, default_limit, 1, MAX_LIMIT))


# ----------------------------------------------------------------- the result page's panels

#: The filters of the search page, in the order its chips show them.
FILTER_PARAMS = ("fonds", "category", "year", "retention", "secrecy", "customer", "box", "location",
                 "status")
CHIP_PARAMS = (*FILTER_PARAMS, "year_from", "year_to")
#: The facets beside a result list, in the order shown.
FACET_ORDER = ("category", "year", "customer", "location", "secrecy", "retention", "fonds",
               "status")


@dataclass(frozen=True)
class FacetEntry:
    value: str
    count: int
    #: The value is the filter in force (choosing it again removes the filter).
    active: bool
    #: The catalogue's name for the value, where it has one the page cannot know (customers).
    name: str | None = None


@dataclass(frozen=True)
class FacetGroup:
    field: str
    entries: list[FacetEntry]
    #: Values left out: beyond the most frequent the page shows (it links to them all).
    hidden: int = 0


def filter_chips(selected: Mapping[str, str]) -> list[tuple[str, str]]:
    """The filters in force as (parameter, value), in the page's order: one removable chip each."""
    return [(k, selected[k]) for k in CHIP_PARAMS if selected.get(k)]


#: The customers' names by number: a Core statement of the two columns (an ORM-enabled one
#: costs ~0.3 ms more a search page to compile and process).
_CUSTOMER_NAMES = select(Customer.__table__.c.number, Customer.__table__.c.name).where(
    Customer.__table__.c.number.in_(bindparam("numbers", expanding=True)))


def facet_groups(session: Session, result: SearchResult, selected: Mapping[str, str], *,
                 shown: int | None = None, in_full: str = "") -> list[FacetGroup]:
    """The result's facet counts as the page shows them: fields in order, empty ones left out,
    the selected value marked, customers named. A group keeps its `shown` most frequent
    values and the selected one wherever it ranks (all values: `shown` None, and the group
    of the field `in_full`); its `hidden` counts the rest."""
    kept: dict[str, tuple[list[tuple[Any, int]], str, int]] = {}
    for name in FACET_ORDER:
        values = list((result.facets.get(name) or {}).items())
        if not values:
            continue
        active = selected.get(name, "")
        keep = values
        if shown is not None and name != in_full and len(values) > shown:
            keep = values[:shown] + [(v, n) for v, n in values[shown:] if str(v) == active]
        kept[name] = (keep, active, len(values) - len(keep))
    numbers = [str(v) for v, _ in kept["customer"][0]] if "customer" in kept else []
    customers: dict[str, str] = {number: name for number, name in session.execute(
        _CUSTOMER_NAMES, {"numbers": numbers})} if numbers else {}
    return [FacetGroup(name, [
        FacetEntry(str(value), count, str(value) == active,
                   customers.get(str(value)) if name == "customer" else None)
        for value, count in keep], hidden) for name, (keep, active, hidden) in kept.items()]


def _user(archive: Archive, username: str | None, user: Who) -> Who:
    if username is None:
        return user
    with archive.session() as s:
        return get_user(s, username)  # `--as USER`: never in the reading room


def _visibility(archive: Archive, params: SearchParams, who: Who) -> Visibility:
    """What `who` may find: a search matches the text of the items they may open
    (access.search_visibility), a browse lists the entries they may look up
    (access.lookup_visibility); the operator (None) as the command line allows."""
    operator = who is None
    with archive.session() as s:
        if params.browsing:
            vis = operator_visibility() if operator else lookup_visibility(s, who)
        else:
            vis = operator_search_visibility() if operator else search_visibility(s, who)
    # a user who may not read personal data matches pages as masked for them: a search
    # never confirms an ID or mobile number (nor a fragment) they cannot see, nor matches
    # an item holding ID copies (its pages are indexed for the personal audience only)
    return replace(vis, personal=operator or can_see_personal(user_of(who)))


def _request(params: SearchParams, vis: Visibility, person: User | None,
             facets: bool) -> SearchRequest:
    masked = person is not None and not can_see_personal(person)
    return SearchRequest(q=params.q, visibility=vis, filters=params.filters,
                         sort=cast(SortOrder, params.sort),  # one of SORTS: checked
                         page=params.page, per_page=params.per_page, facets=facets,
                         text_filter=mask_personal if masked else None)


@overload
def run_search(archive: Archive, params: SearchParams | str, *, username: str | None = None,
               user: Who = None, facets: bool = False,
               raw: Literal[False] = False, audited: bool = True) -> dict: ...


@overload
def run_search(archive: Archive, params: SearchParams | str, *, username: str | None = None,
               user: Who = None, facets: bool = False,
               raw: Literal[True], audited: bool = True) -> SearchResult: ...


def run_search(archive: Archive, params: SearchParams | str, *, username: str | None = None,
               user: Who = None, facets: bool = False,
               raw: bool = False, audited: bool = True) -> dict | SearchResult:
    """Search as `user` (a Reader or a user; None: the operator); returns the CLI/API JSON,
    or the raw result. The search is audited (its words, filters, page and total) unless the
    caller audits what it does with it (an export).

    Search words match only the text of items the reader may open (access.search_visibility:
    hits, totals, facets and snippets never count anything else). Without search words the
    catalogue is browsed by the filters (service.items.browse_catalogue): the catalogue
    entries the reader may look up (access.lookup_visibility), so a loan can be asked for.
    A plain string is a query with no filters.
    """
    if isinstance(params, str):
        params = SearchParams(q=params)
    who = _user(archive, username, user)
    person = user_of(who)
    vis = _visibility(archive, params, who)
    if params.browsing:
        with archive.session() as s:
            result = browse_catalogue(s, vis, params.filters, sort=params.sort,
                                      page=params.page, per_page=params.per_page, facets=facets)
    else:
        result = archive.search.search(_request(params, vis, person, facets))
    if not sees_personal(who):
        # the titles as the reader may read them (the snippets are cut from masked text)
        result = replace(result, hits=[replace(h, title=text_for(who, h.title) or "")
                                       for h in result.hits])
    if audited:
        record_event(archive, person, AuditAction.CATALOGUE_SEARCH, "search",
                     {"q": params.q[:200], "filters": params.filters, "page": params.page,
                      "total": result.total})
    return result if raw else to_cli_json(result)


#: Catalogue entries read per keyset page of a browse's whole result (result_ids).
_BROWSE_CHUNK = 500


def result_ids(archive: Archive, params: SearchParams,
               user: Who = None) -> Generator[int, None, None]:
    """Every item of the result `params` describes (its page aside), as `user` finds it, in
    its order, each once: what an export lists. Not audited (the caller audits what it does).

    The permissions are run_search's (same visibility, same engine query): a search walks
    the engine's cursor over the whole match (SearchEngine.iter_ids: one walk, so a result
    of any size costs time linear in it; a "more than N" result comes in date order), a
    browse walks the catalogue in keyset pages (service.items.catalogue_after)."""
    vis = _visibility(archive, params, user)
    if not params.browsing:
        yield from archive.search.iter_ids(_request(params, vis, user_of(user), facets=False))
        return
    after: tuple | None = None
    while True:
        with archive.session() as s:
            ids, after = catalogue_after(s, vis, params.filters, params.sort, after,
                                         _BROWSE_CHUNK)
        yield from ids
        if after is None:
            return


def _rebuild(archive: Archive, ids: list[int],
             progress: Callable[[int, int], None] | None) -> dict:
    """`reindex --full`: the engine replaces its whole index by every item's pages."""
    loaded: set[int] = set()

    def all_docs() -> Iterator[PageDoc]:
        for n, item_id in enumerate(ids, start=1):
            with archive.session() as s:
                docs = page_docs(s, s.get_one(ArchiveItem, item_id))
                loaded.update(d.item_id for d in docs[:1])
                yield from docs
            if progress:
                progress(n, len(ids))

    archive.search.rebuild(all_docs())
    return {"indexed": len(loaded), "skipped": 0, "removed": 0, "total": len(ids)}


def reindex(archive: Archive, *, full: bool = False,
            progress: Callable[[int, int], None] | None = None) -> dict:
    """Index every item with finished pages; skips items whose index entry is current.

    `full` rebuilds from scratch; an engine that can build a new index beside the live one
    (Elasticsearch: versioned index + alias swap) does so, so searches never see it empty.
    """
    with archive.session() as s:
        ids = list(s.scalars(select(ArchiveItem.id).order_by(ArchiveItem.id)))
    if full:
        return _rebuild(archive, ids, progress)
    indexed = archive.search.indexed_items()
    done = skipped = removed = 0
    for n, item_id in enumerate(ids, start=1):
        with archive.session() as s:
            item = s.get_one(ArchiveItem, item_id)
            if not searchable(item):
                if item_id in indexed:
                    archive.search.delete_item(item_id)
                    removed += 1
            elif indexed.get(item_id) == (fp := item_fingerprint(item)):
                skipped += 1
            else:
                archive.search.index_pages(page_docs(s, item, fingerprint=fp))
                done += 1
        if progress:
            progress(n, len(ids))
    for gone in set(indexed) - set(ids):
        archive.search.delete_item(gone)
        removed += 1
    return {"indexed": done, "skipped": skipped, "removed": removed, "total": len(ids)}
