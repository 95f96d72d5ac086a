"""Personal data in OCR text: resident ID numbers and mobile numbers are masked for users
without the privacy right (DESIGN: Privacy; who has it: service.access.can_see_personal).

Masking replaces characters one for one with `*`, so offsets into the text (snippets,
highlight spans, the PDF text layer's glyph positions, the word boxes drawn over on the page
images by service.page_render) stay valid.

What counts as such a number:

- an 18-character resident ID (GB 11643) whose birth date is a real date and whose check
  character agrees with its other digits (ISO 7064 MOD 11-2), or which a single digit
  confusion typical of OCR makes valid (exactly the reading the search index keys, see
  indexer.search.identifiers.id_repair: a number the index finds is never left readable);
- a 15-digit resident ID of before 1999 whose YYMMDD is a real date;
- a mainland mobile number (``1[3-9]`` and nine digits, ``86``/``0086`` optional).

Numbers are found the way a reader finds them, not only as unbroken digit runs: digit groups
joined by a few spaces, line breaks, dashes, dots or brackets (``138-1234-5678``,
``(138)1234-5678``, ``110105 19900307\\n0017``, OCR spacing ``1 3 8 1 2 3 4 5 6 7 8``),
full-width digits, and the letters OCR reads for digits (``O``/``o``/``〇`` for 0, ``I``/``l``/
``|`` for 1, ``Z`` for 2, ``S`` for 5, ``B`` for 8) when they stand in a group with real digits;
a group of letters alone (a word) never counts. Letters right beside a number (``ID110105…``,
``Tel138…``) may be dropped from its ends. A number is made of whole groups: a longer run
(an amount, a contract number, a 20-digit code) is left alone. Only the number's characters
are replaced; the separators stay where they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from indexer.search.identifiers import id_repair, id_valid

from .access import Who, can_see_personal
from .models import ArchiveItem, ChangeRequest, DestructionRecord, ItemChange
from .twoset import PaperSide
from .vocab import PageStatus

#: Letters OCR reads for digits (after NFKC), as the search index folds them, and a few more.
_LOOKALIKE = {"O": "0", "o": "0", "〇": "0", "I": "1", "l": "1", "i": "1", "|": "1",
              "Z": "2", "z": "2", "S": "5", "s": "5", "B": "8", "b": "8"}
#: A resident ID's check character 10 (OCR also reads the multiplication sign).
_CHECK_X = frozenset("Xx×")
#: What may separate the groups of one number: a few spaces or line breaks, dashes, dots or
#: brackets (``(138)1234-5678``, ``+86(139)8765 4321``, a number broken over two lines).
_SEPARATOR = re.compile(r"[\s\-‐‑‒–—―－.．·・()（）]{1,4}")
#: Mainland mobile number, optionally with the country code 86 / 0086 written into the run.
_MOBILE = re.compile(r"(?:0086|86)?(1[3-9]\d{9})")
_ID18_SHAPE = re.compile(r"[1-9]\d{16}[\dX]")
_ID15_SHAPE = re.compile(r"[1-9]\d{14}")
#: The longest run of characters that can still be one number (0086 + 11 digits, or 18).
_MAX_DIGITS = 18


def _value(ch: str) -> tuple[str, bool] | None:
    """(digit, is a real digit) of a character that may be part of a number, else None."""
    if "\u4e00" <= ch <= "\u9fff":
        return None  # the common case in Chinese text: an ideograph
    d = unicodedata.decimal(ch, None)
    if d is not None:
        return str(d), True
    folded = unicodedata.normalize("NFKC", ch)
    if folded in _CHECK_X:
        return "X", False
    if folded in _LOOKALIKE:
        return _LOOKALIKE[folded], False
    return None


@dataclass
class _Group:
    """Characters of one number-like group: positions, values, and how many letters stand
    at its start (`lead`) and end (`trail`) that may be left out of a number."""

    positions: list[int]
    values: list[str]
    lead: int
    trail: int


def _group(text: str, start: int, end: int) -> _Group | None:
    positions, values, real = [], [], []
    for p in range(start, end):
        v = _value(text[p])
        assert v is not None
        positions.append(p)
        values.append(v[0])
        real.append(v[1])
    if not any(real):
        return None  # letters only: a word, never part of a number
    lead = real.index(True)
    trail = real[::-1].index(True)
    return _Group(positions, values, lead, trail)


def _groups(text: str) -> Iterator[tuple[int, int]]:
    """Spans of maximal runs of characters that may belong to a number (an X ends one)."""
    i, n = 0, len(text)
    while i < n:
        if _value(text[i]) is None:
            i += 1
            continue
        j = i
        while j < n and _value(text[j]) is not None:
            j += 1
            if unicodedata.normalize("NFKC", text[j - 1]) in _CHECK_X:
                break  # a check character ends the number (an extension may follow)
        yield i, j
        i = j


_POINT = re.compile(r"[.．]")


def _without_decimals(run: list[_Group], point: bool) -> Iterator[list[_Group]]:
    """A run whose last group is one or two digits after a point ends in an amount's
    decimals (``130000000.00``): those are no part of a number."""
    if point and len(run) > 1 and len(run[-1].positions) <= 2:
        yield run[:-1]
    else:
        yield run


def _runs(text: str) -> Iterator[list[_Group]]:
    """Runs of digit groups joined only by separators."""
    run: list[_Group] = []
    last_end = -1
    point = False  # a decimal point before the run's last group
    for start, end in _groups(text):
        g = _group(text, start, end)
        if run and (g is None or not _SEPARATOR.fullmatch(text, last_end, start)):
            yield from _without_decimals(run, point)
            run = []
        if g is not None:
            point = bool(run) and _POINT.search(text, last_end, start) is not None
            run.append(g)
            last_end = end
    if run:
        yield from _without_decimals(run, point)


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def is_resident_id(digits: str) -> bool:
    """An 18-character ID with a real birth date and a valid (or OCR-repairable) check
    character, or a 15-digit one with a real YYMMDD."""
    if _ID18_SHAPE.fullmatch(digits):
        if not _real_date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14])):
            return False
        if not 1900 <= int(digits[6:10]) <= 2099:
            return False
        key = digits.lower()
        return id_valid(key) or id_repair(key) is not None
    if _ID15_SHAPE.fullmatch(digits):
        return _real_date(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))
    return False


def _masked_positions(digits: str) -> range | None:
    """Which of these characters to hide, if they are exactly one ID or mobile number."""
    if is_resident_id(digits):
        return range(3, len(digits) - 4)
    m = _MOBILE.fullmatch(digits)
    if m:
        return range(m.start(1) + 3, m.start(1) + 7)
    return None


def _candidates(run: list[_Group], i: int, j: int) -> Iterator[tuple[list[int], str]]:
    """Groups i..j as one number: the first may drop its leading letters, the last its
    trailing ones (``ID110105…``, ``…5678x``)."""
    first, last = run[i], run[j]
    for cut_lead in range(first.lead + 1):
        for cut_trail in range(last.trail + 1):
            positions: list[int] = []
            values: list[str] = []
            for k in range(i, j + 1):
                g = run[k]
                lo = cut_lead if k == i else 0
                hi = len(g.positions) - (cut_trail if k == j else 0)
                if lo >= hi:
                    break
                positions += g.positions[lo:hi]
                values += g.values[lo:hi]
            else:
                if len(positions) <= _MAX_DIGITS:
                    yield positions, "".join(values)


def personal_spans(text: str) -> list[int]:
    """Positions of the characters of `text` that masking hides, in order."""
    hidden: list[int] = []
    for run in _runs(text):
        i = 0
        while i < len(run):
            found: tuple[int, list[int]] | None = None
            size = 0
            for j in range(i, len(run)):
                size += len(run[j].positions) - (run[j].lead if j == i else 0)
                if size - run[j].trail > _MAX_DIGITS:
                    break  # even without its letters the stretch is longer than a number
                for positions, digits in _candidates(run, i, j):
                    hide = _masked_positions(digits)
                    if hide is not None:
                        found = (j, [positions[k] for k in hide])
                        break
            if found is None:
                i += 1
                continue
            hidden += found[1]
            i = found[0] + 1
    return hidden


def mask_personal(text: str) -> str:
    """`110105199003070017` → `110***********0017`, `138-1234-5678` → `138-****-5678`.

    Within a run of digit groups, the longest stretch of whole groups that reads as one
    number is masked; a longer unbroken digit run (an amount, a code) is left alone.
    """
    hidden = personal_spans(text)
    if not hidden:
        return text
    out = list(text)
    for p in hidden:
        out[p] = "*"
    return "".join(out)


def holds_personal(text: str | None) -> bool:
    """Whether masking would hide anything in `text`."""
    return bool(text) and bool(personal_spans(text or ""))


def masked_words(words: list[dict]) -> list[dict]:
    """OCR words as users without the privacy right read them: masked as one text (a space
    between words, so a number split over several words is found whole), one character for
    one, so each word keeps its length and its box."""
    texts = [str(w.get("t", "")) for w in words]
    joined = " ".join(texts)
    masked = mask_personal(joined)
    if masked == joined:
        return words
    out, pos = [], 0
    for w, t in zip(words, texts, strict=True):
        out.append({**w, "t": masked[pos:pos + len(t)]})
        pos += len(t) + 1
    return out


def item_personal_data(item: ArchiveItem) -> str:
    """Whether an item's pages show personal data: "found", "none", or "unknown" while a
    page is not read (pending, failed): what access.require_unmasked_copy decides on."""
    if any(holds_personal(p.text) for p in item.pages if p.status == PageStatus.DONE):
        return "found"
    if any(p.status != PageStatus.DONE for p in item.pages):
        return "unknown"
    return "none"


def sees_personal(who: Who) -> bool:
    """Whether `who` reads ID and mobile numbers as they are: the privacy right
    (access.can_see_personal); a plain None is the operator at the command line, who keeps
    the archive's holdings (a `Reader` of nobody is an anonymous visitor: masked)."""
    return who is None or can_see_personal(who)


