"""Search index rows per audience: pages with personal data get a masked row (#8.15).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

Only on SQLite (the embedded index inside the catalogue). The upgrade keeps every indexed
page and adds, for each page whose text shows an ID or mobile number, the masked row that
users without the right to personal data match instead (indexer.search.types.page_rows).
The index is a cache: the downgrade drops it and recreates the old tables empty; run
`dangan reindex` afterwards.

Frozen: the tables, the masking rule (service.privacy.mask_personal) and the token rules
(indexer.search.analysis, ANALYZER_VERSION 1) as they were at this revision are written out
here rather than imported, so that later changes to live code cannot change what this
migration does. The masked rows must be tokenised by the analyzer that built the rows they
sit beside: contentless FTS5 rows are deleted by re-analysing their text.
"""
import re
import unicodedata
from collections.abc import Iterator

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

AUDIENCE_PERSONAL, AUDIENCE_MASKED = "personal", "masked"

#: search_page with the audience column (as indexer.search.sqlite_engine had it).
SEARCH_PAGE_NEW = """CREATE TABLE search_page_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        item_id INTEGER NOT NULL,
        page_no INTEGER NOT NULL,
        archival_code TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        fonds TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL DEFAULT '',
        year INTEGER,
        retention TEXT NOT NULL DEFAULT '',
        secrecy TEXT NOT NULL,
        customer TEXT,
        box TEXT,
        location TEXT,
        status TEXT NOT NULL DEFAULT '',
        date TEXT,
        owner_id INTEGER,
        department TEXT,
        fingerprint TEXT NOT NULL DEFAULT '',
        analyzer INTEGER NOT NULL DEFAULT 1,
        audience TEXT NOT NULL DEFAULT 'all',
        UNIQUE (item_id, page_no, audience)
    )"""
DATE_INDEX = "CREATE INDEX IF NOT EXISTS ix_search_page_date ON search_page (date)"

#: The tables of revision 0002, for the downgrade.
OLD_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS search_page (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        item_id INTEGER NOT NULL,
        page_no INTEGER NOT NULL,
        archival_code TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        fonds TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL DEFAULT '',
        year INTEGER,
        retention TEXT NOT NULL DEFAULT '',
        secrecy TEXT NOT NULL,
        customer TEXT,
        box TEXT,
        location TEXT,
        status TEXT NOT NULL DEFAULT '',
        date TEXT,
        owner_id INTEGER,
        department TEXT,
        fingerprint TEXT NOT NULL DEFAULT '',
        analyzer INTEGER NOT NULL DEFAULT 1,
        UNIQUE (item_id, page_no)
    )""",
    """CREATE TABLE IF NOT EXISTS search_page_text (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL DEFAULT '',
        meta_text TEXT NOT NULL DEFAULT '',
        words TEXT NOT NULL DEFAULT '[]'
    )""",
    "CREATE INDEX IF NOT EXISTS ix_search_page_date ON search_page (date)",
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        bi, uni, meta, content='', tokenize='unicode61 remove_diacritics 0'
    )""",
    "INSERT INTO search_fts (search_fts, rank) VALUES ('rank', 'bm25(1.0, 0.5, 2.0)')",
]

# -- masking: resident ID and mobile numbers, digits replaced one for one by `*` ----------
_GROUP = re.compile(r"\d+([XxＸｘ])?")
_SEPARATOR = re.compile(r"[\s\-‐‑‒–—―－.．·・()（）]{1,3}")
_ID18 = re.compile(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]")
_ID15 = re.compile(r"[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}")
_MOBILE = re.compile(r"(?:0086|86)?(1[3-9]\d{9})")
_MAX_DIGITS = 18


def _runs(text: str) -> Iterator[list[list[int]]]:
    run: list[list[int]] = []
    last_end = -1
    for m in _GROUP.finditer(text):
        if run and not _SEPARATOR.fullmatch(text, last_end, m.start()):
            yield run
            run = []
        run.append(list(range(m.start(), m.end())))
        last_end = m.end()
        if m[1] is not None:
            yield run
            run, last_end = [], -1
    if run:
        yield run


def _digit(ch: str) -> str:
    return "X" if ch in "XxＸｘ" else str(unicodedata.decimal(ch))


def _masked_positions(digits: str) -> range | None:
    if _ID18.fullmatch(digits) or _ID15.fullmatch(digits):
        return range(3, len(digits) - 4)
    m = _MOBILE.fullmatch(digits.removesuffix("X"))
    if m:
        return range(m.start(1) + 3, m.start(1) + 7)
    return None


