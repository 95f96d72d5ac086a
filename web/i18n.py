"""Translations: the catalogues compiled at start-up, and messages rendered in a language.

Imported by the web and the command line; needs no Flask application.
"""

from __future__ import annotations

import functools
import gettext
import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from indexer.messages import Listing, Message, loads

TRANSLATIONS = Path(__file__).parent / "translations"
log = logging.getLogger("dangan.web")


def compile_translations(root: Path = TRANSLATIONS) -> list[Path]:
    """Write messages.mo beside every messages.po that is newer; returns what was written."""
    written = []
    for po in root.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with open(po, "rb") as fh:
                catalog = read_po(fh, locale=po.parent.parent.name)
            tmp = mo.with_suffix(".mo.tmp")
            with open(tmp, "wb") as fh:
                write_mo(fh, catalog)
            tmp.replace(mo)
            written.append(mo)
        except OSError as exc:  # a read-only install: run with the shipped catalogue
            log.warning("cannot compile %s: %s", po, exc)
    return written


#: The languages a message can be shown in; the first is the message ids' own.
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of ``language`` outside a request (the command line, the worker); a
    language without a catalogue (zh_CN, whose texts are the ids) shows the ids."""
    compile_translations()
    return Translations.load(str(TRANSLATIONS), [language])


def render(value: Message | Listing | str | None, language: str) -> str:
    """A message (or a stored one, see ``indexer.messages.loads``) in ``language``."""
    if isinstance(value, str):
        value = loads(value)
    if value is None:
        return ""
    if isinstance(value, str):  # stored before messages had ids: shown as it was stored
        return value
    return value.render(translations(language).gettext)


#: The language shown after the Chinese where both are given (the API, the command line).
SECOND_LANGUAGE = "en"
_FULL_STOP = ("。", "！", "？", "）", "”")


def bilingual(value: Message | Listing | str | None, second: str = SECOND_LANGUAGE) -> str:
    """Chinese, then ``second``, "中文。/ English.", line by line: what the command line
    prints and the API answers, because archivists read the Chinese while operators grep
    logs and scripts in English. Both halves come from the catalogues."""
    zh, other = render(value, DEFAULT_LANGUAGE), render(value, second)
    zh_lines, other_lines = zh.split("\n"), other.split("\n")
    if len(zh_lines) != len(other_lines):
        zh_lines, other_lines = [zh], [other]
    return "\n".join(a if a == b else a + ("/ " if a.endswith(_FULL_STOP) else " / ") + b
                     for a, b in zip(zh_lines, other_lines, strict=True))
