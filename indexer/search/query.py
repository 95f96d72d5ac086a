"""Query parsing into our own AST, and compilation to FTS5 MATCH syntax.

User input never reaches FTS5 (or the Elasticsearch query DSL) as syntax: it
is parsed here into phrases of analysed tokens (which contain only letters,
digits and CJK characters), and the compilers emit every token double-quoted.
So ``NEAR(``, ``*``, ``^``, ``col:``, stray quotes and SQL are just text.

Grammar (deliberately small, like a web search box):

* whitespace-separated words are ANDed;
* ``OR`` (upper case) between two terms makes them alternatives;
* ``-word`` / ``-"a phrase"`` excludes items having a page that contains it;
* ``"quoted text"`` is one phrase (whitespace between CJK characters inside it
  is dropped, as OCR text has none);
* within one word, a Chinese run is a phrase (its characters in order), and
  pieces glued by identifier connectors (``HT-2024-0031``) are one phrase;
  pieces separated by other punctuation (``合同,甲方``) are separate terms.

Matching is per *item* (what users expect of an archive item): an item is a hit
when its pages together contain every positive term (each term, a phrase, on
one page; the item's catalogue text counts as part of every page) and no page
contains an excluded term.  The pages shown for a hit are the ones containing a
positive term, best first.  Both engines compile that rule from the same
pieces: :func:`item_plan` here, FTS5 strings below, bool clauses in
``es_engine``.

OCR tolerance (:func:`relax_query`): when a query finds nothing the user may
see, the engines run it once more with each unquoted Chinese phrase of 5-16
characters relaxed to "the phrase with any one character misread, dropped or
added": for some position, the part before it and the part after it both
occur on the page (``变动时无缝传`` finds a scan read as ``变动时无颖传``:
``变动时无`` and ``传``), for positions leaving a part of 3+ characters.
A number or identifier of 7+ characters typed in a query (its key, see below)
is relaxed the same way, with parts of 3+ characters and one of 5+ (digits are
less telling than Chinese characters; the part is never the last four digits
a masked page shows).  Both compilers emit that OR of ANDs of phrases with
their ordinary phrase logic, so the engines agree; results are flagged ``SearchResult.fuzzy`` and
ranked by bm25, so pages matching the rarer parts come first.  Exact phrase
hits therefore always come first: the tolerant form is only tried when there
are none.  (A bag of bigrams with ``minimum_should_match`` was tried first:
at 100k pages ``楼和人大代表`` then matched every page with ``人大代表``;
lone-character parts are kept for the same reason.)

Numbers and identifiers (:mod:`.identifiers`): a typed word that is a date, a
written amount or a number/identifier of 4+ letters and digits matches its
ordinary phrase *or* its key: a phrase of the key's trigrams in the ``uni``
field, where every number on a page is indexed by its key.  So ``KH202405001``
finds ``KH-202405001``, ``74317357`` finds ``0755-74317357``, ``2024.5.12``
finds ``2024年5月12日`` and ``伍拾壹万元`` finds ``¥510,000.00``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .analysis import Segment, fold, is_cjk, merge_cjk, segment_tokens, segments
from .identifiers import key_pattern, query_key

MAX_QUERY_CHARS = 256
MAX_TERMS = 12
MAX_EXCLUDES = 8
MAX_TOKENS_PER_PHRASE = 32
#: Chinese phrases of this many characters get an OCR-tolerant fallback (a
#: 4-character one would fall back to 3-character parts: 绝密内容 -> 机密内容)
FUZZY_MIN_CHARS = 5
FUZZY_MAX_CHARS = 16
#: ... and each way of splitting one must keep a part of this many characters
FUZZY_MIN_PART = 3
#: keys of this many characters get the fallback; one part must keep KEY_MIN_PART
KEY_FUZZY_MIN = 7
KEY_MIN_PART = 5
#: ... and its two parts must be this close in the key stream (3 trigrams hold a
#: misread character; one more for a character added)
KEY_NEAR = 4

#: characters that glue identifier parts into one phrase (HT-2024-0031, Z109-WS·2011)
_CONNECTORS = set("-_./·")


@dataclass(frozen=True)
class Phrase:
    """A sequence of folded segments that must occur in order."""

    segs: tuple[Segment, ...]
    #: typed in quotes: the user asked for exactly this (never relaxed)
    quoted: bool = False
    #: for a key phrase: the regex marking it in page text (other written forms)
    display: str | None = None

    @property
    def is_key(self) -> bool:
        return len(self.segs) == 1 and self.segs[0].kind == "key"

    @property
    def tokens(self) -> tuple[str, ...]:
        out: list[str] = []
        for s in self.segs:
            out.extend(segment_tokens(s))
        return tuple(out)

    def pattern(self) -> str:
        """Regex finding this phrase in folded page text (for highlighting)."""
        if self.display is not None:
            return self.display
        gap = r"[\W_]*"
        return gap.join(
            gap.join(map(re.escape, s.text)) if s.kind == "cjk" else re.escape(s.text)
            for s in self.segs
        )


@dataclass(frozen=True)
class Fuzzy:
    """The OCR-tolerant form of a Chinese phrase: it matches where the phrase
    occurs with one character misread, dropped or added, i.e. where for some
    position both the part before it and the part after it occur on the page
    (each part a phrase; ``alternatives`` holds the parts per position, for
    the positions that leave a part of FUZZY_MIN_PART characters or more)."""

    phrase: Phrase
    alternatives: tuple[tuple[Phrase, ...], ...]
    #: for a key: two parts must lie within this many tokens of each other, in order
    #: (in the key stream the misread character spoils the 3 trigrams between them)
    near: int | None = None

    def highlight_phrases(self) -> list[Phrase]:
        """The parts, so snippets mark what matched."""
        return list({p: None for alt in self.alternatives for p in alt})


@dataclass(frozen=True)
class AnyOf:
    """Alternatives joined by OR; a single-option AnyOf is a plain term."""

    options: tuple[Phrase | Fuzzy, ...]


@dataclass(frozen=True)
class ParsedQuery:
    must: tuple[AnyOf, ...]
    must_not: tuple[Phrase, ...]

    @property
    def empty(self) -> bool:
        """No positive term: such a query matches nothing (not everything)."""
        return not self.must

    def positive_phrases(self) -> list[Phrase]:
        out: list[Phrase] = []
        for a in self.must:
            for p in a.options:
                out.extend(p.highlight_phrases() if isinstance(p, Fuzzy) else [p])
        return out


def _key_phrase(key: str, kind: str = "id") -> Phrase:
    return Phrase((Segment("key", key, 0),), display=key_pattern(key, kind))


def relax_key(p: Phrase) -> Fuzzy | None:
    """The tolerant form of a 7+ character key: one character misread, dropped or added."""
    key = p.segs[0].text
    if len(key) < KEY_FUZZY_MIN:
        return None
    alts: dict[tuple[Phrase, ...], None] = {}
    for i in range(len(key)):
        parts = [t for t in (key[:i], key[i + 1 :]) if len(t) >= FUZZY_MIN_PART]
        if parts and max(map(len, parts)) >= KEY_MIN_PART:
            alts[tuple(_key_phrase(t) for t in parts)] = None
    return Fuzzy(p, tuple(alts), near=KEY_NEAR) if alts else None


def relax_phrase(p: Phrase) -> Fuzzy | None:
    """The tolerant form of an unquoted 5-16 character Chinese phrase, or of a key."""
    if p.is_key:
        return relax_key(p)
    if p.quoted or len(p.segs) != 1 or p.segs[0].kind != "cjk":
        return None
    text = p.segs[0].text
    if not FUZZY_MIN_CHARS <= len(text) <= FUZZY_MAX_CHARS:
        return None
    alts: dict[tuple[Phrase, ...], None] = {}
    for i in range(len(text)):
        parts = [t for t in (text[:i], text[i + 1 :]) if t]
        # two short parts (大 + 生长, 大厦 + 长城) are on many pages anywhere,
        # not next to each other: keep splits with a part of 3+ characters
        if max(map(len, parts)) >= FUZZY_MIN_PART:
            alts[tuple(Phrase((Segment("cjk", t, 0),)) for t in parts)] = None
    return Fuzzy(p, tuple(alts))


def relax_query(pq: ParsedQuery) -> ParsedQuery | None:
    """``pq`` with every relaxable positive phrase relaxed (exclusions stay
    exact), or None when nothing can be relaxed.  Engines run it only when
    ``pq`` itself found nothing the user may see."""
    changed = False
    groups: list[AnyOf] = []
    for g in pq.must:
        opts: list[Phrase | Fuzzy] = []
        for p in g.options:
            f = relax_phrase(p) if isinstance(p, Phrase) else None
            changed = changed or f is not None
            opts.append(f or p)
        groups.append(AnyOf(tuple(opts)))
    return ParsedQuery(tuple(groups), pq.must_not) if changed else None


@dataclass(frozen=True)
class Clause:
    """One engine-level phrase query: ``tokens`` in order in any of ``fields``;
    the last token may be a prefix (see :func:`phrase_clauses`)."""

    fields: tuple[str, ...]
    tokens: tuple[str, ...]
    prefix_last: bool = False


#: the page text's and the catalogue text's tokens and characters
TEXT_FIELDS = ("bi", "meta")
#: the key trigrams of numbers and identifiers (:mod:`.identifiers`)
UNI_FIELD = ("uni",)


def phrase_clauses(p: Phrase) -> list[Clause]:
    """Plan a phrase as an AND of clauses.

    A lone CJK character is one token: the text fields hold each distinct character
    of a page (:func:`.analysis.field_tokens`).  Inside a longer phrase a lone
    character at the end (``5月`` against the text ``5月签订`` whose tokens are
    ``5 月签 签订``) becomes a prefix of the next bigram; one at the start
    (``号2024`` against ``编号2024``) cannot be expressed as a suffix, so it becomes a
    separate one-character condition.  Elasticsearch's own cjk_bigram has the same
    edge effect.  A key is a phrase of its trigrams in ``uni``.
    """
    segs = list(p.segs)
    if p.is_key:
        return [Clause(UNI_FIELD, tuple(p.tokens[:MAX_TOKENS_PER_PHRASE]))]
    out: list[Clause] = []
    if segs[0].kind == "cjk" and len(segs[0].text) == 1:
        out.append(Clause(TEXT_FIELDS, (segs[0].text,)))
        segs = segs[1:]
        if not segs:
            return out
    prefix_last = len(segs) > 1 and segs[-1].kind == "cjk" and len(segs[-1].text) == 1
    toks: list[str] = []
    for s in segs:
        toks.extend(segment_tokens(s))
    out.append(Clause(TEXT_FIELDS, tuple(toks[:MAX_TOKENS_PER_PHRASE]), prefix_last))
    return out


# ----------------------------------------------------------------- parsing

_QUOTES = {'"', "\u201c", "\u201d", "\u300c", "\u300d"}


def _clean(q: str) -> str:
    q = unicodedata.normalize("NFKC", q or "")
    q = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in q)
    return q[:MAX_QUERY_CHARS]


def _phrase(text: str, quoted: bool = False) -> Phrase | None:
    segs = tuple(segments(fold(text)))
    return Phrase(segs, quoted) if segs else None


def _with_key(word: str, phrase: Phrase | None) -> list[Phrase]:
    """``phrase`` and, when ``word`` is a number, date or identifier, its key phrase."""
    found = query_key(fold(word))
    opts = [phrase] if phrase is not None else []
    if found is not None:
        opts.append(_key_phrase(*found))
    return opts


def _split_word(word: str) -> list[list[Phrase]]:
    """A bare word -> terms, each a list of alternative phrases.  A number, date or
    identifier is one term: its phrase or its key; otherwise punctuation other than
    connectors splits the word."""
    if query_key(fold(word)) is not None:
        return [_with_key(word, _phrase(word))]
    folded = fold(word)
    groups: list[list[Segment]] = []
    prev_end = -1
    for s in segments(folded, join_cjk=False):
        gap = folded[prev_end:s.start] if prev_end >= 0 else None
        if groups and gap is not None and (gap == "" or (len(gap) == 1 and gap in _CONNECTORS)):
            groups[-1].append(s)
        else:
            groups.append([s])
        prev_end = s.start + len(s.text)
    return [[Phrase(tuple(merge_cjk(g)))] for g in groups]


def _join_cjk_spaces(text: str) -> str:
    """Inside quotes, drop whitespace between CJK characters (OCR text has none)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == " " and out and is_cjk(out[-1]):
            j = i
            while j < len(text) and text[j] == " ":
                j += 1
            if j < len(text) and is_cjk(text[j]):
                i = j
                continue
        out.append(c)
        i += 1
    return "".join(out)


