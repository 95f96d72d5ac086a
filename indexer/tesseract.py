"""The Tesseract command, shared by OCR and the text layer's font lookup."""

from __future__ import annotations

import os


def tesseract_cmd() -> str:
    """The executable to run: TESSERACT_CMD when set, else `tesseract` on PATH (read at each
    call, never at import, as every setting)."""
    return os.environ.get("TESSERACT_CMD") or "tesseract"
