"""Ingest and memory: what storing an original costs, and what a worker and the finaliser hold.

    python bench/ingest_bench.py [--cache DIR] [--pages 300 2000] [--ocr-pages 3]

Generates (once, into ``--cache``, never committed) image-only volumes of 300-dpi scanned
pages drawn by tests/scanfactory.py, then measures, each step in a fresh child process
(CPU inside the child after its imports; peak RSS from the kernel's rusage of that child):

- **store**: what an upload does to one file before the catalogue transaction (hash, count
  pages and decoded bytes from the structure, put into the content-addressed store),
  in MB/s of CPU, against ``sha256sum`` on the same file (target: at most 1.5x its CPU);
- **worker**: a long-lived worker process running page tasks spread over the volume
  (opening the volume for page k only, then the whole page: OCR, views, page PDF); its
  peak RSS must stay under 300 MB and flat from 300 to 2,000 pages; the CPU of opening
  one page is printed against hashing the whole file;
- **finaliser**: the item's searchable PDF merged from the stored page PDFs into the
  store; peak RSS above its imports at most a quarter of the input's size (what grows is
  qpdf's page objects, ~20 KB a page, not the bytes) and, at the smallest volume, against
  the in-memory pypdf merge the finaliser used to do (the baseline).

The worker's CPU per page is its own (Tesseract runs as a child process, not counted);
whole-pipeline CPU against plain Tesseract is bench/ocr_bench.py's figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

WORKER_CAP_MB = 300
STORE_TARGET = 1.5  # our CPU / sha256sum's
FLAT = 1.3  # a worker's peak memory at the longest volume / at the shortest
MERGE_TARGET = 0.25  # the finaliser's memory above its imports / the page PDFs' size


def _cpu() -> float:
    return time.process_time()


def _rss_mb() -> float:
    """This process's resident memory now (after a child's imports: its floor)."""
    with open("/proc/self/status") as fh:
        line = next(x for x in fh if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


# -- children (run as `ingest_bench.py --child NAME ...`) ---------------------------------


def child_store(path: str, store_dir: str) -> dict:
    """Triage and store one original the way an upload does."""
    from indexer.document import MAX_PAGES, Limits
    from indexer.page_processor import measure
    from service.ingest import sha256_file
    from storage.local import LocalStore

    store = LocalStore(store_dir)
    t0 = _cpu()
    sha, _size = sha256_file(Path(path))
    counted = measure(path, Limits(max_pages=MAX_PAGES))
    with open(path, "rb") as fh:
        store.put(fh, expected_sha256=sha, content_type="application/pdf")
    return {"cpu": _cpu() - t0, "pages": counted.pages}


def child_count(path: str) -> dict:
    """Only the page count and decoded-bytes measure of the upload (no hashing, no store)."""
    from indexer.document import MAX_PAGES, Limits
    from indexer.page_processor import measure

    t0 = _cpu()
    counted = measure(path, Limits(max_pages=MAX_PAGES))
    return {"cpu": _cpu() - t0, "pages": counted.pages}


def child_open(path: str, pages: str) -> dict:
    """Open the volume for page k as a page task does (page k's text layer and image), for
    each k: the part of a page task that depends on the volume's length."""
    from indexer.document import open_document

    ks = [int(k) for k in pages.split(",")]
    floor = _rss_mb()
    opening = 0.0
    for k in ks:
        t0 = _cpu()
        with open_document(path, validate=False) as doc:
            text = doc.page_text_layer(k)
            opening += _cpu() - t0
            if text is None:
                doc.page_image(k)
    return {"cpu_per_page": opening / len(ks), "floor": floor}


def child_worker(path: str, pages: str) -> dict:
    """Whole page tasks (OCR included) on pages spread over the volume, in one process."""
    from indexer.page_processor import process_page

    ks = [int(k) for k in pages.split(",")]
    floor = _rss_mb()
    process_page(path, ks[0])  # imports and engine start-up paid before the measured pages
    t0 = _cpu()
    for k in ks[1:]:
        process_page(path, k)
    return {"cpu_per_page": (_cpu() - t0) / max(1, len(ks) - 1), "floor": floor}


def child_merge(store_dir: str, count: str) -> dict:
    """The finaliser's merge of ``count`` stored page PDFs into the item's searchable PDF."""
    from service.jobs.pipeline import store_merged_pdf
    from storage.local import LocalStore

    store = LocalStore(store_dir)
    keys = [f"derived/1/page-{i}.pdf" for i in range(1, int(count) + 1)]
    floor = _rss_mb()
    t0 = _cpu()
    obj = store_merged_pdf(store, keys, "derived/1/searchable.pdf")
    return {"cpu": _cpu() - t0, "size": obj.size, "floor": floor}


def child_merge_pypdf(store_dir: str, count: str) -> dict:
    """Baseline: the in-memory pypdf merge the finaliser used to do (every page PDF read
    into memory, one PdfWriter, the result as bytes)."""
    import io

    from pypdf import PdfReader, PdfWriter

    from storage.local import LocalStore

    store = LocalStore(store_dir)
    floor = _rss_mb()
    t0 = _cpu()
    writer = PdfWriter()
    for i in range(1, int(count) + 1):
        for page in PdfReader(io.BytesIO(store.read_bytes(f"derived/1/page-{i}.pdf"))).pages:
            writer.add_page(page)
    buf = io.BytesIO()
    writer.write(buf)
    store.put_bytes(buf.getvalue(), key="derived/1/baseline.pdf")
    return {"cpu": _cpu() - t0, "size": len(buf.getvalue()), "floor": floor}


CHILDREN = {"store": child_store, "count": child_count, "open": child_open,
            "worker": child_worker, "merge": child_merge, "merge-pypdf": child_merge_pypdf}


# -- the parent ----------------------------------------------------------------------------


def run_child(*args: str) -> tuple[dict, float]:
    """(the child's JSON answer, its peak RSS in MB) for one child process."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", *args],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"child {args} failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def sha256sum_cpu(path: Path) -> float:
    """CPU seconds of coreutils' sha256sum on the file (the page cache warm)."""
    proc = subprocess.Popen(["sha256sum", str(path)], stdout=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(proc.pid, 0)
    return usage.ru_utime + usage.ru_stime


def volume(cache: Path, pages: int) -> Path:
    """The cached image-only volume of ``pages`` scanned pages, generated on first use."""
    from scanfactory import write_volume_pdf

    path = cache / f"volume-{pages}.pdf"
    if not path.exists():
        print(f"  generating {path.name} ...", flush=True)
        tmp = path.with_suffix(".part")
        write_volume_pdf(tmp, pages)
        tmp.replace(path)
    return path


def page_pdfs(cache: Path, src: Path, pages: int) -> Path:
    """A local object store holding the volume's pages as one-page PDFs (what page tasks
    store), generated on first use."""
    import pikepdf

    root = cache / f"pages-{pages}"
    done = root / ".complete"
    if not done.exists():
        print(f"  splitting {src.name} into page PDFs ...", flush=True)
        (root / "derived" / "1").mkdir(parents=True, exist_ok=True)
        with pikepdf.open(src) as pdf:
            for i, page in enumerate(pdf.pages, start=1):
                with pikepdf.new() as one:
                    one.pages.append(page)
                    one.save(root / "derived" / "1" / f"page-{i}.pdf")
        done.touch()
    return root


def spread(n: int, k: int) -> list[int]:
    """``k`` page numbers spread evenly over 1..n."""
    return sorted({max(1, round(1 + i * (n - 1) / max(1, k - 1))) for i in range(k)})


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(CHILDREN[sys.argv[2]](*sys.argv[3:])))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path,
                    default=Path(tempfile.gettempdir()) / "dangan-ingest-bench")
    ap.add_argument("--pages", type=int, nargs="+", default=[300, 2000])
    ap.add_argument("--ocr-pages", type=int, default=3,
                    help="whole page tasks (OCR included) per volume in the worker figure")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    print("Ingest and memory (image-only volumes of 300-dpi scans; CPU after imports)")
    ok = True
    first = True
    peaks: dict[str, list[tuple[int, float]]] = {"worker": [], "merge": []}
    for n in args.pages:
        path = volume(args.cache, n)
        mb = path.stat().st_size / 1e6
        print(f"\n{n}-page volume, {mb:.0f} MB")
        # store vs sha256sum, interleaved so a busy neighbour hurts both alike
        ours, base, count = [], [], []
        for _ in range(2):
            base.append(sha256sum_cpu(path))
            with tempfile.TemporaryDirectory(dir=args.cache) as store_dir:
                res, store_rss = run_child("store", str(path), store_dir)
            ours.append(res["cpu"])
            res, count_rss = run_child("count", str(path))
            count.append(res["cpu"])
        o, b, c = min(ours), min(base), min(count)
        ratio = o / b
        ok &= ratio <= STORE_TARGET
        print(f"  store   {mb / o:7.0f} MB/s (hash, count, put: {o:.2f} s CPU) | sha256sum "
              f"{mb / b:7.0f} MB/s ({b:.2f} s) | ratio {ratio:.2f} (target <= {STORE_TARGET})"
              f" | peak RSS {store_rss:.0f} MB")
        print(f"  count   {c * 1000:7.0f} ms CPU for {n} pages ({c / b:.2f}x sha256sum)"
              f" | peak RSS {count_rss:.0f} MB")
        # a worker: page opens spread over the volume, then whole page tasks
        res, open_rss = run_child("open", str(path), ",".join(map(str, spread(n, 20))))
        print(f"  open    {res['cpu_per_page'] * 1000:7.1f} ms CPU to open the volume for page k"
              f" ({res['cpu_per_page'] / b:.3f}x sha256sum of the file) | peak RSS "
              f"{open_rss:.0f} MB over 20 pages drawn at 300 dpi ({res['floor']:.0f} MB after "
              f"imports)")
        if args.ocr_pages:
            res, worker_rss = run_child("worker", str(path),
                                        ",".join(map(str, spread(n, args.ocr_pages + 1))))
            ok &= worker_rss <= WORKER_CAP_MB
            peaks["worker"].append((n, worker_rss))
            print(f"  worker  peak RSS {worker_rss:.0f} MB over {args.ocr_pages + 1} whole page "
                  f"tasks ({res['floor']:.0f} MB after imports; {res['cpu_per_page']:.2f} s "
                  f"CPU a page in the worker, Tesseract's own not counted) | cap "
                  f"{WORKER_CAP_MB} MB")
        ok &= open_rss <= WORKER_CAP_MB
        # the finaliser
        store_dir = page_pdfs(args.cache, path, n)
        res, merge_rss = run_child("merge", str(store_dir), str(n))
        peaks["merge"].append((n, merge_rss))
        ok &= merge_rss - res["floor"] <= MERGE_TARGET * mb
        print(f"  merge   peak RSS {merge_rss:.0f} MB for {mb:.0f} MB of page PDFs "
              f"({res['floor']:.0f} MB after imports, so {(merge_rss - res['floor']) / mb:.2f}x "
              f"the input above them, target <= {MERGE_TARGET}; {res['cpu']:.2f} s CPU)")
        if first:
            res, base_rss = run_child("merge-pypdf", str(store_dir), str(n))
            print(f"  merge   baseline in-memory pypdf: peak RSS {base_rss:.0f} MB "
                  f"({res['floor']:.0f} MB after imports, so "
                  f"{(base_rss - res['floor']) / mb:.2f}x the input above them; "
                  f"{res['cpu']:.2f} s CPU) | ratio {merge_rss / base_rss:.2f}")
            first = False
    for what, rows in peaks.items():
        if len(rows) > 1:
            (n0, rss0), (n1, rss1) = rows[0], rows[-1]
            ok &= what != "worker" or rss1 <= FLAT * rss0
            print(f"\n{what:7s} peak RSS {rss1:.0f} MB at {n1} pages against {rss0:.0f} MB at "
                  f"{n0}: {rss1 / rss0:.2f}x for {n1 / n0:.1f}x the pages"
                  + (f" (flat: <= {FLAT})" if what == "worker" else ""))
    print("\nall ingest targets hold" if ok else "\nsome ingest target is missed")


if __name__ == "__main__":
    main()
