"""A decision on an item, and the denials with their reasons and remedies (what the
reader can do instead), shared by the item-level rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import N_, Message


@dataclass(frozen=True)
class Decision:
    """May the reader open an item's content, and if not, why and what to do instead."""

    allowed: bool
    reason: Message | None = None
    #: What the reader can do: "loan" (申请借阅), "reading_room" (请到阅览室查阅),
    #: "archive" (联系档案室), "sign_in"; None when nothing helps.
    remedy: str | None = None


ALLOW = Decision(True)
DENY_SIGN_IN = Decision(False, Message(N_("请先登录。")), "sign_in")
DENY_TOP_SECRET = Decision(False, Message(N_(
    "绝密档案从不以电子方式显示或借出。如需查阅，请联系档案室。")), "archive")
DENY_READING_ROOM = Decision(False, Message(N_(
    "机密档案只能在登记的阅览室终端上查阅（屏幕阅读，加水印，不能下载、打印或借出）。请到阅览室查阅。")),
    "reading_room")
DENY_CONFIDENTIAL = Decision(False, Message(N_(
    "机密档案不以电子方式向您提供，也不能借出电子件。如需查阅纸质原件，请联系档案室。")), "archive")
DENY_LOAN = Decision(False, Message(N_(
    "秘密档案须经批准的电子借阅（最长4小时）才能查看。请申请借阅。")), "loan")
DENY_SCOPE = Decision(False, Message(N_(
    "您无权查看该档案：它不在您的查阅范围内。如需查阅，请联系档案室。")), "archive")


DENY_LENT_FOR_VIEWING = Decision(False, Message(N_(
    "借阅的档案只能在借阅期内在线查看，不能下载、打印或导出。")), None)