def parse_query(q: str) -> ParsedQuery:
    """Parse user input; never raises, whatever the string."""
    text = _clean(q)
    # lex into units: ("or",) | ("term", negated, [[alternative phrases], ...])
    units: list[tuple] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == " ":
            i += 1
            continue
        neg = False
        if c == "-" and i + 1 < n and text[i + 1] != " ":
            neg = True
            i += 1
            c = text[i]
        if c in _QUOTES:
            j = i + 1
            while j < n and text[j] not in _QUOTES:
                j += 1
            body = _join_cjk_spaces(text[i + 1 : j])
            ph = _phrase(body, quoted=True)
            if ph:
                units.append(("term", neg, [[ph]]))
            i = j + 1
            continue
        j = i
        while j < n and text[j] != " " and text[j] not in _QUOTES:
            j += 1
        word = text[i:j]
        i = j
        if word == "OR" and not neg:
            units.append(("or",))
            continue
        if neg:
            alts = _with_key(word, _phrase(word))
            if alts:
                units.append(("term", True, [alts]))
        else:
            phs = _split_word(word)
            if phs:
                units.append(("term", False, phs))

    must: list[list[Phrase]] = []
    must_not: list[Phrase] = []
    pending_or = False
    last_positive = False
    for u in units:
        if u[0] == "or":
            pending_or = last_positive
            continue
        _, neg, phs = u
        if neg:
            must_not.extend(p for alts in phs for p in alts)
            pending_or = last_positive = False
            continue
        if pending_or and must:
            must[-1].extend(phs[0])
            phs = phs[1:]
        must.extend(list(alts) for alts in phs)
        pending_or = False
        last_positive = True

    must = must[:MAX_TERMS]
    return ParsedQuery(
        must=tuple(AnyOf(tuple(dict.fromkeys(g))) for g in must),
        must_not=tuple(dict.fromkeys(must_not[:MAX_EXCLUDES])),
    )


