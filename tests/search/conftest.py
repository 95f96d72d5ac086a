"""Fixtures for the search contract suite: each engine, loaded with the corpus.

The SQLite engine always runs (temp file).  Elasticsearch runs only when
DANGAN_TEST_ELASTICSEARCH_URL points at a real 8.x server; never a fake.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from search_corpus import build_corpus
from sqlalchemy import create_engine

from indexer.search.sqlite_engine import SqliteFtsEngine, create_schema
from indexer.search.types import PageDoc

ES_ENV = "DANGAN_TEST_ELASTICSEARCH_URL"
ENGINES = ["sqlite", "elasticsearch"]


def make_engine(kind: str, tmp_path_factory: pytest.TempPathFactory):
    """A fresh, empty engine of ``kind`` and a cleanup callable."""
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("search") / "search.db"
        eng = create_engine(f"sqlite:///{path}")
        with eng.begin() as c:
            create_schema(c)
        return SqliteFtsEngine(eng), eng.dispose
    url = os.environ.get(ES_ENV)
    if not url:
        pytest.skip(
            "set DANGAN_TEST_ELASTICSEARCH_URL=http://host:9200 to run the Elasticsearch contract tests"
        )
    from indexer.search.es_engine import ElasticsearchEngine

    es = ElasticsearchEngine(url, index_prefix=f"dangan-test-{uuid.uuid4().hex[:8]}")
    es.ensure_index()
    return es, es.drop


@pytest.fixture(scope="session")
def corpus() -> list[PageDoc]:
    return build_corpus()


@pytest.fixture(scope="module", params=ENGINES)
def loaded(request, tmp_path_factory, corpus) -> Iterator:
    """An engine holding the whole corpus; tests using it must not write."""
    eng, cleanup = make_engine(request.param, tmp_path_factory)
    eng.index_pages(corpus)
    yield eng
    cleanup()


@pytest.fixture(params=ENGINES)
def fresh(request, tmp_path_factory) -> Iterator:
    """An empty engine for tests that write."""
    eng, cleanup = make_engine(request.param, tmp_path_factory)
    yield eng
    cleanup()
