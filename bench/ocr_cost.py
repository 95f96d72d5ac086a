"""What the whole pipeline costs per page against plain Tesseract, and how much better it reads.

    python bench/ocr_cost.py [--clean DIR] [--hard DIR] [--only NAME ...]

DIR holds scans and a truth.json as bench/ocr_bench.py reads them. For every sample file,
interleaved in one run on the same pages:

* plain: ``tesseract PAGE.png - -l chi_sim+eng`` (OMP_THREAD_LIMIT=1) on each page as a
  300-dpi reader would hand it over (the render is not counted), its child-process CPU;
* ours: the file registered in an embedded archive (SQLite catalogue, local store, FTS5)
  whose queue runs in this process, so one call pays everything an upload costs the
  machine: registration (hashing, storing, counting pages, the catalogue rows), every page
  task (decoding, the adaptive reader, word boxes, the page's PDF, WebP view and
  thumbnail), the item's searchable PDF and its search entries. CPU of this process and
  its children.

Steady state: a warm-up item (not counted) pays the imports, the database set-up and
loading the engine, as a worker that has run for a while has. Clock time is not used: the
machine is shared, CPU time is what a page costs. CER as bench/ocr_bench.py measures it.

Prints per set (clean, hard) and per kind: CER of both and their ratio, CPU seconds per
page of both and their ratio; then whether the targets hold: on clean pages CPU at most
0.9× plain and CER at most 0.5× plain.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocr_bench import cer, child_cpu, cpu, locate, plain_pages, plain_text  # noqa: E402

TARGET_CPU = 0.9
TARGET_CER = 0.5
SHARED = Path(__file__).resolve().parents[2] / "shared"


@dataclass
class Row:
    name: str
    kind: str
    pages: int
    truth_len: int
    plain_edits: int
    ours_edits: int
    plain_cpu: float
    ours_cpu: float


def _archive(data: Path):  # noqa: ANN202 - service types are imported late (after the env)
    """An initialised embedded archive in ``data`` whose queue runs tasks in this process."""
    os.environ.update({"DANGAN_DATA": str(data), "DANGAN_QUEUE_URL": "immediate",
                       "OMP_THREAD_LIMIT": "1"})
    for key in ("DANGAN_DATABASE_URL", "DANGAN_STORAGE_URL", "DANGAN_SEARCH_URL"):
        os.environ.pop(key, None)
    from service.archive import Archive
    from service.setup import init_archive

    arch = Archive()
    init_archive(arch, admin_password="bench-password")
    return arch


def _register(archive, path: Path, title: str) -> list[str]:  # noqa: ANN001
    """Register ``path`` as one item (its pages are read at once) and return their texts."""
    from sqlalchemy import select

    from service.ingest import IngestRequest, ingest
    from service.models import Page

    result = ingest(archive, IngestRequest(files=[path], fonds="J001", category="HT",
                                           year=2024, retention="D30", secrecy="内部",
                                           title=title))
    with archive.session() as s:
        return [p.text or "" for p in s.scalars(
            select(Page).where(Page.item_id == result.id).order_by(Page.n))]


def measure(sets: list[tuple[str, Path]], only: list[str] | None) -> list[tuple[str, Row]]:
    rows: list[tuple[str, Row]] = []
    with tempfile.TemporaryDirectory(prefix="ocr-cost-") as d:
        tmp = Path(d)
        jobs = []
        for label, samples in sets:
            truth = json.loads((samples / "truth.json").read_text(encoding="utf-8"))
            for name, entry in sorted(truth.items()):
                kind = entry.get("kind", "clean")
                if only and name not in only and kind not in only:
                    continue
                jobs.append((label, samples, name, kind, entry["pages"],
                             plain_pages(samples, name, tmp)))
        if not jobs:
            return rows
        archive = _archive(tmp / "archive")
        # Warm-up (not counted): imports, catalogue set-up, the engine loaded, decoders of
        # every format the samples use.
        from PIL import Image

        from indexer.document import open_document

        warm = tmp / "warm-up.jpg"  # never the bytes of a sample (that upload would be refused)
        with Image.open(jobs[0][5][0]) as first:
            first.convert("RGB").save(warm, quality=90, dpi=first.info.get("dpi", (300, 300)))
        _register(archive, warm, "warm-up")
        for _, samples, name, *_rest in jobs:
            with open_document(locate(samples, name)) as doc:
                doc.page_image(1, dpi=72)
        print(f"{'file':<14}{'set':<7}{'kind':<10}{'pages':>6}{'plain CER':>10}{'ours CER':>10}"
              f"{'plain s/p':>10}{'ours s/p':>10}")
        for i, (label, samples, name, kind, texts, pngs) in enumerate(jobs):
            src = tmp / f"upload-{i}{Path(name).suffix}"
            shutil.copy(locate(samples, name), src)
            plain_out: list[str] = []

            def plain(pngs: list[Path] = pngs, out: list[str] = plain_out) -> float:
                c0 = child_cpu()
                out.extend(plain_text(str(p)) for p in pngs)
                return child_cpu() - c0

            def ours(src: Path = src, title: str = name) -> tuple[float, list[str]]:
                c0 = cpu()
                got = _register(archive, src, title)
                return cpu() - c0, got

            # Interleaved, alternating which goes first (the machine's load drifts).
            if i % 2:
                ours_cpu, ours_out = ours()
                plain_cpu = plain()
            else:
                plain_cpu = plain()
                ours_cpu, ours_out = ours()
            truth_len = pe = oe = 0
            for n, truth in enumerate(texts):
                e, tl = cer(plain_out[n], truth)
                pe, truth_len = pe + e, truth_len + tl
                oe += cer(ours_out[n] if n < len(ours_out) else "", truth)[0]
            row = Row(name, kind, len(texts), truth_len, pe, oe, plain_cpu, ours_cpu)
            rows.append((label, row))
            print(f"{name:<14}{label:<7}{kind:<10}{row.pages:>6}{pe / truth_len:>10.2%}"
                  f"{oe / truth_len:>10.2%}{plain_cpu / row.pages:>10.2f}"
                  f"{ours_cpu / row.pages:>10.2f}", flush=True)
        from service.db import dispose_all

        dispose_all()
    return rows


def _ratio(a: float, b: float) -> float:
    return a / b if b else (0.0 if a == 0 else float("inf"))


def report(rows: list[tuple[str, Row]]) -> bool:
    """Per set and kind; True when the clean-page targets hold."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for label, r in rows:
        groups[(label, r.kind)].append(r)
        groups[(label, "all")].append(r)
    print(f"\n{'set':<7}{'kind':<10}{'pages':>6}{'plain CER':>10}{'ours CER':>10}{'CER ratio':>10}"
          f"{'plain s/p':>10}{'ours s/p':>10}{'CPU ratio':>10}")
    summary: dict[str, tuple[float, float]] = {}
    for (label, kind), rs in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] == "all",
                                                                   g[0][1])):
        pages = sum(r.pages for r in rs)
        n = sum(r.truth_len for r in rs) or 1
        pc, oc = sum(r.plain_edits for r in rs) / n, sum(r.ours_edits for r in rs) / n
        pcpu, ocpu = sum(r.plain_cpu for r in rs) / pages, sum(r.ours_cpu for r in rs) / pages
        if kind == "all":
            summary[label] = (_ratio(oc, pc), _ratio(ocpu, pcpu))
        print(f"{label:<7}{kind:<10}{pages:>6}{pc:>10.2%}{oc:>10.2%}{_ratio(oc, pc):>10.2f}"
              f"{pcpu:>10.2f}{ocpu:>10.2f}{_ratio(ocpu, pcpu):>10.2f}")
    ok = True
    if "clean" in summary:
        cer_ratio, cpu_ratio = summary["clean"]
        ok = cer_ratio <= TARGET_CER and cpu_ratio <= TARGET_CPU
        print(f"\nclean pages: CPU {cpu_ratio:.2f}× plain (target <= {TARGET_CPU}), "
              f"CER {cer_ratio:.2f}× plain (target <= {TARGET_CER}): {'yes' if ok else 'NO'}")
    if "hard" in summary:
        print(f"hard pages: CPU {summary['hard'][1]:.2f}× plain, CER {summary['hard'][0]:.2f}× "
              "plain (below 1: we read better)")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clean", type=Path, default=SHARED / "samples")
    ap.add_argument("--hard", type=Path, default=SHARED / "samples-hard")
    ap.add_argument("--only", nargs="*", help="file names (or kinds) to measure")
    args = ap.parse_args(argv)
    os.environ["OMP_THREAD_LIMIT"] = "1"
    sets = [(label, d) for label, d in (("clean", args.clean), ("hard", args.hard))
            if (d / "truth.json").exists()]
    if not sets:
        print("no samples (truth.json) found", file=sys.stderr)
        return 2
    return 0 if report(measure(sets, args.only)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
