"""Word boxes on Chinese lines are laid out along the reliable line box."""

from __future__ import annotations

from indexer.wordboxes import relayout_cjk_lines


def _w(t: str, x: int, w: int, line: str = "1.1.1") -> dict:
    return {"t": t, "x": x, "y": 5, "w": w, "h": 40, "c": 90.0, "l": line}


def test_cjk_words_follow_the_em_grid_of_the_line() -> None:
    # Tesseract gave nonsense widths (乙方 221 px wide); the line box is 100..400 for 10 ems
    words = [_w("乙方", 101, 221), _w("收到", 169, 23), _w("款项后十日内", 220, 40)]
    out = relayout_cjk_lines(words, {"1.1.1": (100, 10, 300, 30)})
    assert [(w["x"], w["w"]) for w in out] == [(100, 60), (160, 60), (220, 180)]
    assert all(w["y"] == 10 and w["h"] == 30 for w in out)
    assert words[0]["w"] == 221  # the input is not modified


def test_trailing_full_width_stop_adds_little_ink() -> None:
    words = [_w("甲方", 0, 1), _w("付款。", 0, 1)]
    out = relayout_cjk_lines(words, {"1.1.1": (0, 0, 440, 30)})  # 4.4 ems of ink
    assert [w["x"] for w in out] == [0, 200]


def test_latin_lines_keep_tesseract_boxes() -> None:
    words = [_w("Contract", 10, 80, "1.1.2"), _w("No.", 95, 30, "1.1.2")]
    assert relayout_cjk_lines(words, {"1.1.2": (10, 0, 115, 30)}) == words