def text_for(who: Who, text: str | None) -> str | None:
    """The one rule for every text that reaches a reader, page text and catalogue fields
    alike: as it is for who has the privacy right (`sees_personal`), masked for the others."""
    if text is None or sees_personal(who):
        return text
    return mask_personal(text)


#: The catalogue fields people type, where an ID or mobile number may stand (a contact's
#: mobile in a title, the ID number a 文号 or 责任者 carries, remarks): read, like page text,
#: through `text_for`. By the class of the row that carries them, so that whatever shows
#: such a row to a reader (a page's template: web.app.ReaderEnvironment; a read model, a
#: report) applies one rule. A change's ``changes`` (field -> [previous, new]) carries them
#: too.
PERSONAL_FIELDS: dict[type, frozenset[str]] = {
    ArchiveItem: frozenset({"title", "doc_number", "responsible", "remarks", "paper_remarks"}),
    PaperSide: frozenset({"remarks"}),
    DestructionRecord: frozenset({"title"}),
    ItemChange: frozenset({"changes"}),
    ChangeRequest: frozenset({"changes"}),
}
#: The item's personal catalogue fields, by name (as edits and change requests name them).
ITEM_FIELDS = PERSONAL_FIELDS[ArchiveItem]


def personal_field(row: object, name: str) -> bool:
    """Whether `row.name` is one of its class's personal catalogue fields."""
    return name in PERSONAL_FIELDS.get(type(row), ())


