"""The search bench's corpus: archive pages of real Chinese words, made in parallel.

Page text is made from *real* Chinese words.  jieba ships ``dict.txt``, ~349k
words with their frequencies in a large real corpus; words are drawn by those
frequencies (so the vocabulary follows the Zipf law of real text, from
了/是/一个 down to rare idioms), joined into sentences with Chinese punctuation
and wrapped into ~36-character lines like OCR output, 400-800 characters a
page, with contract bits mixed in (parties, people, amounts, dates, phone
numbers, contract numbers such as ``HT-2024-0031``) and, given the samples'
true text, its sentences.

A million pages are made in chunks of pages by a pool of processes (each chunk
seeded by its number, so a corpus is the same whatever the pool's size); a
chunk's words are drawn by numpy in blocks of thousands, not one call per
sentence.  Chunks are gzip members written in order to one cached file in the
temp dir (concatenated members are one gzip stream), so neither making nor
reading the corpus holds more than a few chunks in memory.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import random
import re
import tempfile
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import numpy as np

from indexer.search.analysis import is_cjk
from indexer.search.types import PageDoc
from service.vocab import SECRECY_LEVELS

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅丹萍鹏宇浩凯晨琳雪倩欣怡涵轩诺远博文雨泽佳豪俊嘉瑞"
INDUSTRY = ["钢铁贸易", "建材", "物流", "科技发展", "食品", "纺织", "机械制造", "医药", "软件",
            "投资", "置业", "农业开发", "电子商务", "文化传媒", "餐饮管理", "环保工程", "汽车销售"]
SUFFIX = ["有限公司", "股份有限公司", "集团有限公司", "有限责任公司", "经营部"]
BANKS = ["中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "交通银行", "招商银行"]
DOCTYPES = ["购销合同", "租赁合同", "借款合同", "服务协议", "身份证复印件", "客户登记表", "委托书",
            "补充协议", "收款确认书", "对账单", "授权书", "验收报告"]
DEPARTMENTS = ["销售部", "财务部", "法务部", "行政部", "采购部"]
STATUSES = ["在库", "在库", "在库", "借出", "待归档"]
SECRECY_WEIGHTS = (40, 40, 14, 5, 1)
#: pages a chunk of the corpus (the unit of work of the pool and of the cache file)
CHUNK_PAGES = 5000
#: words drawn per numpy call
WORD_BLOCK = 1 << 16


class Lexicon:
    """jieba's dictionary: real words with real corpus frequencies."""

    def __init__(self) -> None:
        try:
            import jieba
        except ImportError as e:  # pragma: no cover - guidance only
            raise SystemExit("install the bench extra: pip install -e '.[bench]'") from e
        path = Path(jieba.__file__).with_name("dict.txt")
        words: list[str] = []
        freqs: list[int] = []
        tags: list[str] = []
        with path.open(encoding="utf-8") as f:
            for line in f:
                w, n, tag = line.split()
                if all(map(is_cjk, w)):
                    words.append(w)
                    freqs.append(int(n))
                    tags.append(tag)
        self.words = np.array(words, dtype=object)
        fr = np.array(freqs, dtype=np.float64)
        self.cum = np.cumsum(fr / fr.sum())
        self.size = len(words)
        # place names (ns) by frequency, for companies and addresses
        ns = [(f, w) for w, f, t in zip(words, freqs, tags, strict=True) if t == "ns" and 2 <= len(w) <= 4]
        ns.sort(reverse=True)
        self.places = [w for _, w in ns[:400]]
        two = sorted(
            ((f, w) for w, f in zip(words, freqs, strict=True) if len(w) == 2), reverse=True
        )
        self.common_two = [w for _, w in two]

    def draw(self, rng: np.random.Generator, n: int) -> list[str]:
        """``n`` words drawn by corpus frequency."""
        idx = np.searchsorted(self.cum, rng.random(n), side="right")
        return self.words[np.minimum(idx, self.size - 1)].tolist()


def wrap(text: str, width: int) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


