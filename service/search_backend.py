"""Choosing the search engine from DANGAN_SEARCH_URL.

`sqlite` (default): FTS5 tables inside the catalogue database when it is SQLite, so the
index is updated in the catalogue's own transaction; with a PostgreSQL catalogue the
FTS5 index lives in `search.sqlite3` in the data directory. `http(s)://…`: Elasticsearch.
"""

from __future__ import annotations

from sqlalchemy import Engine

from indexer.search.sqlite_engine import (
    SqliteFtsEngine,
    add_audience,
    create_schema,
    retokenize,
)
from indexer.search.types import SearchEngine

from .config import Settings
from .db import get_engine
from .privacy import mask_personal


def open_search(settings: Settings, catalogue: Engine) -> SearchEngine:
    url = settings.search_url
    if url.startswith(("http://", "https://")):
        # Imported here: the Elasticsearch client costs half a second to import, and only
        # deployments that name a server need it.
        from indexer.search.es_engine import ElasticsearchEngine

        return ElasticsearchEngine(url, index_prefix=settings.queue_name)
    if url != "sqlite":
        raise ValueError(f"DANGAN_SEARCH_URL must be 'sqlite' or http(s)://elasticsearch:9200, got {url!r}")
    engine = catalogue
    if catalogue.dialect.name != "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = get_engine(f"sqlite:///{settings.data_dir / 'search.sqlite3'}")
        with engine.begin() as conn:
            create_schema(conn)
            add_audience(conn, mask_personal)  # an index file from before audiences
            retokenize(conn)  # an index file of an older analyzer version
    return SqliteFtsEngine(engine)
