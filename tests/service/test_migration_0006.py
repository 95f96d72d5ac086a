"""The search index across its migrations: 0006 (a masked row per page with personal data)
is frozen with its own copy of the masking and token rules (analyzer version 1), and its
result is pinned here as it was when it matched the live code; the re-analysis to the running
analyzer is done by `service.migrate.upgrade` after the migrations."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import command

from indexer.search.analysis import ANALYZER_VERSION
from indexer.search.sqlite_engine import SqliteFtsEngine, add_audience, retokenize
from indexer.search.types import SearchRequest, Visibility
from service.migrate import MIGRATIONS, alembic_config, upgrade

PAGES = [  # (text, catalogue text)
    ("个人客户登记表：姓名张三，身份证号110105199003078765，手机+86 138 1234 5678。", "登记表 张三"),
    ("手机：(138)1234-5678，备用 +86(139)8765 4321", "联系方式"),
    ("电话１３８－１２３４－５６７８ 旧身份证 110105900307001 号", "ＨＴ－２０２４ 证件"),
    ("1 1 0 1 0 5 1 9 9 0 0 3 0 7 8 7 6 5 Mobile13812345678ext", "Scan OCR"),
    ("合同金额 1234567890123 元，编号 HT-2024-0031，座机 (010) 6512-3456", "合同"),
    ("场景中，客户信息；々 かな 한국어 𠀀", "备注 13912345678"),
    ("", "空白页"),
]
#: What 0006 writes as the masked text and catalogue text of each page that needs one.
MASKED = [
    ("个人客户登记表：姓名张三，身份证号110***********8765，手机+86 138 **** 5678。", "登记表 张三"),
    ("手机：(138)****-5678，备用 +86(139)**** 4321", "联系方式"),
    ("电话１３８－****－５６７８ 旧身份证 110********7001 号", "ＨＴ－２０２４ 证件"),
    ("1 1 0 * * * * * * * * * * * 8 7 6 5 Mobile138****5678ext", "Scan OCR"),
    ("场景中，客户信息；々 かな 한국어 𠀀", "备注 139****5678"),
]
#: sha256 of everything 0006 leaves in the index (rows, texts, FTS terms, tables): what the
#: live add_audience and analyzer (version 1) made of PAGES when the migration was frozen.
AFTER_0006 = "7a0511b807e108a6878b8260d828362a33c0ede75e59009b66799cb9b2a634b0"


def _script(name: str) -> ModuleType:
    """A migration script loaded by path, for the token rules it carries."""
    path = next((MIGRATIONS / "versions").glob(f"{name}_*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _at_0005(path: Path) -> str:
    """A catalogue at revision 0005 whose embedded index holds PAGES, as analyzer version 1
    wrote them (the token rules frozen in 0006)."""
    v1 = _script("0006").index_fields
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
                        (n, *v1(text, meta)))
    engine.dispose()
    return url


def _migrate(url: str, *steps: tuple[str, str]) -> None:
    engine = sa.create_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        for step, revision in steps:
            getattr(command, step)(cfg, revision)
    engine.dispose()


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


def _digest(dump: dict[str, list[tuple]]) -> str:
    return hashlib.sha256(repr(sorted(dump.items())).encode()).hexdigest()


def test_migration_0006_adds_the_masked_rows_it_always_added(tmp_path: Path) -> None:
    url = _at_0005(tmp_path / "catalogue.sqlite3")
    _migrate(url, ("upgrade", "0006"))
    after = _dump(url)
    masked = [(text, meta) for (pid, text, meta, _), page in zip(after["text"], after["page"],
                                                                    strict=True)
              if page[-1] == "masked"]
    assert masked == MASKED
    assert [page[-1] for page in after["page"][:len(PAGES)]] == [
        "personal", "personal", "personal", "personal", "all", "personal", "all"]
    assert _digest(after) == AFTER_0006


def test_after_the_migrations_the_index_follows_the_running_analyzer(tmp_path: Path) -> None:
    """`service.migrate.upgrade` re-analyses what 0006 left (version 1) with the live rules:
    the same index as the live add_audience and retokenize make of the old one."""
    url = _at_0005(tmp_path / "migrated.sqlite3")
    shutil.copy(tmp_path / "migrated.sqlite3", tmp_path / "live.sqlite3")
    live = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    engine = sa.create_engine(url)
    upgrade(engine)
    live_engine = sa.create_engine(live)
    with live_engine.begin() as conn:
        # 0006's own masking rule: the live one has changed since (check digits, look-alike
        # letters); `dangan reindex` brings the masked rows to it (service.search_docs)
        assert add_audience(conn, _script("0006").mask_personal) == len(MASKED)
        assert retokenize(conn) == len(PAGES) + len(MASKED)
    live_engine.dispose()
    migrated, expected = _dump(url), _dump(live)
    assert migrated["page"] == expected["page"] and migrated["text"] == expected["text"]
    assert migrated["terms"] == expected["terms"]
    assert {row[-2] for row in migrated["page"]} == {ANALYZER_VERSION}

    search = SqliteFtsEngine(engine)
    everyone = Visibility(secrecy=frozenset({"公开"}), see_all=True)
    masked = Visibility(secrecy=frozenset({"公开"}), see_all=True, personal=False)
    assert search.search(SearchRequest(q="138 1234 5678", visibility=everyone)).total == 3
    assert search.search(SearchRequest(q="138 1234 5678", visibility=masked)).total == 0
    assert search.search(SearchRequest(q="登记表", visibility=masked)).total == 1
    with engine.begin() as conn:
        assert retokenize(conn) == 0  # nothing left of an older analyzer
    engine.dispose()


def test_the_downgrade_of_0006_gives_back_the_tables_of_0002(tmp_path: Path) -> None:
    url = _at_0005(tmp_path / "catalogue.sqlite3")
    before = _dump(url)["schema"]
    _migrate(url, ("upgrade", "0006"), ("downgrade", "0005"))
    after = _dump(url)
    assert after["schema"] == before
    assert after["page"] == [] and after["text"] == [] and after["terms"] == []
