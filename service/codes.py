"""档号 (archival code) after DA/T 22-2015: format, parse and gap-free allocation.

`全宗号-门类代码·年度-保管期限-机构(问题)代码-件号`, e.g. `Z109-WS·2011-Y-BGS-0001`;
the organisation part is optional (`J001-HT·2024-D30-0007`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .errors import N_, Conflict, InvalidInput
from .models import ArchivalCodeCounter
from .vocab import RETENTIONS

MAX_ITEM_NO = 9999
_DOT = "·"
_CODE_RE = re.compile(
    r"(?P<fonds>[A-Z0-9]{4})-(?P<category>[A-Z]{2})[·・.](?P<year>[0-9]{4})"
    r"-(?P<retention>Y|D30|D10)(?:-(?P<org>[A-Z]{3}))?-(?P<item_no>[0-9]{4})"
)
_FONDS_RE = re.compile(r"^[A-Z0-9]{4}$")
_CATEGORY_RE = re.compile(r"^[A-Z]{2}$")
_ORG_RE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class ArchivalCode:
    fonds: str
    category: str
    year: int
    retention: str
    org: str | None
    item_no: int

    def __str__(self) -> str:
        return format_code(self)

    @property
    def group_key(self) -> str:
        return group_key(self.fonds, self.category, self.year, self.retention, self.org)


def validate_parts(fonds: str, category: str, year: int, retention: str, org: str | None) -> None:
    """Raise InvalidInput naming the bad part and the expected form."""
    if not _FONDS_RE.match(fonds or ""):
        raise InvalidInput(N_("全宗号“%(fonds)s”无效：应为4位大写字母或数字，如 J001。"), fonds=fonds)
    if not _CATEGORY_RE.match(category or ""):
        raise InvalidInput(N_("门类代码“%(category)s”无效：应为2个大写字母，如 HT。"), category=category)
    if not isinstance(year, int) or not 1900 <= year <= 2999:
        raise InvalidInput(N_("年度“%(year)s”无效：应为4位年份，如 2024。"), year=year)
    this_year = date.today().year
    if year > this_year:
        raise InvalidInput(N_("年度 %(year)s 晚于今年（%(this_year)s）：档案的年度是文件形成的年份，不能在将来。"), year=year,
                           this_year=this_year)
    if retention not in RETENTIONS:
        raise InvalidInput(N_("保管期限“%(retention)s”无效：可选 Y（永久）、D30（定期30年）、D10（定期10年）。"),
                           retention=retention)
    if org is not None and not _ORG_RE.match(org):
        raise InvalidInput(N_("机构（问题）代码“%(org)s”无效：应为3个大写字母，如 BGS。"), org=org)


def format_code(code: ArchivalCode) -> str:
    validate_parts(code.fonds, code.category, code.year, code.retention, code.org)
    if not 1 <= code.item_no <= MAX_ITEM_NO:
        raise InvalidInput(N_("件号 %(item_no)s 超出范围 1–9999。"), item_no=code.item_no)
    org = f"-{code.org}" if code.org else ""
    return f"{code.fonds}-{code.category}{_DOT}{code.year:04d}-{code.retention}{org}-{code.item_no:04d}"


def parse_code(text: str) -> ArchivalCode:
    """Parse a 档号 back into its parts; raises InvalidInput on a malformed code.

    Full-width forms typed with a Chinese input method (Ｊ００１, ２０２４) are folded to
    ASCII first (NFKC); digits of other scripts are refused. A code is accepted only if its
    parts are ones `format_code` writes (a year from 1900 to this year), so whatever parses
    can be written back: format_code(parse_code(x)) is x with the dot written as ·.
    """
    folded = unicodedata.normalize("NFKC", text or "").strip()
    m = _CODE_RE.fullmatch(folded)
    if not m or int(m["item_no"]) == 0:
        raise InvalidInput(N_("档号“%(text)s”格式不正确：应为 全宗号-门类代码·年度-保管期限-机构代码-件号，如 Z109-WS·2011-Y-BGS-0001（机构代码可省略）。"),
                           text=text)
    code = ArchivalCode(m["fonds"], m["category"], int(m["year"]), m["retention"], m["org"],
                        int(m["item_no"]))
    validate_parts(code.fonds, code.category, code.year, code.retention, code.org)
    return code


def group_key(fonds: str, category: str, year: int, retention: str, org: str | None) -> str:
    return f"{fonds}-{category}{_DOT}{year:04d}-{retention}-{org or ''}"


def take_next(session: Session, key: str) -> int:
    """The next number of the counter `key` (1 for a new key), inside the caller's transaction:
    one INSERT … ON CONFLICT DO UPDATE … RETURNING, so concurrent callers queue on it and a
    rollback returns the number (no gaps, no duplicates). 件号 and 借阅单号 are numbered so."""
    dialect = session.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(ArchivalCodeCounter)
    stmt = ins.values(group_key=key, last_no=1).on_conflict_do_update(
        index_elements=[ArchivalCodeCounter.group_key],
        set_={"last_no": ArchivalCodeCounter.last_no + 1},
    ).returning(ArchivalCodeCounter.last_no)
    return int(session.execute(stmt).scalar_one())


def allocate(session: Session, fonds: str, category: str, year: int, retention: str,
             org: str | None) -> ArchivalCode:
    """Take the next 件号 of the group inside the caller's transaction.

    A single INSERT … ON CONFLICT DO UPDATE … RETURNING both creates and increments the
    counter, so it is the statement that takes the write lock (SQLite) or row lock
    (PostgreSQL): concurrent allocators queue on it, and a rolled-back registration rolls
    the number back with it, so there are neither gaps nor duplicates.
    """
    validate_parts(fonds, category, year, retention, org)
    key = group_key(fonds, category, year, retention, org)
    number = take_next(session, key)
    if number > MAX_ITEM_NO:
        raise Conflict(N_("分组 %(key)s 的件号已用尽（最多 %(MAX_ITEM_NO)s）。"), key=key,
                       MAX_ITEM_NO=MAX_ITEM_NO)
    return ArchivalCode(fonds, category, year, retention, org, number)


ITEM_NO_PLACEHOLDER = "NNNN"


def preview(fonds: str, category: str, year: int, retention: str, org: str | None) -> str:
    """The code a registration in this group will get, with the 件号 left open.

    The 件号 is allocated at registration (concurrent uploads may take the next one first),
    and the group's counter also counts items the asking user may not see, so showing the
    next number would tell anyone how many hidden items a group holds. The preview checks
    every part and shows the group; the number itself is shown when the item is registered.
    """
    validate_parts(fonds, category, year, retention, org)
    org_part = f"-{org}" if org else ""
    return f"{fonds}-{category}{_DOT}{year:04d}-{retention}{org_part}-{ITEM_NO_PLACEHOLDER}"


def next_item_no(session: Session, fonds: str, category: str, year: int, retention: str,
                 org: str | None) -> int:
    """The 件号 the group's next registration would take now (for a sheet's dry run, which
    checks a 件号 the sheet asks for; the registration itself still goes through allocate)."""
    key = group_key(fonds, category, year, retention, org)
    last = session.scalar(select(ArchivalCodeCounter.last_no)
                          .where(ArchivalCodeCounter.group_key == key))
    return (last or 0) + 1
