"""The searchable PDF's text layer hides resident ID and mobile numbers from who may not see them."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

PHONE, ID_NO = "13812345678", "110105199003078764"
LINES = ["乙方联系人王五", f"联系电话 {PHONE}", f"身份证号 {ID_NO}", "负责本合同的履行"]


def _words(lines: list[str]) -> list[dict]:
    """One word per CJK character and per digit run, on the lines scanfactory draws."""
    words = []
    for li, line in enumerate(lines):
        x = 80
        for part in line.replace(" ", "\0 ").split("\0"):
            tokens = [part.strip()] if part.strip().isascii() else list(part.strip())
            for t in tokens:
                w = 14 * len(t) if t.isascii() else 28
                words.append({"t": t, "x": x, "y": 80 + li * 50, "w": w, "h": 28, "c": 95.0,
                              "l": f"1.1.{li}"})
                x += w + (7 if t.isascii() else 0)
    return words


@pytest.fixture(scope="module")
def pdf_item(archive):
    """An item of alice's whose one OCR page carries an ID and a mobile number."""
    from sqlalchemy import select

    from indexer.textlayer import searchable_page
    from service.jobs.pipeline import finalize_item
    from service.models import Page, StoredFile
    from tests.scanfactory import render_page
    from tests.web.conftest import make_item

    text = "".join(LINES)
    item_id = make_item(archive, title="个人借款合同", text=text, owner="alice", department="销售部")
    img = render_page(LINES, size=(900, 400), dpi=150)
    words = _words(LINES)
    pdf = archive.store.put_bytes(searchable_page(img, words, 150), content_type="application/pdf")
    with archive.session() as s:
        page = s.scalar(select(Page).where(Page.item_id == item_id))
        page.pdf_key, page.words, page.width, page.height = pdf.key, words, img.width, img.height
    finalize_item(archive, item_id)
    with archive.session() as s:
        file_id = s.scalar(select(StoredFile.id).where(StoredFile.item_id == item_id,
                                                       StoredFile.role == "searchable_pdf"))
    return item_id, file_id


def _texts(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        via_pdfium = doc[0].get_textpage().get_text_range()
    finally:
        doc.close()
    return [via_pdfium, PdfReader(io.BytesIO(pdf)).pages[0].extract_text()]


@pytest.mark.parametrize(("user", "masked"), [("alice", True), ("arc", False)])
def test_searchable_pdf_download_masks_personal_data(app, h, pdf_item, user, masked):
    item_id, file_id = pdf_item
    client = app.test_client()
    h.login(client, user)
    r = client.get(f"/items/{item_id}/files/{file_id}")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    for text in _texts(r.data):
        assert "负责本合同的履行" in text, text
        assert (PHONE in text) is not masked and (ID_NO in text) is not masked, text
        if masked:
            assert "138****5678" in text and "110***********8764" in text, text
    if masked:
        assert r.headers["Cache-Control"] == "private, no-store"
