"""PDF documents with a Chinese font embedded (fpdf2), for the report and the box paperwork.

fpdf2 embeds a subset of the font (CFF outlines included), so the PDF shows and extracts
the same Chinese text on a machine without the font. The font is Noto Sans CJK SC from the
Debian package fonts-noto-cjk (a RUN_DEBS of the Makefile), found at its Debian path or
through fontconfig; its face is picked from the collection by name, not by position.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTCollection
from fpdf import FPDF

from .errors import N_, DanganError

FAMILY = "cjk"
_FACE = "Noto Sans CJK SC"
_CANDIDATES = {
    "": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
         "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
    "B": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
          "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc"),
}


class FontMissing(DanganError):
    """No Chinese font to embed: the PDF cannot be made (exit status 5, an installation fault)."""

    exit_code = 5


def _fc_match(style: str) -> str | None:
    if shutil.which("fc-match") is None:
        return None
    pattern = f"{_FACE}:style={'Bold' if style == 'B' else 'Regular'}"
    out = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True,
                         text=True, check=False).stdout.strip()
    return out if "CJK" in out and Path(out).exists() else None


@lru_cache(maxsize=4)
def cjk_font(style: str = "") -> tuple[str, int]:
    """(path, index in its collection) of the Simplified Chinese face in `style` ('' or 'B')."""
    paths = [p for p in _CANDIDATES[style] if Path(p).exists()] or \
        [p for p in (_fc_match(style), _fc_match("")) if p]
    if not paths:
        raise FontMissing(N_("找不到中文字体，无法生成 PDF：请安装 Debian 软件包 fonts-noto-cjk。"))
    path = paths[0]
    if not path.endswith(".ttc"):
        return path, 0
    faces = TTCollection(path, lazy=True).fonts
    for index, face in enumerate(faces):
        if face["name"].getDebugName(1) == _FACE:
            return path, index
    return path, 0


class CjkPdf(FPDF):
    """An A4 document in millimetres with the Chinese font as `FAMILY` (regular and bold)."""

    def __init__(self, orientation: str = "P") -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        for style in ("", "B"):
            path, index = cjk_font(style)
            self.add_font(FAMILY, style=style, fname=path, collection_font_number=index)
        self.set_font(FAMILY, size=10)
        self.set_auto_page_break(auto=True, margin=15)

    def to_bytes(self) -> bytes:
        return bytes(self.output())
