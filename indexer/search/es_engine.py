"""Production search engine: Elasticsearch 8.x.

Design (see NOTES.md, "Elasticsearch"):

* One *item* document per item (``_id = item_id``, its catalogue and
  visibility fields) joined to one *page* document per page (``_id =
  f"{item_id}:{page_no}"``, routed to its item) by a ``join`` field
  (item → page).  The search runs on item documents with ``has_child``
  clauses, which is the item-level rule of :mod:`.query` as the query
  language says it: each positive term on some page, no page with an excluded
  term; the pages shown come from ``inner_hits`` of the "any positive term"
  clause.  Page documents keep copies of the catalogue fields for ad-hoc
  queries.
* Matching uses the *same token strings* as the SQLite engine: the fields
  ``bi``, ``uni`` and ``meta`` hold the output of :mod:`.analysis` and are
  analysed with the built-in ``whitespace`` tokenizer.  This is the robust
  choice: identifiers (``HT-2024-0031`` as a phrase ``ht 2024 0031``), CJK
  bigrams and full-width folding then behave identically in both engines,
  whatever the standard tokenizer does with mixed scripts.  The page text is
  also indexed with the built-in CJK chain (``standard`` + ``cjk_width`` +
  ``lowercase`` + ``cjk_bigram``, a ``uni`` sub-field without bigrams,
  ``index_options: offsets``) for ad-hoc queries and Kibana; the engine does
  not query it.  Snippets are built from the stored text in Python
  (:mod:`.highlight`), as in SQLite, so both return the same HTML.
* Permissions and filters are ``bool.filter`` clauses: document-level
  security is a paid feature, filtering in the query is free and portable.
* Totals and facets count *items*: the hits are item documents, so
  ``hits.total`` (tracked exactly) and ``terms`` aggregations on their fields
  are exact item counts.  Aggregations run over the filtered query, so
  invisible items never count.  One primary shard keeps ``terms`` ordering
  exact (and a join needs an item and its pages on one shard anyway).
* A query that finds nothing is retried once in its OCR-tolerant form
  (:func:`.query.relax_query`: one character of a phrase misread), with the
  same boolean logic as the SQLite engine; the result is ``fuzzy``.
* A whole result (an export, :meth:`ElasticsearchEngine.iter_ids`) is read with
  ``search_after`` in a point in time, in the search's own order: each request costs the
  same however deep it is, and the walk sees one state of the index.
* The alias ``{prefix}-pages`` points at a versioned index; :meth:`rebuild`
  loads a fresh index (``refresh_interval: -1``, ``streaming_bulk``) and swaps
  it in with one atomic ``update_aliases`` call.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from elasticsearch import Elasticsearch, helpers

from .analysis import ANALYZER_VERSION, index_fields
from .common import LIST_FILTERS, as_list, check_filters, nobody_visible, page_hit, sort_facet
from .query import (
    Clause,
    Fuzzy,
    ParsedQuery,
    Phrase,
    item_plan,
    parse_query,
    phrase_clauses,
    relax_query,
)
from .types import (
    AUDIENCE_MASKED,
    FACET_FIELDS,
    FACET_SIZE,
    MAX_PAGES_PER_ITEM,
    ItemHit,
    PageDoc,
    SearchRequest,
    SearchResult,
    Visibility,
    audiences,
    clamp_request,
    page_rows,
)

#: the join field's relation: an item document with its page documents
JOIN_FIELD = "item_page"
#: catalogue fields on an item document (and copied onto its pages)
ITEM_FIELDS = ("archival_code", "title", "fonds", "category", "year", "retention", "secrecy",
               "customer", "box", "location", "status", "date", "owner_id", "department")
#: match_phrase_prefix expansions for a trailing lone CJK character (``5月``)
MAX_EXPANSIONS = 200
#: item ids per request of a whole-result walk (iter_ids), and how long its point in time
#: is kept between two requests
ITER_PAGE = 1000
PIT_KEEP_ALIVE = "2m"

_KW = {"type": "keyword"}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "_source": {"excludes": ["bi", "uni", "meta"]},
    "properties": {
        "item_id": {"type": "long"},
        "kind": {"type": "keyword"},  # "item" or "page"
        "audience": {"type": "keyword"},  # page rows: "all", "personal" or "masked"
        JOIN_FIELD: {"type": "join", "relations": {"item": "page"}},
        "page_no": {"type": "integer"},
        "bi": {"type": "text", "analyzer": "dangan_tokens"},
        "uni": {"type": "text", "analyzer": "dangan_tokens"},
        "meta": {"type": "text", "analyzer": "dangan_tokens"},
        "text": {
            "type": "text",
            "analyzer": "dangan_cjk",
            "index_options": "offsets",
            "fields": {
                "uni": {"type": "text", "analyzer": "dangan_cjk_uni", "index_options": "offsets"}
            },
        },
        "meta_text": {"type": "text", "analyzer": "dangan_cjk"},
        "words": {"type": "object", "enabled": False},
        "archival_code": _KW,
        "title": {"type": "keyword", "ignore_above": 1024},
        "fonds": _KW,
        "category": _KW,
        "year": {"type": "integer"},
        "retention": _KW,
        "secrecy": _KW,
        "customer": _KW,
        "box": _KW,
        "location": _KW,
        "status": _KW,
        "date": {"type": "date", "format": "strict_date_optional_time||yyyy-MM-dd"},
        "owner_id": {"type": "long"},
        "department": _KW,
        "fingerprint": _KW,
        "analyzer": {"type": "integer"},
    },
}

ANALYSIS: dict[str, Any] = {
    "analyzer": {
        # tokens made by indexer.search.analysis, joined by spaces
        "dangan_tokens": {"type": "custom", "tokenizer": "whitespace"},
        "dangan_cjk": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["cjk_width", "lowercase", "cjk_bigram"],
        },
        "dangan_cjk_uni": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["cjk_width", "lowercase"],
        },
    }
}


class ElasticsearchEngine:
    """The production :class:`~indexer.search.types.SearchEngine`."""

    def __init__(
        self,
        url: str,
        index_prefix: str = "dangan",
        *,
        replicas: int = 0,
        client: Elasticsearch | None = None,
    ) -> None:
        self.es = client or Elasticsearch(url, request_timeout=60)
        self.prefix = index_prefix.lower()
        self.alias = f"{self.prefix}-pages"
        self.replicas = replicas
        self._ready = False

    # ------------------------------------------------------------ index admin

    def settings(self, loading: bool = False) -> dict[str, Any]:
        return {
            "number_of_shards": 1,
            "number_of_replicas": 0 if loading else self.replicas,
            "refresh_interval": "-1" if loading else "1s",
            "analysis": ANALYSIS,
        }

    def _new_index_name(self) -> str:
        stamp = time.strftime("%Y%m%d%H%M%S")
        return f"{self.alias}-v{ANALYZER_VERSION}-{stamp}-{uuid.uuid4().hex[:6]}"

    def put_template(self) -> None:
        """An index template for every versioned index behind the alias.

        Analysis and mappings then live on the cluster, so an index created by hand or by
        a restore gets the same CJK analysis as one created here.
        """
        self.es.indices.put_index_template(
            name=self.alias,
            index_patterns=[f"{self.alias}-v*"],
            template={"settings": self.settings(), "mappings": MAPPINGS},
            priority=100,
            meta={"managed_by": "dangan", "analyzer_version": ANALYZER_VERSION},
        )

    def ensure_index(self) -> None:
        """Create the first versioned index and point the alias at it."""
        if self._ready:
            return
        self.put_template()
        if not self.es.indices.exists_alias(name=self.alias):
            name = self._new_index_name()
            self.es.indices.create(
                index=name,
                settings=self.settings(),
                mappings=MAPPINGS,
                aliases={self.alias: {}},
            )
        else:
            for name, body in self.es.indices.get_mapping(index=self.alias).items():
                if JOIN_FIELD not in body["mappings"].get("properties", {}):
                    raise RuntimeError(
                        f"search index {name} predates item documents: rebuild it "
                        "(dangan reindex --full)"
                    )
                built = re.search(r"-v(\d+)-", name[len(self.alias):])
                if built and int(built[1]) != ANALYZER_VERSION:
                    raise RuntimeError(
                        f"search index {name} was built by analyzer version {built[1]}, "
                        f"this version reads {ANALYZER_VERSION}: rebuild it (dangan reindex --full)"
                    )
        self._ready = True

    def rebuild(self, docs: Iterable[PageDoc]) -> int:
        """Load all pages into a fresh index, then swap the alias atomically.

        Searches keep hitting the old index until the swap; returns the
        number of pages loaded."""
        self.put_template()
        new = self._new_index_name()
        self.es.indices.create(index=new, settings=self.settings(loading=True), mappings=MAPPINGS)
        n = 0
        try:
            for ok, info in helpers.streaming_bulk(
                self.es,
                self._actions(docs, new),
                chunk_size=500,
                max_retries=3,
                raise_on_error=True,
            ):
                if not ok:  # pragma: no cover - raise_on_error raises first
                    raise RuntimeError(f"bulk indexing failed: {info}")
                n += 1
            self.es.indices.put_settings(
                index=new,
                settings={"index": {"refresh_interval": "1s", "number_of_replicas": self.replicas}},
            )
            self.es.indices.refresh(index=new)
        except Exception:
            self.es.indices.delete(index=new, ignore_unavailable=True)
            raise
        old: list[str] = []
        if self.es.indices.exists_alias(name=self.alias):
            old = list(self.es.indices.get_alias(name=self.alias))
        actions: list[dict[str, Any]] = [
            {"remove": {"index": o, "alias": self.alias}} for o in old
        ]
        actions.append({"add": {"index": new, "alias": self.alias}})
        self.es.indices.update_aliases(actions=actions)
        for o in old:
            self.es.indices.delete(index=o, ignore_unavailable=True)
        self._ready = True
        return n

    # ------------------------------------------------------------ writing

    @staticmethod
    def _source(d: PageDoc, audience: str, text: str, meta: str) -> dict[str, Any]:
        """A page document: one row of :func:`.types.page_rows` (full, masked or both)."""
        bi, uni, mt = index_fields(text, meta)
        return {
            "item_id": d.item_id,
            "page_no": d.page_no,
            "audience": audience,
            "bi": bi,
            "uni": uni,
            "meta": mt,
            "text": text,
            "meta_text": meta,
            "words": d.words or [],
            "archival_code": d.archival_code,
            "title": d.title,
            "fonds": d.fonds,
            "category": d.category,
            "year": d.year,
            "retention": d.retention,
            "secrecy": d.secrecy,
            "customer": d.customer,
            "box": d.box,
            "location": d.location,
            "status": d.status,
            "date": d.date or None,
            "owner_id": d.owner_id,
            "department": d.department,
            "fingerprint": d.fingerprint or "",
            "analyzer": ANALYZER_VERSION,
        }

    @staticmethod
    def _item_source(d: PageDoc) -> dict[str, Any]:
        """The item document: catalogue and visibility fields (from any of its pages)."""
        src: dict[str, Any] = {"item_id": d.item_id, "kind": "item", JOIN_FIELD: "item"}
        for name in ITEM_FIELDS:
            src[name] = getattr(d, name)
        src["date"] = d.date or None
        src["fingerprint"] = d.fingerprint or ""
        src["analyzer"] = ANALYZER_VERSION
        return src

    @staticmethod
    def _page_id(d: PageDoc, audience: str) -> str:
        return f"{d.item_id}:{d.page_no}" + (":m" if audience == AUDIENCE_MASKED else "")

    def _page_actions(self, d: PageDoc, index: str) -> Iterator[dict[str, Any]]:
        for audience, text, meta in page_rows(d):
            src = self._source(d, audience, text, meta)
            src["kind"] = "page"
            src[JOIN_FIELD] = {"name": "page", "parent": str(d.item_id)}
            yield {
                "_op_type": "index",
                "_index": index,
                "_id": self._page_id(d, audience),
                "_routing": str(d.item_id),
                "_source": src,
            }

    def _actions(self, docs: Iterable[PageDoc], index: str) -> Iterator[dict[str, Any]]:
        """Bulk actions: each item's document before its pages (docs come grouped by item)."""
        last: int | None = None
        for d in docs:
            if d.item_id != last:
                last = d.item_id
                yield {
                    "_op_type": "index",
                    "_index": index,
                    "_id": str(d.item_id),
                    "_routing": str(d.item_id),
                    "_source": self._item_source(d),
                }
            yield from self._page_actions(d, index)

    def index_pages(self, docs: list[PageDoc], conn: Any = None) -> None:
        """Replace all pages of the items in ``docs``.  ``conn`` is accepted for
        interface parity with SQLite and ignored: Elasticsearch is not
        transactional, so callers index after their catalogue commit."""
        self.ensure_index()
        if not docs:
            return
        ordered = sorted(docs, key=lambda d: (d.item_id, d.page_no))
        helpers.bulk(self.es, self._actions(ordered, self.alias), refresh="wait_for")
        pages: dict[int, list[str]] = {}
        for d in docs:
            pages.setdefault(d.item_id, []).extend(
                self._page_id(d, audience) for audience, _t, _m in page_rows(d)
            )
        # page documents an item no longer has (a page gone, or a masked row no longer
        # needed); written after, so no gap without pages
        stale = [
            {
                "bool": {
                    "filter": [{"term": {"item_id": iid}}, {"term": {"kind": "page"}}],
                    "must_not": [{"ids": {"values": keep}}],
                }
            }
            for iid, keep in pages.items()
        ]
        for i in range(0, len(stale), 500):
            self.es.delete_by_query(
                index=self.alias,
                query={"bool": {"should": stale[i : i + 500], "minimum_should_match": 1}},
                refresh=True,
                conflicts="proceed",
            )

    def delete_item(self, item_id: int, conn: Any = None) -> None:
        self.ensure_index()
        self.es.delete_by_query(
            index=self.alias,
            query={"term": {"item_id": item_id}},
            refresh=True,
            conflicts="proceed",
        )

    def clear(self) -> None:
        self.ensure_index()
        self.es.delete_by_query(
            index=self.alias, query={"match_all": {}}, refresh=True, conflicts="proceed"
        )

    # ------------------------------------------------------------ reading

    def count_pages(self) -> int:
        self.ensure_index()
        query = {
            "bool": {
                "filter": [{"term": {"kind": "page"}}],
                "must_not": [{"term": {"audience": AUDIENCE_MASKED}}],
            }
        }
        return int(self.es.count(index=self.alias, query=query)["count"])

    def indexed_items(self, item_ids: Sequence[int] | None = None, conn: Any = None) -> dict[int, str]:
        """Fingerprint per indexed item (all, or only ``item_ids``); ``conn`` is ignored."""
        self.ensure_index()
        out: dict[int, str] = {}
        if item_ids is not None and not item_ids:
            return out
        wanted: list[dict[str, Any]] = [{"term": {"kind": "item"}}]
        if item_ids is not None:
            wanted.append({"terms": {"item_id": [int(i) for i in item_ids]}})
        query = {"bool": {"filter": wanted}}
        after: dict[str, Any] | None = None
        while True:
            comp: dict[str, Any] = {
                "size": 1000,
                "sources": [
                    {"item_id": {"terms": {"field": "item_id"}}},
                    {"fp": {"terms": {"field": "fingerprint"}}},
                ],
            }
            if after:
                comp["after"] = after
            r = self.es.search(
                index=self.alias, size=0, query=query, aggs={"items": {"composite": comp}}
            )
            agg = r["aggregations"]["items"]
            for b in agg["buckets"]:
                out[int(b["key"]["item_id"])] = b["key"]["fp"]
            after = agg.get("after_key")
            if not agg["buckets"] or not after:
                return out

    def build_query(self, pq: ParsedQuery, req: SearchRequest, filters: dict[str, Any],
                    pages: bool = True) -> dict:
        """The ES query on item documents: the item-level rule (:func:`.query.item_plan`)
        as ``has_child`` clauses over the page documents, permissions/filters in filter.
        ``pages``: fetch the best pages of each hit (``inner_hits``), for snippets."""
        plan = item_plan(pq)
        rows = list(audiences(req.visibility))  # personal data: full or masked page rows
        must: list[dict[str, Any]] = [
            _has_page(_any_of([_phrase(p) for p in plan.shown.options]), rows,
                      score_mode="max", inner_hits=INNER_HITS if pages else None)
        ]
        must += [_has_page(_any_of([_phrase(p) for p in g.options]), rows) for g in plan.each]
        must_not = (
            [_has_page(_any_of([_phrase(p) for p in plan.excluded]), rows)]
            if plan.excluded else []
        )
        return {
            "bool": {
                "must": must,
                "must_not": must_not,
                "filter": [{"term": {"kind": "item"}}, *_filters(req, filters)],
            }
        }

    def search(self, req: SearchRequest) -> SearchResult:
        filters = check_filters(req.filters)
        pq = parse_query(req.q)
        offset, limit = clamp_request(req)
        empty_facets: dict[str, dict[str, int]] = (
            {f: {} for f in FACET_FIELDS} if req.facets else {}
        )
        if pq.empty or nobody_visible(req.visibility):
            return SearchResult(total=0, hits=[], facets=empty_facets)
        res = self._search(pq, req, filters, offset, limit)
        if res.total == 0:
            relaxed = relax_query(pq)
            if relaxed is not None:
                res = self._search(relaxed, req, filters, offset, limit)
                res.fuzzy = True
        return res

    def iter_ids(self, req: SearchRequest) -> Iterator[int]:
        """Every item id of the result of ``req`` (page and per_page aside), each once, in
        the search's order: ``search_after`` pages in a point in time (the index as it was
        when the walk began, whatever is indexed meanwhile), never ``from`` + ``size``,
        which costs more the deeper it goes and stops at ``index.max_result_window``."""
        filters = check_filters(req.filters)
        pq = parse_query(req.q)
        if pq.empty or nobody_visible(req.visibility):
            return
        self.ensure_index()
        for query in (pq, relax_query(pq)):
            if query is None:
                return
            found = False
            for i in self._walk_ids(self.build_query(query, req, filters, pages=False),
                                    _sort(req)):
                found = True
                yield i
            if found:
                return

    def _walk_ids(self, query: dict[str, Any], sort: list[Any]) -> Iterator[int]:
        pit = self.es.open_point_in_time(index=self.alias, keep_alive=PIT_KEEP_ALIVE)["id"]
        try:
            after: list[Any] | None = None
            while True:
                r = self.es.search(
                    pit={"id": pit, "keep_alive": PIT_KEEP_ALIVE}, query=query, sort=sort,
                    size=ITER_PAGE, search_after=after, source=False,
                    track_total_hits=False,
                )
                pit = r.get("pit_id", pit)
                hits = r["hits"]["hits"]
                yield from (int(h["_id"]) for h in hits)
                if len(hits) < ITER_PAGE:
                    return
                # the sort values of the last hit, with the point in time's tiebreaker
                after = hits[-1]["sort"]
        finally:
            self.es.close_point_in_time(id=pit)

    def _search(
        self,
        pq: ParsedQuery,
        req: SearchRequest,
        filters: dict[str, Any],
        offset: int,
        limit: int,
    ) -> SearchResult:
        self.ensure_index()
        aggs: dict[str, Any] = {}
        if req.facets:
            for f in FACET_FIELDS:
                aggs[f"facet_{f}"] = {
                    "terms": {
                        "field": f,
                        "size": FACET_SIZE,
                        "order": [{"_count": "desc"}, {"_key": "asc"}],
                    }
                }
        r = self.es.search(
            index=self.alias,
            query=self.build_query(pq, req, filters),
            sort=_sort(req),
            track_scores=True,
            from_=offset,
            size=limit,
            source={"includes": ["item_id", "archival_code", "title"]},
            aggs=aggs or None,
            track_total_hits=True,
        )
        phrases = pq.positive_phrases()
        hits: list[ItemHit] = []
        for h in r["hits"]["hits"]:
            src = h["_source"]
            pages = []
            for ph in h.get("inner_hits", {}).get("pages", {}).get("hits", {}).get("hits", []):
                ps = ph["_source"]
                pages.append(
                    page_hit(
                        int(ps["page_no"]),
                        ps.get("text") or "",
                        ps.get("words") or [],
                        phrases,
                        ph.get("_score") or 0.0,
                        req.text_filter,
                    )
                )
            hits.append(
                ItemHit(
                    id=int(src["item_id"]),
                    archival_code=src.get("archival_code") or "",
                    title=src.get("title") or "",
                    score=float(h.get("_score") or 0.0),
                    pages=pages,
                )
            )
        facets: dict[str, dict[str, int]] = {}
        if req.facets:
            ag = r["aggregations"]
            for f in FACET_FIELDS:
                facets[f] = sort_facet(
                    {
                        str(b["key"]): int(b["doc_count"])
                        for b in ag[f"facet_{f}"]["buckets"]
                        if b["key"] not in (None, "")
                    }
                )
        return SearchResult(total=int(r["hits"]["total"]["value"]), hits=hits, facets=facets)


