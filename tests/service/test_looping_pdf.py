"""A PDF whose page tree loops is a corrupt file, never a traceback or a 500 (#8.21); nor
does any other loop in a PDF's structure hang, crash or exhaust the reader (#15.6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bounded import run_bounded
from clihelp import INGEST, dangan
from malformed import (
    pdf_deep_tree,
    pdf_kids_cycle,
    pdf_length_self_reference,
    pdf_self_drawing_form,
    pdf_xref_prev_loop,
    read_as_ingest,
)
from scanfactory import render_page, write_looping_pdf, write_png

from indexer.document import open_document
from indexer.errors import REASONS, IngestError


@pytest.mark.parametrize("with_good_page", [True, False])
def test_looping_page_tree_is_a_broken_pdf(tmp_path: Path, with_good_page: bool) -> None:
    pdf = write_looping_pdf(tmp_path / "loop.pdf", with_good_page=with_good_page)
    for validate in (True, False):  # the upload's check and the page worker's open
        with pytest.raises(IngestError) as exc:
            open_document(pdf, validate=validate)
        assert exc.value.code == "broken-pdf" and exc.value.reason == REASONS["broken-pdf"]


@pytest.mark.parametrize(("build", "ends"), [
    (pdf_kids_cycle, {"broken-pdf"}),  # two /Pages nodes, each the other's kid
    (pdf_deep_tree, {"broken-pdf"}),  # 5,000 nested /Pages nodes: recursion, not a loop
    (pdf_length_self_reference, {"broken-pdf", "read"}),  # /Length is the stream itself: the
    # length is found by the stream's end, as readers repair it, or the file is refused
    (pdf_self_drawing_form, {"read"}),  # a form XObject drawing itself: the renderer stops
    (pdf_xref_prev_loop, {"read"}),  # the xref's /Prev names itself: read once
])
def test_other_loops_end_bounded_as_a_broken_pdf_or_a_read(tmp_path: Path, build,
                                                           ends: set[str]) -> None:
    """Read as an upload and its page workers read, in a child bounded to 20 s and 768 MiB."""
    pdf = tmp_path / "loop.pdf"
    pdf.write_bytes(build())
    out = run_bounded(read_as_ingest, pdf, timeout=20, memory=768 * 2**20)
    if out.kind == "ok":
        assert "read" in ends and out.value == ("pdf", 1), out
    else:
        assert out.kind == "raised" and out.code in ends, out
        assert out.reason == str(REASONS["broken-pdf"])


def test_cli_ingest_with_looping_pdf_says_what_is_wrong(archive_env: dict[str, str],
                                                         tmp_path: Path) -> None:
    env = archive_env
    dangan(env, "init", "--admin-password", "initial-pass")
    loop = write_looping_pdf(tmp_path / "loop.pdf")
    good = write_png(tmp_path / "p1.png", render_page(["租赁合同"], size=(600, 400)))
    proc = dangan(env, "ingest", str(good), str(loop), *INGEST, "--title", "租赁合同", "--json",
                  check=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert '"code": "broken-pdf"' in proc.stdout and "loop.pdf" in proc.stdout
    alone = dangan(env, "ingest", str(write_looping_pdf(tmp_path / "only.pdf", with_good_page=False)), *INGEST,
                   "--title", "只有坏文件", check=False)
    assert "Traceback" not in alone.stderr and alone.returncode == 2, alone.stderr
    assert "PDF 文件结构已损坏" in alone.stderr or "broken-pdf" in alone.stderr, alone.stderr


def test_cli_ingest_of_a_damaged_pdf_prints_only_our_message(archive_env: dict[str, str],
                                                             tmp_path: Path) -> None:
    """The PDF parser's own warnings ("EOF marker not found") are not the user's message."""
    env = archive_env
    dangan(env, "init", "--admin-password", "initial-pass")
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(b"%PDF-1.7\n1 0 obj<<>>endobj\n")  # no xref, no trailer, no %%EOF
    proc = dangan(env, "ingest", str(damaged), *INGEST, "--title", "损坏", check=False)
    assert proc.returncode == 2 and "PDF 文件结构已损坏" in proc.stderr, proc.stderr
    assert "EOF marker" not in proc.stderr + proc.stdout, proc.stderr
