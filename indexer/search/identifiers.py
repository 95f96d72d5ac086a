"""Numbers and identifiers as users type them: one canonical *key* each.

OCR text and users write the same number many ways: ``KH-202405001`` or
``KH202405001``, ``0755-74317357`` or ``075574317357``, ``510,000.00``,
``伍拾壹万元整``, a date as ``2024年5月12日``, ``2024-05-12``, ``2024.5.12``,
``2024/05/12`` or ``二〇二四年五月十二日``.  This module turns each into one
key (letters and digits only: ``kh202405001``, ``51000000``, ``20240512``) and
the key into overlapping trigrams, so that any 4+ character fragment of it
(the last digits of a phone or ID number, a contract number without its
prefix) is a phrase of those trigrams.  The index side (:func:`text_grams`,
called by :mod:`.analysis`) and the query side (:func:`query_key`, called by
:mod:`.query`) use the same regexes and the same folding, so they agree.

Keys fold the letters OCR confuses with digits (``O``/``0``, ``l``/``I``/``1``,
``S``/``5``, ``B``/``8``, ``Z``/``2``) to the digit, on both sides: a scan read
as ``KH-2O24O5OO1`` is found by ``KH-202405001``.

A resident ID number (GB 11643) whose check digit disagrees with its other
digits was misread; when exactly one single-digit change among digits OCR
commonly confuses makes it valid, that reading is keyed too (never more than
one candidate: with two, which is right cannot be told, so none is invented).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: n-gram length of the key stream; queries need a key of MIN_KEY characters
GRAM = 3
MIN_KEY = 4
#: written between the grams of two keys so no phrase runs from one into the next
#: (a one-letter token is never a trigram)
SEPARATOR = "x"

#: letters OCR reads for digits (after lower-casing), folded to the digit
_CONFUSABLE = str.maketrans("oilzsb", "011258")
#: the reverse, for highlighting a key in the original text
_LOOKALIKE = {"0": "0o", "1": "1il", "2": "2z", "5": "5s", "8": "8b"}

#: what joins the parts of one number or identifier: a connector (optionally
#: spaced), or a space before a digit (``138 1234 5678``, ``KH 202405001``); never a line
#: break, so numbers on two lines never join
_JOIN = r"(?:[ \t]?[-_./·,:()~][ \t]?|[ \t](?=\d))"
_RUN = re.compile(rf"[0-9a-z]+(?:{_JOIN}[0-9a-z]+)*")
_NOT_KEY = re.compile(r"[^0-9a-z]+")

_CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_CN_DIGIT.update({"零": 0, "○": 0, "o": 0, "0": 0})
_DATE_SEP = r"\s?[-./]\s?"
#: a digit in a date written with 年月日, where OCR also reads 1 as ] | l i and 0 as o
_D = r"[\doil|\]]"
_LOOKALIKE_DIGITS = str.maketrans("oil|]", "01111")
_DATE_RES = (
    # 2024年5月12日 / 2024年05月12号 / 2024年5月 / 2024年]月18日 (OCR spacing tolerated)
    re.compile(rf"(?<![\d.])({_D}{{4}})\s?年\s?({_D}{{1,2}})\s?月(?:\s?({_D}{{1,2}})\s?[日号])?"),
    # 2024-05-12 / 2024.5.12 / 2024/05/12 (the same separator twice)
    re.compile(rf"(?<![\d.])(\d{{4}})({_DATE_SEP})(\d{{1,2}})\2(\d{{1,2}})(?![\d])"),
    # 二〇二四年五月十二日
    re.compile(r"([〇零○o一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})月"
               r"(?:([一二三四五六七八九十]{1,3})[日号])?"),
)

_AMOUNT_DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_AMOUNT_DIGITS.update({c: i for i, c in enumerate("〇一二三四五六七八九")})
_AMOUNT_DIGITS.update({"两": 2, "貮": 2, "參": 3})  # variant forms
_AMOUNT_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}
_NUM = "零〇壹贰貮叁參肆伍陆柒捌玖一二三四五六七八九两拾十佰百仟千万萬亿"
_AMOUNT_RE = re.compile(
    rf"([{_NUM}]+)[元圆](?:零?([{_NUM}])角)?(?:零?([{_NUM}])分)?[整正]?"
)


def fold_key(s: str) -> str:
    """Letters and digits only, OCR look-alike letters as digits (``s`` already folded)."""
    return _NOT_KEY.sub("", s).translate(_CONFUSABLE)


def grams(key: str) -> list[str]:
    """Overlapping trigrams of a key (a key shorter than GRAM has none)."""
    return [key[i : i + GRAM] for i in range(len(key) - GRAM + 1)]


def _cn_small(s: str) -> int | None:
    """一 .. 三十一 (month and day numerals)."""
    if s == "十":
        return 10
    if "十" in s:
        hi, _, lo = s.partition("十")
        a = _CN_DIGIT.get(hi, None) if hi else 1
        b = _CN_DIGIT.get(lo, None) if lo else 0
        return None if a is None or b is None else a * 10 + b
    return _CN_DIGIT.get(s) if len(s) == 1 else None


def _date_key(y: str, m: str, d: str | None) -> str | None:
    y, m = y.translate(_LOOKALIKE_DIGITS), m.translate(_LOOKALIKE_DIGITS)
    d = d.translate(_LOOKALIKE_DIGITS) if d else d
    if not y.isdigit():
        y = "".join(str(_CN_DIGIT[c]) for c in y)
        mi, di = _cn_small(m), (_cn_small(d) if d else None)
        if mi is None or (d and di is None):
            return None
    else:
        mi, di = int(m), (int(d) if d else None)
    if not (1900 <= int(y) <= 2099 and 1 <= mi <= 12) or (di is not None and not 1 <= di <= 31):
        return None
    return f"{y}{mi:02d}" + (f"{di:02d}" if di is not None else "")


def _dates(text: str, whole: bool = False) -> Iterator[str]:
    for rx in _DATE_RES:
        matches = [rx.fullmatch(text)] if whole else rx.finditer(text)
        for m in matches:
            if m is None:
                continue
            g = m.groups()
            y, mo, d = (g[0], g[2], g[3]) if len(g) == 4 else g
            k = _date_key(y, mo, d)
            if k:
                yield k


def _cn_int(s: str) -> int | None:
    """A Chinese numeral (capital or common) as an integer: 壹拾肆万壹仟伍佰捌拾 -> 141580."""
    total = section = num = 0
    for ch in s:
        if ch in _AMOUNT_DIGITS:
            num = _AMOUNT_DIGITS[ch]
        elif ch in _AMOUNT_UNITS:
            section += (num or 1) * _AMOUNT_UNITS[ch]
            num = 0
        elif ch in "万萬":
            total += (section + num) * 10_000
            section = num = 0
        elif ch == "亿":
            total = (total + section + num) * 100_000_000
            section = num = 0
        else:
            return None
    return total + section + num


def _amount(m: re.Match[str]) -> tuple[int, int] | None:
    """(yuan, fen) of a written amount, or None if it does not parse."""
    yuan = _cn_int(m[1])
    jiao = _cn_int(m[2]) if m[2] else 0
    fen = _cn_int(m[3]) if m[3] else 0
    if yuan is None or jiao is None or fen is None or jiao > 9 or fen > 9:
        return None
    if yuan == 0 and jiao == 0 and fen == 0:
        return None
    return yuan, jiao * 10 + fen


# ----------------------------------------------------------------- ID numbers

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_SHAPE = re.compile(
    r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dx]"
)
#: digits Tesseract mistakes for one another on scans and faxes
_DIGIT_CONFUSIONS = {
    "0": "869", "1": "74", "2": "7", "3": "85", "4": "1", "5": "63",
    "6": "5805", "7": "12", "8": "3906", "9": "80",
}


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 check character of the first 17 digits."""
    s = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10x98765432"[s % 11]


