"""Errors raised while ingesting a scan, and the coded reasons shown to users.

Every rejection carries a stable ``code`` (for the UI, statistics and tests)
and a ``reason`` an archivist can act on: a message id and parameters
(``indexer.messages``) shown in the reader's language. The exception
text of whatever library failed is a technical ``detail``: it goes to the log
(and may be kept in a separate field), never into the reason users read.
"""

from __future__ import annotations

import subprocess

from PIL import UnidentifiedImageError

from indexer.messages import N_, Message


class IngestError(Exception):
    """A file that cannot be ingested: slug ``code``, ``reason`` (a message, translated where
    it is shown), technical ``detail``."""

    def __init__(self, code: str, reason: Message, detail: str | None = None) -> None:
        super().__init__(f"{code}: {reason}" + (f" [{detail}]" if detail else ""))
        self.code = code
        self.reason = reason
        self.detail = detail

    def __reduce__(self):  # keep code/reason/detail when pickled across worker processes
        return (self.__class__, (self.code, self.reason, self.detail))


class EngineFailure(RuntimeError):
    """An engine (Tesseract, a renderer) failed on a page; ``code`` names the localised reason."""

    code = "internal"


# Reasons shared by several modules, so the wording stays consistent (ids: see indexer.messages).
REASONS: dict[str, Message] = {
    "empty-file": Message(N_("文件为空（0 字节）。请重新扫描或重新上传原文件。")),
    "truncated": Message(N_("文件不完整（图像数据被截断），可能上传或复制中断。请重新上传完整文件。")),
    "corrupt-image": Message(N_("图像数据已损坏，无法解码。请用扫描仪重新导出或重新扫描。")),
    "encrypted-pdf": Message(N_("该 PDF 设有打开密码，系统无法读取。请上传未加密的副本（在 PDF 软件中移除密码后另存）。")),
    "broken-pdf": Message(N_("PDF 文件结构已损坏，无法修复。请从原始软件或扫描仪重新导出 PDF。")),
    "render-failed": Message(N_("PDF 页面无法渲染（页面内容已损坏）。请从原始软件或扫描仪重新导出 PDF。")),
    "ocr-timeout": Message(N_("文字识别超时，页面可能过大或过于复杂。请降低扫描分辨率（300 dpi 即可）后重试。")),
    "ocr-failed": Message(N_("文字识别程序（Tesseract）处理本页时出错。请稍后重试；如仍失败，请重新扫描本页。")),
    "out-of-memory": Message(N_("处理本页时内存不足，页面可能过大。请以 300 dpi 重新扫描后重试。")),
    "stalled": Message(N_("多次处理均未完成（可能超时或进程崩溃），可重试。")),
    "internal": Message(N_("处理本页时发生内部错误，详情已记入系统日志。请稍后重试；如仍失败，请联系管理员。")),
}


def ingest_error(code: str, detail: str | None = None) -> IngestError:
    """Build an IngestError from the shared reasons; ``detail`` stays technical, off the reason."""
    return IngestError(code, REASONS[code], detail)


def technical(exc: BaseException) -> str:
    """One line for the log and the technical field: exception type and message, bounded."""
    return f"{type(exc).__name__}: {exc}"[:500]


def classify(exc: BaseException,
             timeouts: tuple[type[BaseException], ...] = ()) -> IngestError:
    """Map any failure of a page or file to a coded, localised reason (details kept apart).

    Known failures (truncated or undecodable images, timeouts, Tesseract, PDF rendering,
    memory) get their own reason; anything else gets the generic ``internal`` one.
    ``timeouts`` are the caller's own time-limit exceptions (the job queue's task timeout).
    """
    import pypdfium2 as pdfium  # only when a failure is classified (start-up time)

    if isinstance(exc, IngestError):
        return exc
    detail = technical(exc)
    if isinstance(exc, MemoryError):
        return ingest_error("out-of-memory", detail)
    if isinstance(exc, EngineFailure):
        return ingest_error(exc.code if exc.code in REASONS else "internal", detail)
    if isinstance(exc, (subprocess.TimeoutExpired, TimeoutError, *timeouts)):
        return ingest_error("ocr-timeout", detail)
    if isinstance(exc, pdfium.PdfiumError):
        return ingest_error("render-failed", detail)
    if isinstance(exc, UnidentifiedImageError | SyntaxError | EOFError):
        return ingest_error("corrupt-image", detail)
    message = str(exc).lower()
    if isinstance(exc, OSError) and ("truncated" in message or "premature end" in message
                                     or "unexpected end" in message):
        return ingest_error("truncated", detail)
    if isinstance(exc, OSError) and ("decod" in message or "cannot identify" in message
                                     or "broken data stream" in message):
        return ingest_error("corrupt-image", detail)
    return ingest_error("internal", detail)
