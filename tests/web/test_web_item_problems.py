"""Items with a problem: corrupt files are reported, never a 500 (#8.21), and partial items (#8.6)."""

from __future__ import annotations

import io
from pathlib import Path

from scanfactory import render_page, write_looping_pdf, write_png

from indexer.errors import REASONS


def test_api_upload_with_looping_pdf_is_not_a_500(client, h, tmp_path: Path) -> None:
    good = write_png(tmp_path / "p1.png", render_page(["租赁合同"], size=(600, 400)))
    loop = write_looping_pdf(tmp_path / "loop.pdf")
    h.login(client, "arc")
    r = client.post("/api/v1/items", data={
        "fonds": "J001", "category": "HT", "year": "2024", "retention": "D30",
        "secrecy": "内部", "title": "循环页树",
        "files": [(io.BytesIO(good.read_bytes()), "p1.png"),
                  (io.BytesIO(loop.read_bytes()), "loop.pdf")]},
        headers={"X-CSRFToken": h.csrf(client, "/upload")})
    assert r.status_code == 201, r.get_data(as_text=True)[:500]
    [failed] = r.get_json()["failed_files"]
    assert failed["name"] == "loop.pdf" and failed["code"] == "broken-pdf"
    assert failed["reason"] == REASONS["broken-pdf"]
