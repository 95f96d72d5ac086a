"""Tesseract kept loaded in the worker process (tesserocr), one engine per language set.

Starting the `tesseract` command costs about 0.2–0.5 s of CPU per call (loading chi_sim+eng,
decoding its input file); a page worker reads thousands of pages, so the engine is loaded
once per process and handed raw greyscale pixels (no file, no encoding). The library is
imported only when a page is read: a web or registration process never loads it.

OMP_THREAD_LIMIT=1 is set before the library loads (OpenMP reads it then): one process per
core reads pages, and OpenMP threads inside Tesseract make a page several times slower on
few cores.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.errors import EngineFailure, ingest_error

if TYPE_CHECKING:
    from PIL import Image

#: Engines of this thread: a TessBaseAPI is not safe to share between threads (two pages
#: recognised at once on one engine crash the process), and a forked child loads its own.
_local = threading.local()


class TesseractFailed(EngineFailure):
    """Tesseract could not read the page (its own error is the technical detail)."""

    code = "ocr-failed"


def _engine(lang: str) -> Any:
    """This thread's engine for ``lang`` (a forked child loads its own)."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.pid, _local.engines = os.getpid(), {}
    engines: dict[str, Any] = _local.engines
    api = engines.get(lang)
    if api is None:
        os.environ["OMP_THREAD_LIMIT"] = "1"
        import tesserocr  # noqa: PLC0415 - loads libtesseract: page workers only

        try:
            api = tesserocr.PyTessBaseAPI(lang=lang)
        except RuntimeError as exc:  # missing traineddata and the like
            raise TesseractFailed(f"tesseract failed to load {lang}: {exc}") from exc
        engines[lang] = api
    return api


def recognise(grey: Image.Image, lang: str, dpi: int, deadline: float | None,
              psm: int | None = None) -> tuple[str, str]:
    """(plain text, TSV) of one recognition of ``grey`` (mode L), as the `tesseract` command
    with `txt tsv` outputs would give them. Raises IngestError("ocr-timeout") past
    ``deadline`` (time.monotonic), TesseractFailed when recognition fails."""
    timeout_ms = 0
    if deadline is not None:
        timeout_ms = int((deadline - time.monotonic()) * 1000)
        if timeout_ms <= 0:
            raise ingest_error("ocr-timeout")
    api = _engine(lang)
    pixels = np.ascontiguousarray(np.asarray(grey.convert("L") if grey.mode != "L" else grey))
    height, width = pixels.shape
    api.SetPageSegMode(3 if psm is None else psm)  # 3: the command's default (automatic)
    api.SetImageBytes(pixels.tobytes(), width, height, 1, width)
    api.SetSourceResolution(dpi)
    if not api.Recognize(timeout=timeout_ms):
        api.Clear()
        if deadline is not None and time.monotonic() >= deadline:
            raise ingest_error("ocr-timeout", f"> {timeout_ms / 1000:.0f} s")
        raise TesseractFailed("tesseract failed to recognise the page")
    text, tsv = api.GetUTF8Text(), api.GetTSVText(0)
    api.Clear()  # frees the page's results; the loaded model stays
    return text, tsv
