"""Migration 0006 (search rows per audience) is frozen: it carries its own copy of the
masking and token rules. Today it must do exactly what the live `add_audience` does with the
live `mask_personal` and analyzer, and its downgrade must give back the tables of 0002."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from indexer.search.analysis import index_fields
from indexer.search.sqlite_engine import SqliteFtsEngine, add_audience
from indexer.search.types import SearchRequest, Visibility
from service.migrate import alembic_config
from service.privacy import mask_personal

PAGES = [  # (text, catalogue text)
    ("个人客户登记表：姓名张三，身份证号110105199003078765，手机+86 138 1234 5678。", "登记表 张三"),
    ("手机：(138)1234-5678，备用 +86(139)8765 4321", "联系方式"),
    ("电话１３８－１２３４－５６７８ 旧身份证 110105900307001 号", "ＨＴ－２０２４ 证件"),
    ("1 1 0 1 0 5 1 9 9 0 0 3 0 7 8 7 6 5 Mobile13812345678ext", "Scan OCR"),
    ("合同金额 1234567890123 元，编号 HT-2024-0031，座机 (010) 6512-3456", "合同"),
    ("场景中，客户信息；々 かな 한국어 𠀀", "备注 13912345678"),
    ("", "空白页"),
]


def _at_0005(path: Path) -> str:
    """A catalogue at revision 0005 whose embedded index holds PAGES, indexed as before 0006."""
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
        cur = conn.connection.dbapi_connection.cursor()
        for n, (text, meta) in enumerate(PAGES, start=1):
            cur.execute("INSERT INTO search_page (id, item_id, page_no, secrecy, title) "
                        "VALUES (?, ?, 1, '公开', ?)", (n, n, meta))
            cur.execute("INSERT INTO search_page_text (id, text, meta_text) VALUES (?, ?, ?)",
                        (n, text, meta))
            cur.execute("INSERT INTO search_fts (rowid, bi, uni, meta) VALUES (?, ?, ?, ?)",
                        (n, *index_fields(text, meta)))
    engine.dispose()
    return url


def _dump(url: str) -> dict[str, list[tuple]]:
    """Every row of the index: the tables and the terms FTS5 holds for each row."""
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, search_fts, "
                          "'instance')")
        out = {
            "page": [tuple(r) for r in c.exec_driver_sql(
                "SELECT * FROM search_page ORDER BY id")],
            "text": [tuple(r) for r in c.exec_driver_sql(
                "SELECT * FROM search_page_text ORDER BY id")],
            "terms": [tuple(r) for r in c.exec_driver_sql(
                "SELECT term, doc, col, offset FROM temp.terms ORDER BY doc, col, offset")],
            "schema": [tuple(r) for r in c.exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master WHERE name LIKE '%search%' "
                "ORDER BY name")],
        }
    engine.dispose()
    return out


def test_the_frozen_migration_does_what_the_live_code_does(tmp_path: Path) -> None:
    migrated = _at_0005(tmp_path / "migrated.sqlite3")
    shutil.copy(tmp_path / "migrated.sqlite3", tmp_path / "live.sqlite3")
    live = f"sqlite:///{tmp_path / 'live.sqlite3'}"

    engine = sa.create_engine(migrated)
    cfg = alembic_config(migrated)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
    live_engine = sa.create_engine(live)
    with live_engine.begin() as conn:
        added = add_audience(conn, mask_personal)
    live_engine.dispose()

    after = _dump(migrated)
    assert added == 5  # every page showing an ID or mobile number, in its text or catalogue text
    assert sum(1 for row in after["page"] if row[-1] == "masked") == added
    assert after == _dump(live)

    search = SqliteFtsEngine(engine)
    everyone = Visibility(secrecy=frozenset({"公开"}), see_all=True)
    masked = Visibility(secrecy=frozenset({"公开"}), see_all=True, personal=False)
    assert search.search(SearchRequest(q="138 1234 5678", visibility=everyone)).total == 3
    assert search.search(SearchRequest(q="138 1234 5678", visibility=masked)).total == 0
    assert search.search(SearchRequest(q="登记表", visibility=masked)).total == 1
    engine.dispose()


def test_the_downgrade_gives_back_the_tables_of_0002(tmp_path: Path) -> None:
    url = _at_0005(tmp_path / "catalogue.sqlite3")
    before = _dump(url)["schema"]
    engine = sa.create_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        command.downgrade(cfg, "0005")
    engine.dispose()
    after = _dump(url)
    assert after["schema"] == before
    assert after["page"] == [] and after["text"] == [] and after["terms"] == []
