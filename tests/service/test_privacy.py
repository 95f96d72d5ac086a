"""Resident ID and mobile numbers are masked for users without the right to see them,
however the scan wrote them (issue 8, finding 15)."""

from __future__ import annotations

import pytest

from service.models import User
from service.privacy import can_see_personal, mask_personal, text_for


@pytest.mark.parametrize("raw,masked", [
    ("身份证号：110105199003078765。", "身份证号：110***********8765。"),
    ("证件号码11010519900307876X", "证件号码110***********876X"),
    ("联系电话13812345678，", "联系电话138****5678，"),
    ("电话 +86 13812345678", "电话 +86 138****5678"),
    ("电话8613812345678", "电话86138****5678"),
    # hostile formats: separators, spacing, full-width digits, neighbouring letters
    ("电话 138-1234-5678", "电话 138-****-5678"),
    ("电话 138 1234 5678", "电话 138 **** 5678"),
    ("Tel +86 138 1234 5678.", "Tel +86 138 **** 5678."),
    ("手机：(+86)138.1234.5678", "手机：(+86)138.****.5678"),
    ("1 3 8 1 2 3 4 5 6 7 8", "1 3 8 * * * * 5 6 7 8"),
    ("电话１３８１２３４５６７８", "电话１３８****５６７８"),
    ("电话１３８－１２３４－５６７８", "电话１３８－****－５６７８"),
    ("Mobile13812345678ext", "Mobile138****5678ext"),
    ("身份证 110105 19900307 0017", "身份证 110*** ******** 0017"),
    ("110105-19900307-876X", "110***-********-876X"),
    ("1 1 0 1 0 5 1 9 9 0 0 3 0 7 8 7 6 5", "1 1 0 * * * * * * * * * * * 8 7 6 5"),
    ("１１０１０５１９９００３０７８７６５", "１１０***********８７６５"),
    ("ID110105199003078765abc", "ID110***********8765abc"),
    ("No.110105199003078765", "No.110***********8765"),
    ("旧身份证 110105900307001 号", "旧身份证 110********7001 号"),
    ("电话 138 1234 5678 2024年", "电话 138 **** 5678 2024年"),
    ("证件 11010519900307876x；电话13912345678",
     "证件 110***********876x；电话139****5678"),
    ("手机：(138)1234-5678", "手机：(138)****-5678"),
    ("备用 +86(139)8765 4321", "备用 +86(139)**** 4321"),
    ("电话（１３８）１２３４ ５６７８", "电话（１３８）**** ５６７８"),
    ("+86 (0) 138 1234 5678", "+86 (0) 138 **** 5678"),
    # not personal data: stays as it is
    ("座机 (010) 6512-3456", "座机 (010) 6512-3456"),
    ("合同金额 1234567890123 元", "合同金额 1234567890123 元"),
    ("编号 HT-2024-0031", "编号 HT-2024-0031"),
    ("档号 Z109-WS·2011-Y-BGS-0001", "档号 Z109-WS·2011-Y-BGS-0001"),
    ("金额 12 345 678 元，日期 2024-05-01", "金额 12 345 678 元，日期 2024-05-01"),
    ("订单 113812345678901234567", "订单 113812345678901234567"),
])
def test_mask_personal(raw: str, masked: str) -> None:
    out = mask_personal(raw)
    assert out == masked
    assert len(out) == len(raw)  # one for one: offsets into the text stay valid
    assert [i for i, c in enumerate(out) if c != raw[i]] == [i for i, c in enumerate(out)
                                                             if c == "*" and raw[i] != "*"]


def test_who_sees_what() -> None:
    staff, archivist = User(role="staff"), User(role="archivist")
    assert not can_see_personal(staff) and can_see_personal(archivist)
    assert text_for(staff, "138 1234 5678") == "138 **** 5678"
    assert text_for(archivist, "13812345678") == "13812345678"
    assert text_for(None, None) is None
