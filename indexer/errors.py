"""Errors raised while ingesting a scan.

Every rejection carries a stable ``code`` (for the UI, statistics and tests)
and a ``reason`` a archivist can act on, in Chinese first and then English,
because the person uploading is not the person reading the logs.
"""

from __future__ import annotations


class IngestError(Exception):
    """A file that cannot be ingested, with a slug ``code`` and a bilingual ``reason``."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason

    def __reduce__(self):  # keep code/reason when pickled across worker processes
        return (self.__class__, (self.code, self.reason))


# Reasons shared by several modules, so the wording stays consistent.
REASONS: dict[str, str] = {
    "empty-file": "文件为空（0 字节）。请重新扫描或重新上传原文件。/ "
    "The file is empty (0 bytes). Rescan or upload the original file again.",
    "truncated": "文件不完整（图像数据被截断），可能上传或复制中断。请重新上传完整文件。/ "
    "The file is incomplete (image data is truncated), probably an interrupted upload "
    "or copy. Upload the complete file again.",
    "corrupt-image": "图像数据已损坏，无法解码。请用扫描仪重新导出或重新扫描。/ "
    "The image data is corrupt and cannot be decoded. Re-export it from the scanner "
    "or scan the page again.",
    "encrypted-pdf": "该 PDF 设有打开密码，系统无法读取。请上传未加密的副本（在 PDF 软件中移除密码后另存）。/ "
    "The PDF is password-protected and cannot be read. Upload an unprotected copy "
    "(remove the password in your PDF software and save again).",
    "broken-pdf": "PDF 文件结构已损坏，无法修复。请从原始软件或扫描仪重新导出 PDF。/ "
    "The PDF structure is broken beyond repair. Export the PDF again from the original "
    "software or scanner.",
    "ocr-timeout": "文字识别超时，页面可能过大或过于复杂。请降低扫描分辨率（300 dpi 即可）后重试。/ "
    "Text recognition timed out; the page may be too large or complex. Rescan at a lower "
    "resolution (300 dpi is enough) and try again.",
}


def ingest_error(code: str, detail: str | None = None) -> IngestError:
    """Build an IngestError from the shared reasons, optionally with a technical detail."""
    reason = REASONS[code]
    if detail:
        reason = f"{reason} ({detail})"
    return IngestError(code, reason)
