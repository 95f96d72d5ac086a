"""Benchmark our OCR pipeline against plain Tesseract on sample scans.

    python bench/ocr_bench.py SAMPLES_DIR [--jobs N]

SAMPLES_DIR holds scans and a truth.json ({file: {"format", "pages": [text]}}).
In one run it measures, on the same 300-dpi page images:

(a) plain ``tesseract page.png - -l chi_sim+eng`` (OMP_THREAD_LIMIT=1);
(b) our ``ocr_image`` (the OCR path of process_page) and the full ``process_page``;
(c) pages per wall-clock second of process_page with 1 worker process and N.

CER = edit distance / truth length, after NFKC and with all whitespace
removed from both sides (so full-width vs ASCII punctuation and Tesseract's
spacing do not count as errors for either contender). CPU seconds come from
getrusage deltas (children for Tesseract, plus self for our Python work).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from indexer.document import open_document  # noqa: E402
from indexer.ocr import ocr_image  # noqa: E402
from indexer.page_processor import process_page  # noqa: E402

TARGET_CER = 1.0  # ours / plain must be <= 1
TARGET_CPU = 1.10
TARGET_SCALING = 0.85


def squash(s: str) -> str:
    """NFKC and no whitespace: the form CER is measured on."""
    return "".join(unicodedata.normalize("NFKC", s).split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (two-row DP; pages are a few hundred characters)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(hyp: str, truth: str) -> tuple[int, int]:
    t = squash(truth)
    return edit_distance(squash(hyp), t), len(t)


def cpu() -> float:
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def child_cpu() -> float:
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return c.ru_utime + c.ru_stime


def _process(job: tuple[str, int]) -> int:
    r = process_page(job[0], job[1])
    return len(r.text)


def _spin(_: int) -> int:
    x = 0
    for i in range(5_000_000):
        x += i
    return x


def machine_scaling(workers: int) -> float:
    """Scaling of a pure CPU loop: the ceiling this machine allows (shared vCPUs, quotas)."""
    rates = []
    for n in (1, workers):
        with ProcessPoolExecutor(max_workers=n) as pool:
            list(pool.map(_spin, range(n)))
            t0 = time.perf_counter()
            list(pool.map(_spin, range(4 * workers)))
            rates.append(4 * workers / (time.perf_counter() - t0))
    return rates[1] / (workers * rates[0])


def _plain(png: str) -> int:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    return len(subprocess.run(["tesseract", png, "-", "-l", "chi_sim+eng"], capture_output=True, env=env, check=True).stdout)


def plain_throughput(pngs: list[str], workers: int) -> float:
    """Pages per wall second of plain Tesseract in ``workers`` processes (engine's own scaling)."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        t0 = time.perf_counter()
        list(pool.map(_plain, pngs, chunksize=1))
        return len(pngs) / (time.perf_counter() - t0)


def throughput(jobs: list[tuple[str, int]], workers: int) -> float:
    """Pages per wall second running process_page in ``workers`` processes."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_process, jobs[: workers]))  # warm up imports in every worker
        t0 = time.perf_counter()
        list(pool.map(_process, jobs, chunksize=1))
        return len(jobs) / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("samples", type=Path)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args(argv)
    truth = json.loads((args.samples / "truth.json").read_text(encoding="utf-8"))
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    os.environ["OMP_THREAD_LIMIT"] = "1"

    rows = []
    jobs: list[tuple[str, int]] = []
    with tempfile.TemporaryDirectory(prefix="ocr-bench-") as tmp:
        pages = []
        for name, entry in sorted(truth.items()):
            path = args.samples / name
            with open_document(path) as doc:
                for n in range(1, doc.page_count + 1):
                    png = Path(tmp) / f"{path.stem}-{n}.png"
                    img = doc.page_image(n)
                    img.save(png, dpi=img.info.get("dpi", (300, 300)))
                    pages.append((name, n, png, entry["pages"][n - 1]))
                    jobs.append((str(path), n))

        print(f"{'page':<16}{'plain CER':>10}{'ours CER':>10}{'plain s':>9}{'ocr s':>8}{'page s':>8}{'rot':>7}{'conf':>6}")
        tot = dict(pe=0, oe=0, n=0, pc=0.0, oc=0.0, fc=0.0)
        for name, n, png, text in pages:
            c0 = child_cpu()
            out = subprocess.run(
                ["tesseract", str(png), "-", "-l", "chi_sim+eng"],
                capture_output=True, env=env, check=True,
            ).stdout.decode()
            plain_cpu = child_cpu() - c0
            pe, tl = cer(out, text)

            with Image.open(png) as im:
                im.load()
                c0 = cpu()
                res = ocr_image(im, dpi=round(im.info.get("dpi", (300, 300))[0]))
                ocr_cpu = cpu() - c0
            oe, _ = cer(res.text, text)

            c0 = cpu()
            pr = process_page(args.samples / name, n)
            page_cpu = cpu() - c0
            if squash(pr.text) != squash(res.text):
                oe = cer(pr.text, text)[0]  # report what process_page really produced

            tot["pe"] += pe
            tot["oe"] += oe
            tot["n"] += tl
            tot["pc"] += plain_cpu
            tot["oc"] += ocr_cpu
            tot["fc"] += page_cpu
            label = f"{name}:{n}"
            print(f"{label:<16}{pe / tl:>10.2%}{oe / tl:>10.2%}{plain_cpu:>9.2f}{ocr_cpu:>8.2f}{page_cpu:>8.2f}{res.rotation:>7.2f}{res.confidence:>6.1f}")
            rows.append((label, pe, oe, tl))

        plain_scaling = None
        if not args.skip_throughput:
            pngs = [str(p[2]) for p in pages]
            p1 = plain_throughput(pngs, 1)
            pn = plain_throughput(pngs, args.jobs)
            plain_scaling = pn / (args.jobs * p1)

    plain_cer = tot["pe"] / tot["n"]
    ours_cer = tot["oe"] / tot["n"]
    cpu_ratio = tot["oc"] / tot["pc"]
    print()
    print(f"pages: {len(pages)}  truth chars: {tot['n']}")
    print(f"CER   plain {plain_cer:.2%}   ours {ours_cer:.2%}   ({tot['pe']} vs {tot['oe']} edits)")
    print(f"CPU   plain {tot['pc']:.1f} s   ours OCR path {tot['oc']:.1f} s   full process_page {tot['fc']:.1f} s")
    ok = True
    print()
    print("ratio                              value    target   ok")
    r1 = ours_cer / plain_cer if plain_cer else (0.0 if ours_cer == 0 else float("inf"))
    ok &= r1 <= TARGET_CER
    print(f"CER ours/plain                   {r1:>7.3f}   <= {TARGET_CER:.2f}   {'yes' if r1 <= TARGET_CER else 'NO'}")
    ok &= cpu_ratio <= TARGET_CPU
    print(f"CPU ours/plain (OCR path)        {cpu_ratio:>7.3f}   <= {TARGET_CPU:.2f}   {'yes' if cpu_ratio <= TARGET_CPU else 'NO'}")
    print(f"CPU ours/plain (full page)       {tot['fc'] / tot['pc']:>7.3f}   (info: includes decode, WebP)")
    if not args.skip_throughput:
        t1 = throughput(jobs, 1)
        tn = throughput(jobs, args.jobs)
        scaling = tn / (args.jobs * t1)
        ok &= scaling >= TARGET_SCALING
        print(f"throughput 1 worker {t1:.3f} pages/s, {args.jobs} workers {tn:.3f} pages/s")
        print(f"scaling N/(N x 1)                {scaling:>7.3f}   >= {TARGET_SCALING:.2f}   {'yes' if scaling >= TARGET_SCALING else 'NO'}")
        print(f"  reference: plain tesseract scaling {plain_scaling:.3f}, "
              f"pure-CPU loop scaling {machine_scaling(args.jobs):.3f} (the machine's ceiling)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