def value_for(who: Who, value: Any) -> Any:
    """A personal catalogue field's value as `who` may read it: a text through `text_for`,
    a change's fields (field -> [previous, new]) through `fields_for`."""
    if isinstance(value, str):
        return text_for(who, value)
    if isinstance(value, Mapping):
        return fields_for(who, value)
    return value


def title_for(who: Who, item: ArchiveItem | str) -> str:
    """An item's title (or a title as a list shows it: access.listed_title) as `who` may
    read it."""
    return text_for(who, item if isinstance(item, str) else item.title) or ""


def fields_for(who: Who, values: Mapping[str, Any]) -> dict[str, Any]:
    """Catalogue values by field name (an edit form's, a change's ``[previous, new]``) as
    `who` may read them: the item's personal fields through `text_for`."""
    if sees_personal(who):
        return dict(values)

    def shown(v: Any) -> Any:
        if isinstance(v, list):
            return [shown(x) for x in v]
        return text_for(who, v) if isinstance(v, str) else v

    return {k: shown(v) if k in ITEM_FIELDS else v for k, v in values.items()}


def _in_number(ch: str) -> bool:
    """A character that may stand in a number as `personal_spans` reads it: a digit, a
    letter OCR reads for one, or a separator between its groups."""
    return _value(ch) is not None or _SEPARATOR.fullmatch(ch) is not None


def _numbers(text: str) -> list[tuple[int, int]]:
    """Spans of `text` that masking changes, each widened to the whole stretch of digits
    and separators around it (the digits masking leaves readable included)."""
    spans: list[tuple[int, int]] = []
    for p in personal_spans(text):
        if spans and p < spans[-1][1]:
            continue
        start, end = p, p + 1
        while start > 0 and _in_number(text[start - 1]):
            start -= 1
        while end < len(text) and _in_number(text[end]):
            end += 1
        spans.append((start, end))
    return spans


def written_back(who: Who, value: Any, current: Any) -> Any:
    """A catalogue value sent back (an edit form, an imported sheet) by a user who was shown
    `current` masked: each masked number still standing in it gets its digits back, so the
    asterisks are never written over the real number; a value read back untouched is
    `current` itself (unchanged). For who reads numbers unmasked, `value` as it is."""
    if not isinstance(value, str) or not isinstance(current, str) or sees_personal(who):
        return value
    masked = mask_personal(current)
    if value == masked:
        return current
    for start, end in _numbers(current):
        shown, real = masked[start:end].strip(), current[start:end].strip()
        if shown and shown != real:
            value = value.replace(shown, real)
    return value