def id_valid(key: str) -> bool:
    """An 18-character resident ID number with a plausible shape and a matching check digit."""
    return bool(_ID_SHAPE.fullmatch(key)) and id_check_digit(key[:17]) == key[17]


def id_repair(key: str) -> str | None:
    """The one reading of a misread ID number that a single OCR-typical digit confusion
    makes valid, or None (already valid, not ID-shaped, or more than one candidate)."""
    if len(key) != 18 or id_valid(key) or not _ID_SHAPE.fullmatch(key):
        return None
    found: set[str] = set()
    for i, c in enumerate(key):
        for alt in _DIGIT_CONFUSIONS.get(c, "") + ("x" if i == 17 else ""):
            cand = key[:i] + alt + key[i + 1 :]
            if id_valid(cand):
                found.add(cand)
    return found.pop() if len(found) == 1 else None


# ----------------------------------------------------------------- both sides


def text_keys(folded: str) -> list[str]:
    """Keys of every number and identifier in folded text (NFKC, lower-case), in order,
    without repeats: runs of letters and digits with a digit in them, dates, written
    amounts (as yuan and two fen digits: 伍拾壹万元整 -> ``51000000``, as ``510,000.00``)."""
    keys: dict[str, None] = {}
    for m in _RUN.finditer(folded):
        if any(c.isdigit() for c in m.group()):
            k = fold_key(m.group())
            keys[k] = None
            fixed = id_repair(k)
            if fixed:
                keys[fixed] = None
    for k in _dates(folded):
        keys[k] = None
    for m in _AMOUNT_RE.finditer(folded):
        a = _amount(m)
        if a:
            keys[f"{a[0]}{a[1]:02d}"] = None
    return [k for k in keys if len(k) >= GRAM]