class PageGenerator:
    """Pages of archive items: real-word sentences plus contract facts."""

    def __init__(self, lex: Lexicon, truth_sentences: Sequence[str], seed: int = 7) -> None:
        self.lex = lex
        self.rnd = random.Random(seed)
        self.rng = np.random.default_rng(seed)
        self.truth = list(truth_sentences)
        self._words: list[str] = []
        self._at = 0

    def take(self, n: int) -> list[str]:
        """The next ``n`` words of a stream drawn ``WORD_BLOCK`` at a time."""
        if self._at + n > len(self._words):
            self._words = self._words[self._at :] + self.lex.draw(self.rng, max(n, WORD_BLOCK))
            self._at = 0
        out = self._words[self._at : self._at + n]
        self._at += n
        return out

    def person(self) -> str:
        r = self.rnd
        return r.choice(SURNAMES) + "".join(r.choices(GIVEN, k=r.choice((1, 2, 2))))

    def company(self) -> str:
        r = self.rnd
        return r.choice(self.lex.places) + r.choice(INDUSTRY) + r.choice(SUFFIX)

    def date(self, year: int) -> str:
        return f"{year}年{self.rnd.randint(1, 12)}月{self.rnd.randint(1, 28)}日"

    def fact(self, year: int) -> str:
        r = self.rnd
        k = r.randrange(9)
        if k == 0:
            return f"甲方：{self.company()}，法定代表人：{self.person()}。"
        if k == 1:
            return f"乙方：{self.person()}，身份证号码：{r.randint(110000, 659999)}{r.randint(1950, 2005)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{r.randint(0, 9999):04d}。"
        if k == 2:
            return f"合同编号：HT-{year}-{r.randint(1, 9999):04d}，签订日期：{self.date(year)}。"
        if k == 3:
            amt = r.randint(1000, 9_999_999)
            return f"合同金额：人民币{amt:,}.00元，于{self.date(year)}前一次性付清。"
        if k == 4:
            return f"联系人：{self.person()}，联系电话：1{r.choice('3578')}{r.randint(0, 999_999_999):09d}。"
        if k == 5:
            return f"开户银行：{r.choice(BANKS)}{r.choice(self.lex.places)}支行，账号：{r.randint(10**15, 10**16 - 1)}。"
        if k == 6:
            return f"经办人：{self.person()}　审核人：{self.person()}　日期：{self.date(year)}"
        if k == 7:
            return f"地址：{r.choice(self.lex.places)}市{r.choice(self.lex.places)}路{r.randint(1, 999)}号。"
        return f"数量{r.randint(1, 500)}吨，单价{r.randint(100, 9999)}元/吨，总价{r.randint(10_000, 5_000_000)}元。"

    def prose(self, n_chars: int) -> str:
        """Sentences of real words drawn by frequency, with Chinese punctuation."""
        r = self.rnd
        words = self.take(max(8, int(n_chars / 1.6)))
        out: list[str] = []
        size = 0
        i = 0
        while size < n_chars and i < len(words):
            k = r.randint(6, 22)
            sent = words[i : i + k]
            i += k
            if len(sent) > 8 and r.random() < 0.7:
                cut = r.randint(3, len(sent) - 3)
                s = "".join(sent[:cut]) + r.choice("，，，、：") + "".join(sent[cut:])
            else:
                s = "".join(sent)
            s += r.choice("。。。。，；？！")
            out.append(s)
            size += len(s)
        self._at -= max(0, len(words) - i)  # words not used go back to the stream
        return "".join(out)

    def items(self, n_pages: int, first_item: int = 1) -> Iterator[list[PageDoc]]:
        """Yield items (lists of 1-6 pages) numbered from ``first_item`` until ``n_pages``
        pages are made."""
        r = self.rnd
        made = 0
        item = first_item - 1
        while made < n_pages:
            item += 1
            year = r.randint(2005, 2025)
            doctype = r.choice(DOCTYPES)
            cust = self.company()
            code = f"J{r.randint(1, 9):03d}-HT·{year}-D30-XSB-{item:05d}"
            title = f"{cust}{doctype}"
            fields = dict(
                meta_text=f"客户编号 KH-{year}{r.randint(1, 12):02d}{item % 1000:03d} {cust}",
                archival_code=code, title=title, fonds=code[:4], category=r.choice(["HT", "KH", "CW"]),
                year=year, retention=r.choice(["Y", "D30", "D10"]),
                secrecy=r.choices(SECRECY_LEVELS, weights=SECRECY_WEIGHTS)[0], customer=cust,
                box=f"B{year}-{item % 50:02d}", location=f"A库-{item % 9 + 1}架",
                status=r.choice(STATUSES),
                date=f"{year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                owner_id=item % 40, department=r.choice(DEPARTMENTS), fingerprint=f"fp{item}",
            )
            pages = []
            for page_no in range(1, min(r.randint(1, 6), n_pages - made) + 1):
                target = r.randint(400, 800)
                parts = [f"{title}\n合同编号：HT-{year}-{r.randint(1, 9999):04d}\n"] if page_no == 1 else []
                size = sum(map(len, parts))
                while size < target:
                    x = r.random()
                    if x < 0.12:
                        s = self.fact(year)
                    elif x < 0.17 and self.truth:
                        s = r.choice(self.truth)
                    else:
                        s = self.prose(min(target - size, r.randint(60, 240)))
                    parts.append(s)
                    size += len(s)
                text = wrap("".join(parts), 36)
                pages.append(PageDoc(item_id=item, page_no=page_no, text=text, words=[], **fields))
            made += len(pages)
            yield pages


