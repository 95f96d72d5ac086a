"""The running archive: settings plus the catalogue engine, object store and search engine.

One object to pass around instead of globals, built lazily so that a forked worker
opens its own connections.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from storage import ObjectStore, open_store

from .config import Settings
from .db import get_engine, session_scope
from .indexing import ARCHIVE_KEY
from .jobs.queue import JobQueue
from .search_backend import open_search

if TYPE_CHECKING:
    from indexer.search.types import SearchEngine


class Archive:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()

    @property
    def engine(self) -> Engine:
        return get_engine(self.settings.database_url)

    def new_session(self) -> Session:
        """A catalogue session the caller commits and closes (the web's request session);
        like `session()`, the search index follows what it commits (service.indexing)."""
        return Session(self.engine, expire_on_commit=False, info={ARCHIVE_KEY: self})

    def session(self) -> AbstractContextManager[Session]:
        """A transaction scope on the catalogue (commit on success); the search index
        follows what it commits (service.indexing)."""
        return session_scope(self.engine, info={ARCHIVE_KEY: self})

    @cached_property
    def store(self) -> ObjectStore:
        return open_store(self.settings.storage_url)

    @cached_property
    def search(self) -> SearchEngine:
        return open_search(self.settings, self.engine)

    @property
    def embedded_search(self) -> bool:
        """True when the index lives in the catalogue database (same-transaction updates)."""
        return self.settings.search_url == "sqlite" and self.engine.dialect.name == "sqlite"

    @cached_property
    def queue(self) -> JobQueue:
        """The job queue from the settings, built on first use; its tasks run in worker
        processes, each with an archive of its own on the same settings."""
        return JobQueue(self.settings, lambda: Archive(self.settings))
