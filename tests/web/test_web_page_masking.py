"""The page images themselves: for a user without the privacy right, filled boxes over the
word boxes of resident ID and mobile numbers, drawn per request and never cached; the
unmasked original is not downloadable by them, the searchable PDF only with the numbers
covered (#13.6). Who has the right is the administrator's choice per user."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops
from sqlalchemy import select

from tests.web.test_web_pdf_masking import ID_NO, LINES, PHONE, _words

PAGE_SIZE = (900, 400)


def _store_item(archive, img: Image.Image, words: list[dict], text: str, *,
                owner: str = "alice") -> int:
    """An item of `owner`'s with one OCR page: lossless web image and thumbnail of `img`,
    its word boxes and searchable PDF, finalised (searchable PDF) and indexed."""
    from indexer.derived import THUMB_WIDTH, fit
    from indexer.textlayer import searchable_page
    from service.jobs.pipeline import finalize_item
    from service.models import Page
    from tests.web.conftest import make_item

    def lossless(im: Image.Image) -> bytes:
        buf = io.BytesIO()
        im.convert("RGB").save(buf, "WEBP", lossless=True)
        return buf.getvalue()

    item_id = make_item(archive, title="个人借款合同", text=text, owner=owner,
                        department="销售部")
    web = archive.store.put_bytes(lossless(img), content_type="image/webp")
    thumb = archive.store.put_bytes(lossless(fit(img, THUMB_WIDTH)), content_type="image/webp")
    pdf = archive.store.put_bytes(searchable_page(img, words, 150), content_type="application/pdf")
    with archive.session() as s:
        page = s.scalar(select(Page).where(Page.item_id == item_id))
        page.words, page.width, page.height = words, img.width, img.height
        page.image_key, page.thumb_key, page.pdf_key = web.key, thumb.key, pdf.key
    finalize_item(archive, item_id)
    return item_id


@pytest.fixture(scope="module")
def scan(archive):
    from tests.scanfactory import render_page

    img = render_page(LINES, size=PAGE_SIZE, dpi=150).convert("RGB")
    words = _words(LINES)
    return _store_item(archive, img, words, "\n".join(LINES)), img, words


def _get(app, h, user: str, url: str):
    client = app.test_client()
    h.login(client, user)
    return client.get(url)


def _image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _number_words(words: list[dict]) -> list[dict]:
    return [w for w in words if w["t"] in (ID_NO, PHONE)]


def test_covered_words_are_the_numbers_words() -> None:
    from service.page_render import covered_words

    words = _words(LINES)
    assert [w["t"] for w in covered_words(words)] == [PHONE, ID_NO]
    # a number split over several words is covered word by word, and only its middle words
    split = [{"t": t, "x": 10 * i, "y": 0, "w": 9, "h": 9} for i, t in
             enumerate(["电话", "138", "1234", "5678", "合同号", "HT-2024-0031"])]
    assert [w["t"] for w in covered_words(split)] == ["1234"]


def test_drawn_boxes_are_exactly_over_the_numbers_word_boxes(scan) -> None:
    """Pixel for pixel: inside each box the fill, outside it the scan as it was."""
    from service.page_render import FILL, PAD, cover, cover_boxes, covered_words

    _, img, words = scan
    boxes = cover_boxes(covered_words(words), img.width, img.height, img.size)
    expected = [(w["x"] - PAD, w["y"] - PAD, w["x"] + w["w"] + PAD, w["y"] + w["h"] + PAD)
                for w in _number_words(words)]
    assert boxes == expected
    drawn = cover(img, boxes)
    inside = Image.new("1", img.size, 0)
    for x0, y0, x1, y1 in boxes:
        inside.paste(1, (x0, y0, x1 + 1, y1 + 1))
    mask = inside.convert("L").tobytes()
    for (x, y), flag in zip(((x, y) for y in range(img.height) for x in range(img.width)),
                            mask, strict=True):
        if flag:
            assert drawn.getpixel((x, y)) == FILL, (x, y)
    outside = ImageChops.multiply(ImageChops.difference(drawn, img),
                                  ImageChops.invert(inside.convert("RGB")))
    assert outside.getbbox() is None  # nothing else changed
    # the numbers had ink under their boxes: the boxes hide something
    for x0, y0, x1, y1 in boxes:
        assert min(img.convert("L").crop((x0, y0, x1, y1)).tobytes()) < 100


def _dark_share(img: Image.Image, box: tuple[int, int, int, int]) -> float:
    pixels = img.convert("L").crop(box).tobytes()
    return sum(1 for p in pixels if p < 60) / len(pixels)


def test_page_image_for_staff_has_the_numbers_covered(app, h, archive, scan) -> None:
    from service.page_render import PAD

    item_id, img, words = scan
    r = _get(app, h, "alice", f"/items/{item_id}/pages/1/image")
    assert r.status_code == 200 and r.mimetype == "image/webp"
    assert r.headers["Cache-Control"] == "private, no-store"
    shown = _image(r.data)
    assert shown.size == img.size
    for w in _number_words(words):
        box = (w["x"] - PAD, w["y"] - PAD, w["x"] + w["w"] + PAD, w["y"] + w["h"] + PAD)
        assert _dark_share(shown, box) > 0.97, w["t"]
        assert _dark_share(img, box) < 0.5
    # the rest of the page reads as before (lossy encoding aside)
    label = next(w for w in words if w["t"] == "负")
    region = (label["x"], label["y"], label["x"] + 200, label["y"] + label["h"])
    diff = ImageChops.difference(shown.crop(region).convert("L"), img.crop(region).convert("L"))
    assert max(diff.tobytes()) < 80 and _dark_share(shown, region) < 0.5


def test_thumbnail_for_staff_has_the_numbers_covered(app, h, scan) -> None:
    item_id, img, words = scan
    r = _get(app, h, "alice", f"/items/{item_id}/pages/1/thumb")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
    shown = _image(r.data)
    scale = shown.width / img.width
    for w in _number_words(words):
        box = tuple(round(v * scale) for v in (w["x"], w["y"], w["x"] + w["w"], w["y"] + w["h"]))
        assert _dark_share(shown, box) > 0.9, w["t"]


def test_who_has_the_right_gets_the_stored_image(app, h, archive, scan) -> None:
    from service.models import Page

    item_id, _, _ = scan
    with archive.session() as s:
        page = s.scalar(select(Page).where(Page.item_id == item_id))
        stored = archive.store.read_bytes(page.image_key), archive.store.read_bytes(page.thumb_key)
    assert _get(app, h, "arc", f"/items/{item_id}/pages/1/image").data == stored[0]
    r = _get(app, h, "arc", f"/items/{item_id}/pages/1/thumb")
    assert r.data == stored[1]
    assert r.headers["Cache-Control"] == "private, no-store"  # two pictures, one address


def _file_ids(archive, item_id: int) -> dict[str, int]:
    from service.models import StoredFile

    with archive.session() as s:
        return {f.role: f.id for f in s.scalars(select(StoredFile).where(
            StoredFile.item_id == item_id))}


def test_original_download_refused_without_the_right(app, h, archive, scan) -> None:
    item_id, _, _ = scan
    original = _file_ids(archive, item_id)["original"]
    r = _get(app, h, "alice", f"/items/{item_id}/files/{original}")
    assert r.status_code == 403
    body = r.get_data(as_text=True)
    assert "个人信息" in body and "原件" in body
    assert _get(app, h, "arc", f"/items/{item_id}/files/{original}").status_code == 200


def test_searchable_pdf_for_staff_has_the_numbers_covered(app, h, archive, scan) -> None:
    item_id, img, words = scan
    pdf_id = _file_ids(archive, item_id)["searchable_pdf"]
    r = _get(app, h, "alice", f"/items/{item_id}/files/{pdf_id}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
    doc = pdfium.PdfDocument(r.data)
    try:
        page = doc[0]
        text = page.get_textpage().get_text_range()
        shown = page.render(scale=img.width / page.get_width()).to_pil().convert("RGB")
    finally:
        doc.close()
    assert ID_NO not in text and PHONE not in text and "负责本合同的履行" in text
    for w in _number_words(words):
        box = (w["x"], w["y"], w["x"] + w["w"], w["y"] + w["h"])
        assert _dark_share(shown, box) > 0.9, w["t"]


def _set_right(archive, username: str, right: bool | None) -> None:
    from service.models import User

    with archive.session() as s:
        s.scalar(select(User).where(User.username == username)).privacy_right = right


def test_the_right_given_and_taken_per_user(app, h, archive, scan) -> None:
    """The administrator gives staff the right and takes it from an archivist: the pictures,
    texts and downloads follow the user, not the role."""
    item_id, _, _ = scan
    original = _file_ids(archive, item_id)["original"]
    _set_right(archive, "alice", True)
    _set_right(archive, "arc", False)
    try:
        assert _get(app, h, "alice", f"/items/{item_id}/files/{original}").status_code == 200
        assert ID_NO in _get(app, h, "alice", f"/api/v1/items/{item_id}").get_json()[
            "pages"][0]["text"]
        assert _get(app, h, "arc", f"/items/{item_id}/files/{original}").status_code == 403
        r = _get(app, h, "arc", f"/items/{item_id}/pages/1/image")
        assert r.headers["Cache-Control"] == "private, no-store"
        page = _get(app, h, "arc", f"/items/{item_id}").get_data(as_text=True)
        assert ID_NO not in page and PHONE not in page
    finally:
        _set_right(archive, "alice", None)
        _set_right(archive, "arc", None)


def test_a_page_whose_numbers_have_no_word_box_is_not_shown(app, h) -> None:
    """The text says there is an ID number but no word box locates it (h.item's page has one
    word for its first characters): staff get a denial saying why, not the scan."""
    item_id = h.item(title="登记表", text=f"身份证号 {ID_NO}", owner="alice", department="销售部")
    r = _get(app, h, "alice", f"/items/{item_id}/pages/1/image")
    assert r.status_code == 403 and "无法在图像上定位" in r.get_data(as_text=True)
    assert _get(app, h, "arc", f"/items/{item_id}/pages/1/image").status_code == 200
