"""Text analysis shared by both engines.

Both engines index the token strings made here (SQLite with the plain
``unicode61`` tokenizer, Elasticsearch with the ``whitespace`` tokenizer), so
the two can never disagree about what matches.  The rules follow
Elasticsearch's ``cjk_width`` + ``lowercase`` + ``cjk_bigram``:

* NFKC folding (full-width ``ＨＴ－２０２４`` -> ``ht-2024``) and lower-case;
* a run of CJK characters (punctuation and whitespace between CJK characters
  do not break a run) -> overlapping bigrams (a lone character -> itself);
* Latin words and numbers -> one token each.  Identifiers such as
  ``HT-2024-0031`` become the adjacent tokens ``ht 2024 0031``: the parts are
  findable on their own and the whole identifier is a phrase of its parts;
* after those, a separator token and one token per *distinct* CJK character of the
  text (:func:`char_tokens`), so a one-character query finds words containing it;
* the ``uni`` field holds the trigrams of every number and identifier's key
  (:mod:`.identifiers`), so fragments of them and their other written forms (dates,
  amounts, without hyphens) match.

Size (measured with ``bench/search_bench.py``): the characters were once a field of
their own with one token per occurrence, which made the index 3.75x the text at 100k
pages.  A one-character query only asks whether a page holds the character, so one
token per distinct character does; and in FTS5 every token of a column other than
the first costs a column marker, so the characters share the first column with the
bigrams, behind a separator no query can contain.  What is given up: bm25 of a
one-character query sees the character once a page however often it occurs, so such a
query ranks catalogue matches first, then shorter pages (how often one character occurs
says little about relevance; a query on more than a few thousand pages lists by date).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from .identifiers import grams, text_grams

#: Bump when the token rules (or the rowid layout of :mod:`.fts_rows`) change: the SQLite
#: index is then rebuilt on upgrade (``sqlite_engine.retokenize``), because contentless FTS5
#: rows are deleted by re-analysing their text; an Elasticsearch index asks for
#: ``dangan reindex --full``.  4: distinct characters behind CHAR_SEPARATOR in bi/meta.
ANALYZER_VERSION = 4

#: written between a field's positional tokens and its characters: a private-use
#: character, a token to FTS5's unicode61 and to a whitespace tokenizer, but never part
#: of a query (queries keep letters, digits and CJK only), so no phrase runs from the
#: text's last tokens into its characters
CHAR_SEPARATOR = "\ue000"


def is_cjk(ch: str) -> bool:
    """Han, kana and hangul: the scripts cjk_bigram pairs up."""
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3134F
        or 0x3040 <= o <= 0x30FF
        or 0xAC00 <= o <= 0xD7AF
        or o == 0x3005  # 々
    )


def fold(text: str) -> str:
    """NFKC + lower-case, the one normalisation applied to text and queries."""
    return unicodedata.normalize("NFKC", text).lower()


#: characters seen so far -> their folded form (only those that change), and
#: the characters folding to more than one character; grown as text is seen
_FOLD_TABLE: dict[int, str] = {}
_FOLD_KNOWN: set[str] = set()
_FOLD_GROWS: set[str] = set()


def _learn(chars: set[str]) -> None:
    for ch in chars:
        f = ch.lower() if ch.isascii() else unicodedata.normalize("NFKC", ch).lower()
        if f != ch:
            _FOLD_TABLE[ord(ch)] = f
            if len(f) != 1:
                _FOLD_GROWS.add(ch)
    if len(_FOLD_KNOWN) < 200_000:  # bounded: new characters are just refolded
        _FOLD_KNOWN.update(chars)


def fold_with_map(text: str) -> tuple[str, Sequence[int]]:
    """Fold ``text`` character by character, returning the folded string and,
    for each folded character, the index of the original character it came
    from; highlighting needs this to mark the original text."""
    if unicodedata.is_normalized("NFKC", text):
        low = text.lower()
        if len(low) == len(text):  # the common case: identity map, no loop
            return low, range(len(text))
    # OCR text is full of full-width punctuation (，：；) that NFKC changes:
    # fold each character once per process and translate the string in C
    chars = set(text)
    new = chars - _FOLD_KNOWN
    if new:
        _learn(new)
    if _FOLD_GROWS.isdisjoint(chars):
        return text.translate(_FOLD_TABLE), range(len(text))
    out: list[str] = []
    idx: list[int] = []
    for i, ch in enumerate(text):
        f = _FOLD_TABLE.get(ord(ch), ch)
        out.append(f)
        idx.extend([i] * len(f))
    return "".join(out), idx


@dataclass(frozen=True)
class Segment:
    """A maximal run of one kind in folded text: ``cjk`` or ``word``; or ``key``, the
    canonical key of a number or identifier typed in a query (:mod:`.identifiers`)."""

    kind: str
    text: str
    start: int


_CJK_CLASS = (
    "[\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f]"
)
_SEG_RE = re.compile(rf"(?P<cjk>{_CJK_CLASS}+)|(?P<word>(?:(?!{_CJK_CLASS})[^\W_])+)")


def segments(folded: str, join_cjk: bool = True) -> Iterator[Segment]:
    """Split already-folded text into CJK runs and Latin/number words.

    With ``join_cjk`` (the indexing rule) CJK runs separated only by
    punctuation or whitespace are joined: OCR misreads and drops punctuation,
    wraps lines mid-word, and users paste phrases without it, so
    ``场景中，客户信息`` must match the query ``景中客户信``.
    """
    raw = (
        Segment("cjk" if m.lastgroup == "cjk" else "word", m.group(), m.start())
        for m in _SEG_RE.finditer(folded)
    )
    if not join_cjk:
        yield from raw
        return
    yield from merge_cjk(raw)


def merge_cjk(segs: Iterable[Segment]) -> Iterator[Segment]:
    """Join consecutive CJK segments (whatever non-word text lay between)."""
    prev: Segment | None = None
    for s in segs:
        if prev is not None and prev.kind == "cjk" and s.kind == "cjk":
            prev = Segment("cjk", prev.text + s.text, prev.start)
            continue
        if prev is not None:
            yield prev
        prev = s
    if prev is not None:
        yield prev


def segment_tokens(seg: Segment) -> list[str]:
    if seg.kind == "key":  # a number's key (see .identifiers), matched by its trigrams
        return grams(seg.text)
    if seg.kind == "word":
        return [seg.text]
    t = seg.text
    if len(t) == 1:
        return [t]
    return [t[i : i + 2] for i in range(len(t) - 1)]


def bigram_tokens(text: str, folded: bool = False) -> list[str]:
    """Positional token stream for the ``bi``/``meta`` fields (``folded``: already folded)."""
    out: list[str] = []
    for seg in segments(text if folded else fold(text)):
        out.extend(segment_tokens(seg))
    return out


def char_tokens(text: str, folded: bool = False) -> list[str]:
    """One token per *distinct* CJK character, in order of first occurrence (for
    one-character queries).  The order is fixed by the text, so re-analysing a page for
    FTS5's 'delete' gives exactly the tokens that were inserted."""
    return list(dict.fromkeys(ch for ch in (text if folded else fold(text)) if is_cjk(ch)))


def field_tokens(folded: str) -> list[str]:
    """The ``bi``/``meta`` stream of folded text: bigrams and words, then, behind
    CHAR_SEPARATOR, its distinct characters."""
    chars = char_tokens(folded, folded=True)
    toks = bigram_tokens(folded, folded=True)
    return [*toks, CHAR_SEPARATOR, *chars] if chars else toks


def index_fields(text: str, meta_text: str) -> tuple[str, str, str]:
    """(bi, uni, meta) strings to index for one page: the page text's and the catalogue
    text's tokens and characters, and in ``uni`` the key trigrams of both's numbers."""
    t, m = fold(text), fold(meta_text)
    return (
        " ".join(field_tokens(t)),
        " ".join(text_grams(t) + text_grams(m)),
        " ".join(field_tokens(m)),
    )
