"""Free-text catalogue fields, checked once for the web forms, the API and the CLI.

SQLite stores any text in any column, PostgreSQL refuses NUL characters and text longer than
a `String(n)` column: without one check before the write, the same input is accepted on one
database and a server error on the other.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import InstrumentedAttribute

from .errors import N_, InvalidInput, Message

#: Control characters other than tab and line breaks: never typed into a field, and
#: PostgreSQL cannot store NUL in text at all. U+FFFE and U+FFFF are no characters either:
#: XML cannot hold them, so a field with one could not be exported as XLSX.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def check_text(column: InstrumentedAttribute, value: str | None, label: str | Message) -> None:
    """InvalidInput unless ``value`` fits ``column`` (its length) and holds no control
    characters; ``label`` names the field (a message id marked with N_, or a message)."""
    if not value:
        return
    field = label if isinstance(label, Message) else Message(label)
    if _CONTROL.search(value):
        raise InvalidInput(N_("%(field)s含有控制字符（如 NUL），请删除后重新填写。"), field=field)
    limit = getattr(column.property.columns[0].type, "length", None)
    if limit is not None and len(value) > limit:
        raise InvalidInput(N_("%(field)s过长（最多 %(limit)s 个字符）。"), field=field, limit=limit)


#: How a yes/no field may be written (forms, the API, a catalogue sheet): 是/否 and the usual
#: English and checkbox spellings; blank is no.
_YES = frozenset({"是", "1", "true", "yes", "y", "on", "√", "✓"})
_NO = frozenset({"否", "0", "false", "no", "n", "off", ""})


def yes_no(raw: str | None, label: str | Message) -> bool:
    """A yes/no field, or InvalidInput naming the field and the allowed spellings."""
    value = (raw or "").strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    field = label if isinstance(label, Message) else Message(label)
    raise InvalidInput(N_("%(field)s应填“是”或“否”，而不是“%(value)s”。"), field=field, value=raw)
