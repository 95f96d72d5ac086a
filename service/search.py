"""Searching and reindexing through whichever engine is configured."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import select

from indexer.search.common import LIST_FILTERS
from indexer.search.types import FILTER_KEYS, SORT_ORDERS, SearchRequest, to_cli_json

from .access import operator_visibility, visibility_for
from .archive import Archive
from .errors import InvalidInput, NotFound
from .models import ArchiveItem, User
from .privacy import can_see_personal, mask_personal

SORTS = SORT_ORDERS
#: Every filter a search takes: the engines' one list, and `year`, shorthand for one year.
SEARCH_FILTERS: frozenset[str] = FILTER_KEYS | {"year"}


def filters_from(args: Mapping[str, str | None]) -> dict:
    """Search filters from request/CLI parameters; `year` is shorthand for one year."""
    f: dict = {}
    for key in LIST_FILTERS:
        v = (args.get(key) or "").strip()
        if v:
            f[key] = v
    year = (args.get("year") or "").strip()
    if year.isdigit():
        f["year_from"] = f["year_to"] = int(year)
    for key in ("year_from", "year_to"):
        v = (args.get(key) or "").strip()
        if v.isdigit():
            f[key] = int(v)
    return f


def run_search(archive: Archive, q: str, *, username: str | None = None, user: User | None = None,
               filters: dict | None = None, sort: str = "relevance", page: int = 1,
               per_page: int = 20, facets: bool = False, raw: bool = False) -> dict:
    """Search as `user` (or the operator); returns the CLI/API JSON, or the raw result."""
    if username is not None:
        with archive.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFound(f"用户“{username}”不存在。/ Unknown user {username!r}.")
    if sort not in SORTS:
        raise InvalidInput(f"排序方式“{sort}”无效，可选：{', '.join(SORTS)}。/ Unknown sort {sort!r}.")
    vis = visibility_for(user) if user is not None else operator_visibility()
    masked = user is not None and not can_see_personal(user)
    req = SearchRequest(q=q, visibility=vis, filters=filters or {}, sort=sort, page=page,
                        per_page=per_page, facets=facets,
                        text_filter=mask_personal if masked else None)
    result = archive.search.search(req)
    return result if raw else to_cli_json(result)


def reindex(archive: Archive, *, full: bool = False,
            progress: Callable[[int, int], None] | None = None) -> dict:
    """Index every item with finished pages; skips items whose index entry is current.

    `full` rebuilds from scratch; an engine that can build a new index beside the live one
    (Elasticsearch: versioned index + alias swap) does so, so searches never see it empty.
    """
    from indexer.search_docs import item_fingerprint, page_docs

    with archive.session() as s:
        ids = list(s.scalars(select(ArchiveItem.id).order_by(ArchiveItem.id)))
    rebuild = getattr(archive.search, "rebuild", None) if full else None
    if rebuild is not None:
        def all_docs():  # type: ignore[no-untyped-def]
            for n, item_id in enumerate(ids, start=1):
                with archive.session() as s:
                    yield from page_docs(s, s.get(ArchiveItem, item_id))
                if progress:
                    progress(n, len(ids))

        rebuild(all_docs())
        return {"indexed": len(ids), "skipped": 0, "removed": 0, "total": len(ids)}
    indexed = {} if full else archive.search.indexed_items()
    if full:
        archive.search.clear()
    done = skipped = removed = 0
    for n, item_id in enumerate(ids, start=1):
        with archive.session() as s:
            item = s.get(ArchiveItem, item_id)
            has_pages = any(p.status == "done" for p in item.pages)
            if not has_pages:
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
