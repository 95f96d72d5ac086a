"""Full-text search: one interface (:class:`SearchEngine`), two engines.

* :class:`~indexer.search.sqlite_engine.SqliteFtsEngine` — embedded, SQLite FTS5;
* :class:`~indexer.search.es_engine.ElasticsearchEngine` — production cluster.

Both index the token strings made by :mod:`indexer.search.analysis` and build
snippets with :mod:`indexer.search.highlight`, so they behave the same.
"""

from .types import (
    ItemHit,
    PageDoc,
    PageHit,
    SearchEngine,
    SearchRequest,
    SearchResult,
    Visibility,
    to_cli_json,
)

__all__ = [
    "ItemHit",
    "PageDoc",
    "PageHit",
    "SearchEngine",
    "SearchRequest",
    "SearchResult",
    "Visibility",
    "to_cli_json",
]