def _sort(req: SearchRequest) -> list[Any]:
    """The order of a result: by date (undated last) or 档号 with item id to break ties, or
    by score; ``_score`` is kept as a sort value for the hits' scores."""
    if req.sort == "date_desc":
        return [{"date": {"order": "desc", "missing": "_last"}}, {"item_id": "desc"}, "_score"]
    if req.sort == "date_asc":
        return [{"date": {"order": "asc", "missing": "_last"}}, {"item_id": "asc"}, "_score"]
    if req.sort == "code":
        return [{"archival_code": "asc"}, {"item_id": "asc"}, "_score"]
    return ["_score", {"item_id": "asc"}]


def _clause(c: Clause) -> dict[str, Any]:
    qs: list[dict[str, Any]] = []
    text = " ".join(c.tokens)
    for f in c.fields:
        if c.prefix_last and len(c.tokens) > 1:
            qs.append(
                {"match_phrase_prefix": {f: {"query": text, "max_expansions": MAX_EXPANSIONS}}}
            )
        elif c.prefix_last:
            qs.append({"prefix": {f: {"value": c.tokens[0]}}})
        elif len(c.tokens) == 1:
            qs.append({"term": {f: {"value": c.tokens[0]}}})
        else:
            qs.append({"match_phrase": {f: {"query": text}}})
    return qs[0] if len(qs) == 1 else {"bool": {"should": qs, "minimum_should_match": 1}}