# ----------------------------------------------------------------- FTS5


def _fts_string(tok: str) -> str:
    return '"' + tok.replace('"', '""') + '"'


def _fts_clause(c: Clause) -> str:
    cols = c.fields[0] if len(c.fields) == 1 else "{" + " ".join(c.fields) + "}"
    parts = [_fts_string(t) for t in c.tokens]
    if c.prefix_last:
        parts[-1] += " *"
    return f"{cols} : ({' + '.join(parts)})"


def _fts_fuzzy(f: Fuzzy) -> str:
    """Any alternative, each an AND of its parts (for a key: its two parts NEAR, in the
    key stream of ``uni``)."""
    alts = (
        _fts_near(alt, f.near) if f.near is not None and len(alt) == 2
        else "(" + " AND ".join(_fts_phrase(p) for p in alt) + ")"
        for alt in f.alternatives
    )
    return "(" + " OR ".join(alts) + ")"


def _fts_near(parts: tuple[Phrase, ...], near: int) -> str:
    """Key parts within ``near`` tokens of each other (FTS5 NEAR is unordered; the
    Elasticsearch span_near is in order: a part found after the other is near as well
    only if it sits in the same key, which happens for repeated digits at most)."""
    groups = " ".join(" + ".join(_fts_string(t) for t in p.tokens) for p in parts)
    return f"({UNI_FIELD[0]} : NEAR({groups}, {near}))"


