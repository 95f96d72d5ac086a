"""Detect a scan's format from its bytes, never from its name.

Uploads are renamed, mislabelled and sometimes not scans at all (a Word file
saved as .pdf); trusting the extension would send them down the wrong decoder
and give the archivist a confusing error.
"""

from __future__ import annotations

import os
from pathlib import Path

from indexer.errors import IngestError, ingest_error
from indexer.messages import N_, Message, msg

SUPPORTED = ("jpeg", "png", "tiff", "bmp", "webp", "pdf")

# (magic, offset, what it is) for formats we recognise but refuse.
_FOREIGN: list[tuple[bytes, int, str]] = [
    (b"PK\x03\x04", 0, N_("Word/Excel（.docx/.xlsx）或 ZIP 压缩包")),
    (b"PK\x05\x06", 0, N_("空的 ZIP 压缩包")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, N_("旧版 Word/Excel（.doc/.xls）文件")),
    (b"Rar!\x1a\x07", 0, N_("RAR 压缩包")),
    (b"7z\xbc\xaf\x27\x1c", 0, N_("7z 压缩包")),
    (b"\x1f\x8b", 0, N_("gzip 压缩包")),
    (b"GIF87a", 0, N_("GIF 动图")),
    (b"GIF89a", 0, N_("GIF 动图")),
    (b"{\\rtf", 0, N_("RTF 文档")),
    (b"\x00\x00\x00\x0cjP  ", 0, N_("JPEG 2000 图像")),
    (b"ftypheic", 4, N_("HEIC 照片（手机相册格式）")),
    (b"ftypheix", 4, N_("HEIC 照片（手机相册格式）")),
    (b"ftypmif1", 4, N_("HEIF 照片（手机相册格式）")),
    (b"II+\x00", 0, N_("BigTIFF 图像")),
]


def detect_format_bytes(head: bytes) -> str:
    """Classify the first bytes of a file; raise IngestError for anything but a scan."""
    if not head:
        raise ingest_error("empty-file")
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"BM") and len(head) >= 26:
        return "bmp"
    # The PDF spec tolerates junk before the header; readers look in the first 1 KiB.
    if b"%PDF-" in head[:1024]:
        return "pdf"
    for magic, offset, what in _FOREIGN:
        if head[offset : offset + len(magic)] == magic:
            raise IngestError("unsupported-format",
                              msg(N_("这看起来是%(what)s，不是扫描件。请上传扫描件：JPEG、PNG、TIFF、BMP、WebP 或 PDF。"),
                                  what=Message(what)))
    if _looks_like_text(head):
        raise IngestError("unsupported-format", Message(N_(
            "这看起来是文本文件（如 .txt/.csv/.html），不是扫描件。请上传扫描件：JPEG、PNG、TIFF、BMP、WebP 或 PDF。")))
    raise IngestError("unsupported-format", Message(N_(
        "无法识别的文件格式，不是支持的扫描件。请上传扫描件：JPEG、PNG、TIFF、BMP、WebP 或 PDF。")))


def _looks_like_text(head: bytes) -> bool:
    """True when the bytes decode as text with few control characters."""
    sample = head[:4096]
    for enc in ("utf-8", "gb18030", "utf-16"):
        try:
            text = sample.decode(enc)
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by our read window is still text; bytes of which
            # nothing decodes are not (a file of one byte 0xFF is no text file).
            if exc.start < len(sample) - 4 or exc.start == 0:
                continue
            text = sample[: exc.start].decode(enc, errors="ignore")
        if enc == "utf-16" and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
        return controls <= len(text) // 100
    return False


def detect_format(path: str | os.PathLike[str]) -> str:
    """Return one of SUPPORTED for the file at ``path``, judged by its content."""
    with Path(path).open("rb") as fh:
        head = fh.read(4096)
    return detect_format_bytes(head)
