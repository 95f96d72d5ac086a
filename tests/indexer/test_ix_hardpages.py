"""The page reader on rendered hard pages: seals, forms, ID-card copies, photos, faxes.

The geometry and colour steps are checked without Tesseract (fast); reading each kind is
checked end to end through process_page (slow).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

import numpy as np
import pytest
from PIL import Image

from indexer.document import open_document
from indexer.page_processor import process_page
from indexer.pageprep import grey_without_seals, page_corners, prepare, seal_boxes
from indexer.regions import find_cards
from tests import scanfactory as sf
from tests.hardpages import (
    contract_with_seal,
    fax_200dpi,
    id_card_copy,
    phone_photo,
    ruled_form,
)


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def test_seal_is_found_and_faded_but_red_header_text_stays():
    page = contract_with_seal(3)
    rgb = np.asarray(page.image)
    boxes = seal_boxes(rgb, 200)
    assert len(boxes) == 1
    x, y, w, h = boxes[0]
    assert 0.6 < w / h < 1.6
    grey, n = grey_without_seals(page.image, 200)
    assert n == 1
    region = np.asarray(grey)[max(0, y):y + h, max(0, x):x + w]
    red = np.asarray(page.image.convert("HSV"))[max(0, y):y + h, max(0, x):x + w, 1] > 120
    assert red.any() and np.asarray(region)[red].mean() > 200  # the seal's ink is paper now
    # A red line of text (wide, not round) is not a seal.
    header = Image.new("RGB", (1600, 400), "white")
    from PIL import ImageDraw

    ImageDraw.Draw(header).text((50, 100), "深圳博远物业管理有限公司文件",
                                font=sf._font(90), fill=(210, 30, 30))
    assert seal_boxes(np.asarray(header), 200) == []


def test_photo_page_corners_and_boxes_map_back():
    photo = phone_photo(5)
    grey = np.asarray(photo.image.convert("L"))
    corners = page_corners(grey)
    assert corners is not None
    prep = prepare(photo.image.convert("L"), 150)
    assert "unwarp" in prep.steps
    # A box at the prepared page's top-left corner lands near the photo's page corner.
    w = prep.to_page([{"t": "x", "x": 0, "y": 0, "w": 1, "h": 1, "c": 90, "l": "1"}],
                     photo.image.width, photo.image.height)[0]
    assert abs(w["x"] - corners[0][0]) < 8 and abs(w["y"] - corners[0][1]) < 8


def test_scan_pages_are_not_taken_for_photos_or_cards():
    for page in (contract_with_seal(1), ruled_form(1), fax_200dpi(1)):
        grey = np.asarray(page.image.convert("L"))
        assert page_corners(grey) is None
        assert find_cards(grey) == []


def test_card_is_found():
    page = id_card_copy(2)
    cards = find_cards(np.asarray(page.image))
    assert len(cards) == 1
    x, y, w, h = cards[0]
    assert 1.4 < w / h < 1.8


def test_pdf_scan_is_drawn_at_its_own_pixel_size(tmp_path):
    """A phone photo saved as a 72-dpi PDF page is not blown up to 300 dpi."""
    photo = phone_photo(1).image
    photo.info["dpi"] = (72, 72)
    pdf = sf.write_pdf_image_only(tmp_path / "photo.pdf", [photo])
    with open_document(pdf) as doc:
        img = doc.page_image(1)
    assert abs(img.width - photo.width) <= 2 and abs(img.height - photo.height) <= 2
    fax = fax_200dpi(1).image
    pdf = sf.write_pdf_image_only(tmp_path / "fax.pdf", [fax])
    with open_document(pdf) as doc:
        img = doc.page_image(1)
    assert abs(img.width - fax.width) <= 2 and img.info["dpi"] == (200, 200)


def _read(tmp_path, img: Image.Image, name: str = "page.png") -> str:
    path = tmp_path / name
    img.save(path, dpi=img.info.get("dpi", (300, 300)))
    return squash(process_page(path, 1).text)


@pytest.mark.slow
def test_seal_over_text_is_read(tmp_path):
    page = contract_with_seal(7)
    text = _read(tmp_path, page.image)
    number = re.search(r"HT-\d{4}-\d{4}", page.text).group(0)
    assert number in text
    # The lines under the seal are read too: nearly all of the page's text is there.
    assert SequenceMatcher(None, text, squash(page.text)).ratio() > 0.9, text


@pytest.mark.slow
def test_ruled_form_reads_labels_and_values(tmp_path):
    page = ruled_form(4)
    text = _read(tmp_path, page.image)
    phone = re.search(r"1\d{10}", page.text).group(0)
    assert phone in text
    assert "客户编号" in text and "联系人" in text


@pytest.mark.slow
def test_id_card_copy_is_read(tmp_path):
    page = id_card_copy(6)
    text = _read(tmp_path, page.image)
    idn = re.search(r"\d{17}[\dX]", page.text).group(0)
    assert idn in text, text
    assert "公民身份号码" in text or "身份号码" in text


@pytest.mark.slow
def test_photo_with_perspective_and_shadow_is_read(tmp_path):
    page = phone_photo(8)
    path = tmp_path / "photo.jpg"
    page.image.save(path, quality=85, dpi=(72, 72))
    res = process_page(path, 1)
    phone = re.search(r"1\d{10}", page.text).group(0)
    assert phone in squash(res.text), res.text
    # Word boxes are on the photo as shown (inside it), not on the straightened page.
    assert (res.width, res.height) == page.image.size
    for w in res.words:
        assert w["x"] + w["w"] <= res.width and w["y"] + w["h"] <= res.height


@pytest.mark.slow
def test_fax_at_200_dpi_is_read(tmp_path):
    page = fax_200dpi(9)
    pdf = sf.write_pdf_image_only(tmp_path / "fax.pdf", [page.image])
    text = squash(process_page(pdf, 1).text)
    number = re.search(r"HT-\d{4}-\d{4}", page.text).group(0)
    assert number in text, text
