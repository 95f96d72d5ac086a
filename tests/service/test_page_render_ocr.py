"""On a real scan read by Tesseract, the boxes drawn for users without the privacy right
cover every ink pixel of the ID and mobile numbers, and nothing of the words around them
(#13.6). The words of a line with Chinese are laid out along the line box
(indexer.wordboxes), so this is where a box a character short would leak a digit."""

from __future__ import annotations

import pytest
from PIL import ImageDraw

ID_NO, PHONE = "110105199003078764", "13812345678"
LINES = ["个人客户登记表", f"身份证号：{ID_NO}", f"联系电话：{PHONE}", "经办人签字确认无误"]


@pytest.mark.slow
def test_boxes_cover_every_ink_pixel_of_the_numbers(tmp_path):
    from indexer.page_processor import process_page
    from service.page_render import FILL, cover, cover_boxes, covered_words
    from tests.scanfactory import _font, render_page

    dpi = 200
    size = (1654, 700)
    img = render_page(LINES, size=size, dpi=dpi).convert("RGB")
    path = tmp_path / "scan.png"
    img.save(path, dpi=(dpi, dpi))
    result = process_page(path, 1)
    assert ID_NO in result.text.replace(" ", "") and PHONE in result.text.replace(" ", "")
    assert (result.width, result.height) == img.size and not result.rotation
    words = covered_words(result.words)
    assert words, result.words
    drawn = cover(img, cover_boxes(words, result.width, result.height, img.size))
    # where scanfactory drew each number (render_page's layout)
    px = max(16, round(dpi * 12 / 72 * 1.1))
    font, margin = _font(px), round(size[0] * 0.08)
    measure = ImageDraw.Draw(img)
    grey = img.convert("L")
    for li, (prefix, number) in ((1, ("身份证号：", ID_NO)), (2, ("联系电话：", PHONE))):
        y = margin + li * round(px * 1.8)
        x = margin + measure.textlength(prefix, font=font)
        x0, y0, x1, y1 = (round(v) for v in measure.textbbox((x, y), number, font=font))
        ink = [(u, v) for v in range(y0, y1) for u in range(x0, x1) if grey.getpixel((u, v)) < 160]
        assert len(ink) > 100
        leaked = [p for p in ink if drawn.getpixel(p) != FILL]
        assert not leaked, (number, len(leaked), leaked[:5])
        # the label before the number stays readable
        lx0, ly0, lx1, ly1 = (round(v) for v in measure.textbbox((margin, y), prefix[:2], font=font))
        label = [(u, v) for v in range(ly0, ly1) for u in range(lx0, lx1) if grey.getpixel((u, v)) < 160]
        assert label and all(drawn.getpixel(p) != FILL for p in label), number
