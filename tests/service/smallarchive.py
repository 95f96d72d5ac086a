"""A small processed archive and how to read a whole catalogue, for the tests that copy an
archive elsewhere (backup/restore, migrate) and compare both sides."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from scanfactory import render_page, write_png

from service.archive import Archive
from service.audit import record
from service.catalogue_copy import OBJECT_COLUMNS, catalogue_tables, reflect_tables
from service.ingest import IngestRequest, ingest
from service.jobs.pipeline import run_page
from tests.queued import QueuedPages


def _norm(value):
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value


def catalogue_rows(engine: sa.Engine) -> dict[str, list[dict]]:
    with engine.connect() as conn:
        tables = reflect_tables(conn, catalogue_tables())
        return {t.name: [{k: _norm(v) for k, v in row.items()} for row in conn.execute(
            sa.select(t).order_by(*t.primary_key.columns)).mappings()] for t in tables}


def object_keys(rows: dict[str, list[dict]]) -> set[str]:
    return {r[col] for table, col in OBJECT_COLUMNS for r in rows[table] if r[col]}


def fill(archive: Archive, tmp_path: Path) -> Archive:
    """Two OCR'd items (one real scan each), a user, an audit entry."""
    queued = QueuedPages(archive)
    for n, words in enumerate((["房屋租赁合同", "甲方 深圳市某某公司"], ["借款协议", "乙方 张三"])):
        scan = write_png(tmp_path / f"p{n}.png", render_page(words, size=(700, 420)))
        ingest(archive, IngestRequest(files=[scan], fonds="J001", category="HT", year=2024,
                                      retention="D30", secrecy="内部", title=words[0]))
    while len(queued):
        assert run_page(archive, queued.pop()) == "done"
    with archive.session() as s:
        record(s, "cli", "item.view", "item:1", {"why": "备份测试"})
    return archive