def mask_personal(text: str) -> str:
    out = list(text)
    for run in _runs(text):
        i = 0
        while i < len(run):
            found = None
            positions: list[int] = []
            for j in range(i, len(run)):
                positions = positions + run[j]
                if len(positions) > _MAX_DIGITS:
                    break
                hide = _masked_positions("".join(_digit(text[p]) for p in positions))
                if hide is not None:
                    found = (j, [positions[k] for k in hide])
            if found is None:
                i += 1
                continue
            for p in found[1]:
                out[p] = "*"
            i = found[0] + 1
    return "".join(out)


# -- token rules of analyzer version 1: CJK bigrams, CJK unigrams, Latin words -------------
_CJK_CLASS = (
    "[\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f]"
)
_SEG_RE = re.compile(rf"(?P<cjk>{_CJK_CLASS}+)|(?P<word>(?:(?!{_CJK_CLASS})[^\W_])+)")


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3134F
        or 0x3040 <= o <= 0x30FF
        or 0xAC00 <= o <= 0xD7AF
        or o == 0x3005
    )


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _bigram_tokens(text: str) -> list[str]:
    segs: list[tuple[str, str]] = []  # (kind, text); CJK runs with only non-words between join
    for m in _SEG_RE.finditer(_fold(text)):
        kind = "cjk" if m.lastgroup == "cjk" else "word"
        if segs and kind == "cjk" and segs[-1][0] == "cjk":
            segs[-1] = ("cjk", segs[-1][1] + m.group())
        else:
            segs.append((kind, m.group()))
    out: list[str] = []
    for kind, t in segs:
        if kind == "word" or len(t) == 1:
            out.append(t)
        else:
            out.extend(t[i : i + 2] for i in range(len(t) - 1))
    return out


def _unigram_tokens(text: str) -> list[str]:
    return [ch for ch in _fold(text) if _is_cjk(ch)]


def index_fields(text: str, meta_text: str) -> tuple[str, str, str]:
    """(bi, uni, meta) strings to index for one page."""
    return (
        " ".join(_bigram_tokens(text)),
        " ".join(_unigram_tokens(text) + _unigram_tokens(meta_text)),
        " ".join(_bigram_tokens(meta_text)),
    )


# -- the migration ------------------------------------------------------------------------
def add_audience(conn) -> int:
    """Add the ``audience`` column in place; for every page whose text or catalogue text
    the masking changes, mark the row full-text-only and add its masked row. Row ids are
    kept, so the FTS rows stay valid. Returns the number of masked rows added."""
    cols = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(search_page)").fetchall()]
    if "audience" in cols:
        return 0
    keep = [c for c in cols if c != "audience"]
    conn.exec_driver_sql(SEARCH_PAGE_NEW)
    conn.exec_driver_sql(
        f"INSERT INTO search_page_new ({', '.join(keep)}, audience) "
        f"SELECT {', '.join(keep)}, 'all' FROM search_page"
    )
    conn.exec_driver_sql("DROP TABLE search_page")
    conn.exec_driver_sql("ALTER TABLE search_page_new RENAME TO search_page")
    conn.exec_driver_sql(DATE_INDEX)
    cur = conn.connection.dbapi_connection.cursor()
    rows = cur.execute(
        "SELECT p.id, t.text, t.meta_text, t.words FROM search_page p "
        "JOIN search_page_text t ON t.id = p.id"
    ).fetchall()
    copy = [c for c in keep if c not in ("id", "audience")]
    added = 0
    for pid, text, meta, words in rows:
        masked_text, masked_meta = mask_personal(text), mask_personal(meta)
        if masked_text == text and masked_meta == meta:
            continue
        cur.execute("UPDATE search_page SET audience = ? WHERE id = ?", (AUDIENCE_PERSONAL, pid))
        cur.execute(
            f"INSERT INTO search_page ({', '.join(copy)}, audience) "
            f"SELECT {', '.join(copy)}, ? FROM search_page WHERE id = ?",
            (AUDIENCE_MASKED, pid),
        )
        new = cur.lastrowid
        cur.execute(
            "INSERT INTO search_page_text (id, text, meta_text, words) VALUES (?, ?, ?, ?)",
            (new, masked_text, masked_meta, words),
        )
        cur.execute(
            "INSERT INTO search_fts (rowid, bi, uni, meta) VALUES (?, ?, ?, ?)",
            (new, *index_fields(masked_text, masked_meta)),
        )
        added += 1
    return added


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        add_audience(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
        bind.exec_driver_sql("DROP TABLE IF EXISTS search_page_text")
        bind.exec_driver_sql("DROP TABLE IF EXISTS search_page")
        for stmt in OLD_SCHEMA:
            bind.exec_driver_sql(stmt)