def text_grams(folded: str) -> list[str]:
    """The key stream indexed for a text: each key's trigrams, keys separated."""
    out: list[str] = []
    for k in text_keys(folded):
        out.extend(grams(k))
        out.append(SEPARATOR)
    return out


def query_key(word: str) -> tuple[str, str] | None:
    """``(key, kind)`` of one typed word (folded) that is a date, a written amount or a
    number/identifier of MIN_KEY+ characters with a digit; kind is ``date``,
    ``amount`` or ``id``.  An amount without jiao/fen is keyed by its yuan alone, which
    matches both ``510,000`` and ``510,000.00``."""
    word = word.strip()
    for k in _dates(word, whole=True):
        return k, "date"
    m = _AMOUNT_RE.fullmatch(word)
    if m:
        a = _amount(m)
        if a:
            return (f"{a[0]}" + (f"{a[1]:02d}" if a[1] else "")), "amount"
    if _RUN.fullmatch(word) and any(c.isdigit() for c in word):
        k = fold_key(word)
        if len(k) >= MIN_KEY:
            return k, "id"
    return None


def key_pattern(key: str, kind: str) -> str:
    """A regex finding a key in folded text, for highlighting: any connectors between
    its characters, look-alike letters for digits; a date in any of its written forms."""
    if kind == "date" and len(key) in (6, 8):
        parts = [key[:4], key[4:6].lstrip("0")] + ([key[6:].lstrip("0")] if len(key) == 8 else [])
        sep = r"\s?(?:[-./]|[年月])\s?"
        body = sep.join(
            p if i == 0 else f"0?{p}" for i, p in enumerate(parts)
        )
        return body + (r"(?:\s?[日号])?" if len(parts) == 3 else "")
    gap = rf"{_JOIN}?"
    return gap.join(
        f"[{_LOOKALIKE[c]}]" if c in _LOOKALIKE else re.escape(c) for c in key
    )