def _fuzzy(f: Fuzzy) -> dict[str, Any]:
    """Any alternative, each all of its parts: the SQLite engine's OR of ANDs (a key's two
    parts near each other, as the SQLite engine's NEAR)."""
    return _any_of([
        _near(alt, f.near) if f.near is not None and len(alt) == 2
        else {"bool": {"must": [_phrase(p) for p in alt]}}
        for alt in f.alternatives
    ])


def _near(parts: tuple[Phrase, ...], slop: int) -> dict[str, Any]:
    """Each part a span phrase (its trigrams adjacent, in order) in ``uni``; the parts at
    most ``slop`` positions apart.  FTS5's NEAR is unordered, so both orders are allowed."""
    spans = [
        {"span_near": {"clauses": [{"span_term": {"uni": t}} for t in p.tokens],
                       "slop": 0, "in_order": True}}
        if len(p.tokens) > 1 else {"span_term": {"uni": p.tokens[0]}}
        for p in parts
    ]
    return {"span_near": {"clauses": spans, "slop": slop, "in_order": False}}


def _phrase(p: Phrase | Fuzzy) -> dict[str, Any]:
    if isinstance(p, Fuzzy):
        return _fuzzy(p)
    cl = [_clause(c) for c in phrase_clauses(p)]
    return cl[0] if len(cl) == 1 else {"bool": {"must": cl}}


