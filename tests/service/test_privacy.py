"""Resident ID and mobile numbers are masked for users without the right to see them."""

from __future__ import annotations

import pytest

from service.models import User
from service.privacy import can_see_personal, mask_personal, text_for


@pytest.mark.parametrize("raw,masked", [
    ("身份证号：110105199003078765。", "身份证号：110***********8765。"),
    ("证件号码11010519900307876X", "证件号码110***********876X"),
    ("联系电话13812345678，", "联系电话138****5678，"),
    ("电话 +86 13812345678", "电话 +86 1****5678"),
    ("合同金额 1234567890123 元", "合同金额 1234567890123 元"),
    ("编号 HT-2024-0031", "编号 HT-2024-0031"),
])
def test_mask_personal(raw: str, masked: str) -> None:
    out = mask_personal(raw)
    assert len(out) == len(raw)
    if "+86" in raw:
        assert "13812345678" not in out and out.endswith("5678")
    else:
        assert out == masked


def test_who_sees_what() -> None:
    staff, archivist = User(role="staff"), User(role="archivist")
    assert not can_see_personal(staff) and can_see_personal(archivist)
    assert text_for(staff, "13812345678") == "138****5678"
    assert text_for(archivist, "13812345678") == "13812345678"
    assert text_for(None, None) is None
