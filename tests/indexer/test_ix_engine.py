"""Reading a page costs no more than it must (issue 15.1): the engine stays loaded between
pages, and large print is read at the line height Tesseract reads best."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from indexer import engine
from indexer.ocr import ocr_image
from indexer.pageprep import TARGET_LINE_HEIGHT, line_height, prepare
from tests import scanfactory as sf
from tests.indexer.conftest import LINES


@pytest.mark.slow
def test_pages_are_read_by_one_engine_loaded_once(monkeypatch, page_image):
    """No `tesseract` process per page: a clean page is read in this process, and the
    second page by the same loaded engine."""
    def no_process(*a, **k):
        raise AssertionError(f"a tesseract process was started: {a}")

    ocr_image(page_image, dpi=150)
    loaded = dict(engine._local.engines)
    monkeypatch.setattr(subprocess, "run", no_process)
    monkeypatch.setattr(subprocess, "Popen", no_process)
    res = ocr_image(page_image, dpi=150)
    assert "支付合同款" in res.text or "二〇二四年三月" in res.text, res.text
    assert engine._local.engines == loaded and len(loaded) == 1


THREADED_READS = """
import sys
from concurrent.futures import ThreadPoolExecutor
from indexer.ocr import ocr_image
from tests import scanfactory as sf
from tests.indexer.conftest import LINES

page = sf.render_page(LINES, size=(1240, 700), dpi=150)
with ThreadPoolExecutor(4) as pool:
    texts = list(pool.map(lambda _: ocr_image(page, dpi=150).text, range(8)))
sys.exit(0 if all("合同" in t for t in texts) else 3)
"""


@pytest.mark.slow
def test_pages_read_in_several_threads_at_once():
    """Threads of one process (tests, an embedded server's helpers) each read with an engine
    of their own: two recognitions on one shared engine crashed the whole process."""
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", THREADED_READS], capture_output=True,
                          text=True, timeout=600, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])


def test_large_print_is_read_at_the_target_line_height():
    """Type of about 12 pt at 300 dpi (lines ~50 px high) is read scaled down to ~28 px:
    measured on clean scans it reads with about half the errors, at less CPU."""
    img = sf.render_page(LINES * 3, size=(2480, 1600), dpi=300, font_px=50).convert("L")
    measured = line_height(np.asarray(img))
    assert measured is not None and measured > 1.3 * TARGET_LINE_HEIGHT
    prep = prepare(img, 300)
    assert any(step.startswith("scale 0.") for step in prep.steps), prep.steps
    assert prep.dpi < 300
    scaled = line_height(np.asarray(prep.image))
    assert scaled is not None and abs(scaled - TARGET_LINE_HEIGHT) <= 0.25 * TARGET_LINE_HEIGHT


def test_print_near_the_target_is_left_as_it_is():
    """A 200-dpi fax's small print (lines ~28 px) is not resampled (that costs accuracy)."""
    img = sf.render_page(LINES * 3, size=(1654, 1200), dpi=200, font_px=28).convert("L")
    assert prepare(img, 200).steps == ()