def truth_sentences(samples: Path | None) -> list[str]:
    """The sentences of the samples' true text (none without samples)."""
    if not samples:
        return []
    truth = json.loads((samples / "truth.json").read_text(encoding="utf-8"))
    text = "".join(p.replace("\n", "") for e in truth.values() for p in e["pages"])
    return [s for s in re.findall(r"[^。！？]+[。！？]", text) if sum(map(is_cjk, s)) >= 8]


# ----------------------------------------------------------------- the pool and the cache

@dataclasses.dataclass
class _Worker:
    """What a pool process loads once: the lexicon and the samples' sentences."""

    lex: Lexicon | None = None
    truth: list[str] = dataclasses.field(default_factory=list)


_worker = _Worker()


def _init_worker(truth: Sequence[str]) -> None:
    _worker.lex = Lexicon()
    _worker.truth = list(truth)


def make_chunk(seed: int, k: int, n_pages: int) -> tuple[int, bytes]:
    """Chunk ``k``: ``n_pages`` pages as one gzip member of JSON lines (one item a line),
    items numbered from ``k * CHUNK_PAGES + 1`` (an item never spans two chunks)."""
    if _worker.lex is None:
        _worker.lex = Lexicon()
    gen = PageGenerator(_worker.lex, _worker.truth, seed=seed * 1_000_003 + k)
    lines = [json.dumps([dataclasses.asdict(d) for d in pages], ensure_ascii=False)
             for pages in gen.items(n_pages, first_item=k * CHUNK_PAGES + 1)]
    return n_pages, gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=1)


def corpus_path(n_pages: int, key: str) -> Path:
    """Where a corpus is cached: the temp dir, never the repository."""
    return Path(tempfile.gettempdir()) / f"dangan-search-corpus-v2-{key}-{n_pages}.jsonl.gz"


def build_corpus(path: Path, n_pages: int, seed: int, truth: Sequence[str], workers: int = 2) -> None:
    """Make the corpus into ``path`` with a pool of ``workers`` processes, at most
    ``2 * workers`` chunks in flight (bounded memory), written in chunk order."""
    part = path.with_suffix(".part")
    sizes = [min(CHUNK_PAGES, n_pages - s) for s in range(0, n_pages, CHUNK_PAGES)]
    pending: deque[Future[tuple[int, bytes]]] = deque()
    with (ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(list(truth),)) as ex,
          part.open("wb") as f):
        for k, size in enumerate(sizes):
            pending.append(ex.submit(make_chunk, seed, k, size))
            if len(pending) >= 2 * workers:
                f.write(pending.popleft().result()[1])
        while pending:
            f.write(pending.popleft().result()[1])
    part.rename(path)


def read_corpus(path: Path) -> Iterator[list[PageDoc]]:
    """The cached corpus, streamed: one item (list of pages) at a time."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            yield [PageDoc(**d) for d in json.loads(line)]
