"""The Tesseract command, shared by OCR and the text layer's font lookup."""

from __future__ import annotations

import os

#: The executable to run (TESSERACT_CMD overrides the one on PATH).
TESSERACT = os.environ.get("TESSERACT_CMD", "tesseract")
