"""User-facing messages as an id and parameters, translated only where they are shown.

The id is the Chinese (zh_CN) text with ``%(name)s`` placeholders (the project's Babel
convention); the English, and any further language, is a catalogue under
``web/translations``. Code that raises or stores a message never picks a language: the web
renders it in the user's language, the command line in the operator's. ``N_`` marks an id
for extraction (``pybabel extract -k N_``) and returns it unchanged.

This module sits in the lowest layer because the engines (a corrupt scan, a PDF over the
page limit) already raise messages users read; ``service`` and the interfaces import it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

Gettext = Callable[[str], str]
Param = Union[str, int, float, "Message", "Listing", None]


def N_(msgid: str) -> str:
    """Mark a message id for extraction; translation happens when it is shown."""
    return msgid


def _untranslated(msgid: str) -> str:
    return msgid


#: Separators of a listing, themselves translated ("、" reads ", " in English).
WORDS = N_("、")
CLAUSES = N_("；")
LINES = "\n"


@dataclass(frozen=True)
class Message:
    """A message id and its parameters; ``render`` puts it into one language."""

    id: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def render(self, gettext: Gettext = _untranslated) -> str:
        text = gettext(self.id)
        if not self.params:
            return text
        return text % {k: render(v, gettext) for k, v in self.params.items()}

    def __str__(self) -> str:  # the id's language: for logs, exceptions and tests
        return self.render()

    def __hash__(self) -> int:
        return hash((self.id, json.dumps(to_data(self), sort_keys=True, default=str)))


@dataclass(frozen=True)
class Listing:
    """Several values shown as one parameter or one text, joined by a translated separator."""

    items: Sequence[Param]
    sep: str = WORDS

    def render(self, gettext: Gettext = _untranslated) -> str:
        sep = gettext(self.sep) if self.sep != LINES else LINES
        return sep.join(str(render(v, gettext)) for v in self.items)

    def __str__(self) -> str:
        return self.render()


def msg(msgid: str, **params: Param) -> Message:
    """A message with parameters (the id marked for extraction by the caller with N_)."""
    return Message(msgid, params)


def render(value: Param | Any, gettext: Gettext = _untranslated) -> Any:
    """A message or listing in the language of ``gettext``; any other value as it is (numbers
    stay numbers so ``%(n).1f`` works)."""
    if isinstance(value, Message | Listing):
        return value.render(gettext)
    return value


# ----------------------------------------------------------------- stored messages


def to_data(value: Param) -> Any:
    """A JSON-ready form of a message, a listing or a plain value."""
    if isinstance(value, Message):
        return {"id": value.id, "params": {k: to_data(v) for k, v in value.params.items()}}
    if isinstance(value, Listing):
        return {"items": [to_data(v) for v in value.items], "sep": value.sep}
    return value


def from_data(data: Any) -> Param:
    """The inverse of ``to_data``."""
    if isinstance(data, dict) and "id" in data:
        return Message(str(data["id"]), {k: from_data(v) for k, v in
                                         (data.get("params") or {}).items()})
    if isinstance(data, dict) and "items" in data:
        return Listing(tuple(from_data(v) for v in data["items"]), str(data.get("sep", WORDS)))
    return data


def dumps(value: Message | Listing) -> str:
    """The text stored in a database column for a message shown later."""
    return json.dumps(to_data(value), ensure_ascii=False, sort_keys=True)


def loads(text: str | None) -> Message | Listing | str | None:
    """A stored message back; text stored before messages had ids comes back as it is."""
    if not text or not text.startswith("{"):
        return text
    try:
        value = from_data(json.loads(text))
    except ValueError:
        return text
    return value if isinstance(value, Message | Listing) else text