def _fts_phrase(p: Phrase | Fuzzy) -> str:
    if isinstance(p, Fuzzy):
        return _fts_fuzzy(p)
    cl = phrase_clauses(p)
    body = " AND ".join(_fts_clause(c) for c in cl)
    return f"({body})" if len(cl) > 1 else body


@dataclass(frozen=True)
class ItemPlan:
    """The item-level rule as page-level pieces: a page is *shown* when it matches
    ``shown`` (any positive term); its item is a hit when, for each of ``each``, some
    page of the item matches it, and no page matches ``excluded``."""

    shown: AnyOf
    each: tuple[AnyOf, ...]
    excluded: tuple[Phrase, ...]

    @property
    def fuzzy(self) -> bool:
        """Whether this is the OCR-tolerant retry (`relax_query`) of a query."""
        return any(isinstance(o, Fuzzy) for o in self.shown.options)


def item_plan(pq: ParsedQuery) -> ItemPlan:
    if pq.empty:
        raise ValueError("query has no positive term")
    shown = AnyOf(tuple(dict.fromkeys(p for g in pq.must for p in g.options)))
    # one group: a page matching `shown` already satisfies it
    each = pq.must if len(pq.must) > 1 else ()
    return ItemPlan(shown, each, pq.must_not)


def fts5_any(g: AnyOf) -> str:
    """FTS5 MATCH expression for a page matching any option; every token double-quoted."""
    alts = [_fts_phrase(p) for p in g.options]
    return alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")"


def fts5_excluded(phrases: tuple[Phrase, ...]) -> str | None:
    """FTS5 MATCH expression for a page containing any excluded phrase."""
    return fts5_any(AnyOf(phrases)) if phrases else None
