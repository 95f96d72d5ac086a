"""Does a stored file still open and draw? The usability probe of the four-property check
(四性检测, 可用性), with the same readers the pages were made with (indexer.document), so "it
opens" means what it meant at ingest.

`probe_file` runs in the calling process: cheap at ingest, where the page workers have just
drawn every page under their own time limit (a PDF page is drawn at a low resolution, an
image frame decoded, bounded by the document's pixel and stream caps). `probe_bounded` runs
the same probe in a child process with a time limit and an address-space limit, for the
on-demand check of files nobody has drawn for years: a file that hangs or balloons is a
finding there, never a stuck or killed checker. `pdf_page_texts` reads a PDF's text layer
page by page (pypdfium2), to compare with the OCR text.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from indexer.document import open_document
from indexer.errors import classify
from indexer.messages import dumps

#: A problem: {"page": n or None (the file), "code": slug, "reason": stored message text}.
Problem = dict[str, Any]


def _problem(page: int | None, exc: BaseException) -> Problem:
    err = classify(exc)
    return {"page": page, "code": err.code, "reason": dumps(err.reason)}


def probe_file(path: str | os.PathLike[str], pages: Sequence[int] | None = None,
               dpi: float | None = None) -> list[Problem]:
    """Open the file and draw each of ``pages`` (all when None): a PDF page at ``dpi`` (at
    the cheapest check's 20 dpi when None), an image frame decoded. Returns the problems."""
    problems: list[Problem] = []
    try:
        doc = open_document(path, validate=False)
    except Exception as exc:  # noqa: BLE001 - every failure is a finding, coded
        return [_problem(None, exc)]
    with doc:
        wanted = list(pages) if pages is not None else list(range(1, doc.page_count + 1))
        for n in wanted:
            if not 1 <= n <= doc.page_count:
                problems.append({"page": n, "code": "page-missing", "reason": ""})
                continue
            try:
                if dpi is None:
                    doc.check_page(n)
                else:
                    doc.page_image(n, dpi=dpi)
            except Exception as exc:  # noqa: BLE001
                problems.append(_problem(n, exc))
    return problems


def probe_bounded(path: str | os.PathLike[str], pages: Sequence[int] | None, dpi: float,
                  *, timeout: float, memory: int) -> list[Problem]:
    """`probe_file` in a child process limited to ``timeout`` seconds and ``memory`` bytes of
    address space; running out of either is the file's problem ("timeout", "out-of-memory")."""
    cmd = [sys.executable, "-m", "indexer.probe", os.fspath(path), "--dpi", str(dpi),
           "--memory", str(memory)]
    if pages is not None:
        cmd += ["--pages", ",".join(str(n) for n in pages)]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False, env=env)
    except subprocess.TimeoutExpired:
        return [{"page": None, "code": "timeout", "reason": ""}]
    if done.returncode != 0:
        out_of_memory = b"MemoryError" in done.stderr or done.returncode < 0
        return [{"page": None, "code": "out-of-memory" if out_of_memory else "internal",
                 "reason": ""}]
    result: list[Problem] = json.loads(done.stdout)
    return result


def pdf_page_texts(data: bytes) -> list[str]:
    """The text layer of each page of a PDF (pypdfium2); raises when it does not open."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        texts = []
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        pdf.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="probe a scan: opens, every page draws")
    parser.add_argument("path")
    parser.add_argument("--dpi", type=float, default=None)
    parser.add_argument("--pages", default=None)
    parser.add_argument("--memory", type=int, default=None, help="address-space limit, bytes")
    args = parser.parse_args(argv)
    if args.memory:  # the child limits itself before it opens the file
        resource.setrlimit(resource.RLIMIT_AS, (args.memory, args.memory))
    pages = [int(n) for n in args.pages.split(",")] if args.pages else None
    json.dump(probe_file(args.path, pages, args.dpi), sys.stdout)


if __name__ == "__main__":
    main()