#: the pages shown with an item hit: best first (bm25 of the "any positive term" clause)
INNER_HITS: dict[str, Any] = {
    "name": "pages",
    "size": MAX_PAGES_PER_ITEM,
    "sort": ["_score", {"page_no": "asc"}],
    "_source": ["page_no", "text", "words"],
}


def _has_page(query: dict[str, Any], rows: list[str], score_mode: str = "none",
              inner_hits: dict[str, Any] | None = None) -> dict[str, Any]:
    """Items having a page document of these audiences that matches ``query``."""
    page_query = {"bool": {"must": [query], "filter": [{"terms": {"audience": rows}}]}}
    body: dict[str, Any] = {"type": "page", "query": page_query, "score_mode": score_mode}
    if inner_hits is not None:
        body["inner_hits"] = inner_hits
    return {"has_child": body}


def _any_of(qs: list[dict[str, Any]]) -> dict[str, Any]:
    return qs[0] if len(qs) == 1 else {"bool": {"should": qs, "minimum_should_match": 1}}


def _filters(req: SearchRequest, filters: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [_visible(req.visibility)]
    for key in LIST_FILTERS:
        if key in filters:
            out.append({"terms": {key: as_list(filters[key])}})
    rng: dict[str, int] = {}
    if "year_from" in filters:
        rng["gte"] = int(filters["year_from"])
    if "year_to" in filters:
        rng["lte"] = int(filters["year_to"])
    if rng:
        out.append({"range": {"year": rng}})
    return out



def _visible(vis: Visibility) -> dict[str, Any]:
    """The access rule (Visibility) as a filter on item documents: by secrecy within the
    user's scope, or by a live viewing grant of the item up to the levels a grant opens."""
    should: list[dict[str, Any]] = []
    if vis.secrecy and (vis.see_all or vis.owner_ids or vis.departments):
        level: dict[str, Any] = {"terms": {"secrecy": sorted(vis.secrecy)}}
        scope: list[dict[str, Any]] = []
        if vis.owner_ids:
            scope.append({"terms": {"owner_id": sorted(vis.owner_ids)}})
        if vis.departments:
            scope.append({"terms": {"department": sorted(vis.departments)}})
        should.append(level if vis.see_all else {"bool": {"filter": [
            level, {"bool": {"should": scope, "minimum_should_match": 1}}]}})
    if vis.granted_ids and vis.granted_secrecy:
        should.append({"bool": {"filter": [
            {"terms": {"item_id": sorted(vis.granted_ids)}},
            {"terms": {"secrecy": sorted(vis.granted_secrecy)}}]}})
    return {"bool": {"should": should, "minimum_should_match": 1}}
