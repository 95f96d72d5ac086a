"""Normalise OCR and text-layer output for indexing and display.

Tesseract (and every OCR'd PDF text layer) puts spaces between Chinese
characters; left in, they break phrase search and look wrong. Latin text keeps
its single spaces. NFKC folds full-width letters, digits and punctuation so
that "ＶＩＰ" and "VIP", "，" and "," match.
"""

from __future__ import annotations

import re
import unicodedata

# Han ideographs (basic, ext A, compatibility, ext B+), 〇, kana (rare, but same rules).
_CJK = "\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# CJK symbols/punctuation, full-width forms left after NFKC, general punctuation
# (“”‘’—…·), and ASCII punctuation (NFKC turns ，：（） into , : ( )).
_PUNCT = "\u3000-\u303f\uff00-\uffef\u00b7\u2010-\u2027\u2030-\u205e!-/:-@\\[-`{-~"
_ALNUM = "0-9A-Za-z"

_SPACES = r"[ \t\u00a0\u2000-\u200b\u202f\u205f]+"
_AFTER_CJK = re.compile(rf"(?<=[{_CJK}]){_SPACES}(?=[{_CJK}{_PUNCT}{_ALNUM}])")
_BEFORE_CJK = re.compile(rf"(?<=[{_CJK}{_PUNCT}{_ALNUM}]){_SPACES}(?=[{_CJK}])")
# Spaces between CJK punctuation proper (、。《》“” …) and anything non-space.
_CJK_PUNCT = "\u3001-\u303f\u2018-\u201f\u2026\u00b7"
_AROUND_CJK_PUNCT = re.compile(
    rf"(?<=[{_CJK_PUNCT}]){_SPACES}(?=\S)|(?<=\S){_SPACES}(?=[{_CJK_PUNCT}])"
)
_RUN = re.compile(_SPACES)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_cjk(ch: str) -> bool:
    """True for a Han ideograph (or kana); used when joining OCR words."""
    return bool(re.fullmatch(f"[{_CJK}]", ch))


def normalize_line(line: str) -> str:
    """Normalise one line (already NFKC): drop spaces around CJK, single-space the rest."""
    line = _AFTER_CJK.sub("", line)
    line = _BEFORE_CJK.sub("", line)
    line = _AROUND_CJK_PUNCT.sub("", line)
    return _RUN.sub(" ", line).strip()


def normalize_text(s: str) -> str:
    """NFKC, remove spaces between CJK (and CJK punctuation), strip lines, collapse blank runs."""
    if not s:
        return ""
    s = unicodedata.normalize("NFKC", s)
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _CONTROL.sub("\n", s)  # form feeds between Tesseract pages become line breaks
    out: list[str] = []
    blank = False
    for raw in s.split("\n"):
        line = normalize_line(raw)
        if not line:
            blank = bool(out)
            continue
        if blank:
            out.append("")
            blank = False
        out.append(line)
    return "\n".join(out)
