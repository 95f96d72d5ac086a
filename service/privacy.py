"""Personal data in OCR text: resident ID numbers and mobile numbers are masked for users
without the right to see them (DESIGN: Privacy).

Masking replaces characters one for one with `*`, so offsets into the text (snippets,
highlight spans, the PDF text layer's glyph positions) stay valid.

Numbers are found the way a reader finds them, not only as unbroken digit runs: digit groups
separated by spaces, dashes, dots or brackets (``138-1234-5678``, ``(138)1234-5678``, ``+86 138 1234 5678``,
``110105 19900307 0017``, OCR spacing ``1 3 8 1 2 3 4 5 6 7 8``), full-width digits, letters
right beside the number (``ID110105…``) and the older 15-digit resident IDs. Only the digits
are replaced; the separators stay where they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from .access import can_see_personal
from .models import User

#: A group of digits (any script's decimal digits, e.g. full-width ０-９); a resident ID's
#: check digit X may follow the digits directly.
_GROUP = re.compile(r"\d+([XxＸｘ])?")
#: What may separate the groups of one number: a few spaces, dashes, dots or brackets
#: (``(138)1234-5678``, ``+86(139)8765 4321``).
_SEPARATOR = re.compile(r"[\s\-‐‑‒–—―－.．·・()（）]{1,3}")
#: 18-digit resident ID: region (6), birth date (8), sequence (3), check digit or X.
_ID18 = re.compile(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]")
#: 15-digit resident ID (issued before 1999): region (6), birth date YYMMDD (6), sequence (3).
_ID15 = re.compile(r"[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}")
#: Mainland mobile number, optionally with the country code 86 / 0086 written into the run.
_MOBILE = re.compile(r"(?:0086|86)?(1[3-9]\d{9})")
#: The longest run of digits that can still be one number (0086 + 11 digits, or 18).
_MAX_DIGITS = 18

def _runs(text: str) -> Iterator[list[list[int]]]:
    """Runs of digit groups joined only by separators; each group is its digits' positions."""
    run: list[list[int]] = []
    last_end = -1
    for m in _GROUP.finditer(text):
        if run and not _SEPARATOR.fullmatch(text, last_end, m.start()):
            yield run
            run = []
        run.append(list(range(m.start(), m.end())))
        last_end = m.end()
        if m[1] is not None:  # a check digit ends the number
            yield run
            run, last_end = [], -1
    if run:
        yield run


def _digit(ch: str) -> str:
    return "X" if ch in "XxＸｘ" else str(unicodedata.decimal(ch))


def _masked_positions(digits: str) -> range | None:
    """Which of these digits to hide, if they are exactly one ID or mobile number."""
    if _ID18.fullmatch(digits) or _ID15.fullmatch(digits):
        return range(3, len(digits) - 4)
    m = _MOBILE.fullmatch(digits.removesuffix("X"))  # `x` after a phone number: an extension
    if m:
        return range(m.start(1) + 3, m.start(1) + 7)
    return None


def mask_personal(text: str) -> str:
    """`110105199003078765` → `110***********8765`, `138-1234-5678` → `138-****-5678`.

    Within a run of digit groups, the longest stretch of whole groups that reads as one
    number is masked; a longer unbroken digit run (an amount, a code) is left alone.
    """
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


def text_for(user: User | None, text: str | None) -> str | None:
    """Page text as this user may read it."""
    if text is None or can_see_personal(user):
        return text
    return mask_personal(text)
