"""Failure reasons as message ids: page and file reasons stored as "中文 / English" text
become the message they came from (#9.4).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23

A reason is now stored as its message id and parameters in JSON (`service.models.base.
MessageText`) and translated when shown. Rows holding one of the fixed reasons in the old
bilingual form are converted, and so is the note of a box's first shelving ("入库 / Shelved"
becomes the id "入库"); anything else written before (a reason with numbers in it, an item's
summary) is shown as it was stored. The texts below are frozen copies, never live code.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: The fixed reasons as indexer/errors.py stored them before messages had ids.
OLD_REASONS = [
    '文件为空（0 字节）。请重新扫描或重新上传原文件。/ The file is empty (0 bytes). Rescan or upload the original file again.',
    '文件不完整（图像数据被截断），可能上传或复制中断。请重新上传完整文件。/ The file is incomplete (image data is truncated), probably an interrupted upload or copy. Upload the complete file again.',
    '图像数据已损坏，无法解码。请用扫描仪重新导出或重新扫描。/ The image data is corrupt and cannot be decoded. Re-export it from the scanner or scan the page again.',
    '该 PDF 设有打开密码，系统无法读取。请上传未加密的副本（在 PDF 软件中移除密码后另存）。/ The PDF is password-protected and cannot be read. Upload an unprotected copy (remove the password in your PDF software and save again).',
    'PDF 文件结构已损坏，无法修复。请从原始软件或扫描仪重新导出 PDF。/ The PDF structure is broken beyond repair. Export the PDF again from the original software or scanner.',
    'PDF 页面无法渲染（页面内容已损坏）。请从原始软件或扫描仪重新导出 PDF。/ The PDF page cannot be rendered (its content is damaged). Export the PDF again from the original software or scanner.',
    '文字识别超时，页面可能过大或过于复杂。请降低扫描分辨率（300 dpi 即可）后重试。/ Text recognition timed out; the page may be too large or complex. Rescan at a lower resolution (300 dpi is enough) and try again.',
    '文字识别程序（Tesseract）处理本页时出错。请稍后重试；如仍失败，请重新扫描本页。/ The text recognition engine (Tesseract) failed on this page. Retry later; if it fails again, rescan the page.',
    '处理本页时内存不足，页面可能过大。请以 300 dpi 重新扫描后重试。/ Ran out of memory while processing this page; the page may be too large. Rescan at 300 dpi and retry.',
    '多次处理均未完成（可能超时或进程崩溃），可重试。/ Processing did not finish after several attempts; retry.',
    '处理本页时发生内部错误，详情已记入系统日志。请稍后重试；如仍失败，请联系管理员。/ An internal error occurred while processing this page; the details are in the system log. Retry later; if it fails again, contact the administrator.',
]
OLD_SHELVED, SHELVED = "入库 / Shelved", "入库"


def _stored(text: str) -> str:
    """The message a bilingual reason came from, as MessageText stores it."""
    return json.dumps({"id": text.partition("/ ")[0].strip(), "params": {}},
                      ensure_ascii=False, sort_keys=True)


def _convert(pairs: list[tuple[str, str]], note: tuple[str, str]) -> None:
    for table, column in (("stored_file", "error_reason"), ("page", "error")):
        t = sa.table(table, sa.column(column, sa.Text))
        for old, new in pairs:
            op.execute(t.update().where(t.c[column] == old).values({column: new}))
    moves = sa.table("box_move", sa.column("note", sa.Text))
    op.execute(moves.update().where(moves.c.note == note[0]).values(note=note[1]))


def upgrade() -> None:
    _convert([(old, _stored(old)) for old in OLD_REASONS], (OLD_SHELVED, SHELVED))


def downgrade() -> None:
    _convert([(_stored(old), old) for old in OLD_REASONS], (SHELVED, OLD_SHELVED))
