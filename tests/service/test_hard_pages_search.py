"""Hard pages, read by the real pipeline (real Tesseract), are found by what users type
(#10.2, #10.5): the numbers on them by their fragments and in other written forms.

Each page is drawn here (tests/numberscans.py: a seal over text, a ruled form, an ID-card
copy, a skewed photo with uneven light, a 200-dpi fax), ingested as its own item and read
by the page tasks; then searched through the service as users search.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from numberscans import contract_with_seal, fax_200dpi, id_card_copy, phone_photo, ruled_form

from service.archive import Archive
from service.config import Settings
from service.ingest import IngestRequest, ingest
from service.jobs.pipeline import run_page
from service.models import ArchiveItem
from service.search import parse_search_params, run_search
from tests.queued import QueuedPages

pytestmark = pytest.mark.slow

ID_FORM = "320102198506151236"  # made up, valid check digits
ID_CARD = "440106199204083517"

PAGES = {
    "seal": lambda: contract_with_seal([
        "物业服务委托合同", "合同编号：HT-2024-0012", "甲方：深圳明远物业管理有限公司",
        "乙方：青岛海川文化传媒有限公司", "联系电话：0755-74317357",
        "合同总金额人民币壹拾肆万元整（¥140,000.00）", "签订日期：2024年5月12日",
        "双方签字盖章后生效。"], sealed_line=2),
    "form": lambda: ruled_form("客户档案登记表", [
        ("客户编号", "KH-202405001"), ("客户名称", "深圳明远物业管理有限公司"),
        ("联系人", "王建国"), ("身份证号码", ID_FORM), ("手机号码", "13912345678"),
        ("登记日期", "2024-05-12")]),
    "card": lambda: id_card_copy(
        ["姓名 李秀英", "性别 女  民族 汉", "出生 1992年4月8日", "住址 广州市越秀区中山路18号",
         f"公民身份号码 {ID_CARD}"],
        ["身份证复印件 与原件核对一致", "李秀英 2024.6.3"]),
    "photo": lambda: phone_photo([
        "关于客户档案归档的通知", "各部门：", "请于2024年6月30日前将客户档案",
        "交档案室，联系电话 13812345678。", "客户编号 KH-202406017", "档案室 2024/06/03"]),
    "fax": lambda: fax_200dpi([
        "2024-07-25 08:11 FROM:0532-50464443", "客户信息系统技术服务合同",
        "合同编号：HT-2024-0044", "甲方：青岛明德物业管理股份有限公司",
        "服务期限自2024年7月25日起", "金额人民币伍拾壹万元整（¥510,000.00）"]),
}


@pytest.fixture(scope="module")
def hard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Archive, dict[str, int]]]:
    """An archive holding each hard page as an item, read by the real page tasks."""
    from service.db import dispose_all
    from service.setup import init_archive
    from service.users import create_user

    tmp = tmp_path_factory.mktemp("hard")
    archive = Archive(Settings.from_env({"DANGAN_DATA": str(tmp / "data")}))
    init_archive(archive, admin_password="admin-pass-123")
    with archive.session() as s:
        staff_id = create_user(s, "staff", "password-123", role="staff", department="销售部").id
    queued = QueuedPages(archive)
    ids: dict[str, int] = {}
    for name, draw in PAGES.items():
        img = draw()
        path: Path = tmp / (f"{name}.jpg" if name == "photo" else f"{name}.png")
        if name == "photo":
            img.convert("RGB").save(path, quality=80, dpi=img.info["dpi"])
        else:
            img.save(path, dpi=img.info["dpi"])
        res = ingest(archive, IngestRequest(files=[path], fonds="J001", category="HT", year=2024,
                                            retention="D30", secrecy="内部", title=f"扫描件{name}"))
        ids[name] = res.id
        while queued:
            run_page(archive, queued.pop(0))
    with archive.session() as s:  # the form is the staff member's own (the index follows)
        s.get(ArchiveItem, ids["form"]).owner_id = staff_id
    yield archive, ids
    dispose_all()


def _hits(archive: Archive, q: str, username: str | None = None) -> list[dict]:
    res = run_search(archive, parse_search_params({"q": q}), username=username)
    assert isinstance(res, dict)
    return res["hits"][:10]


@pytest.mark.parametrize("page, q", [
    # a seal over the text: contract number without hyphens, date in another form,
    # the landline's last 8 digits, the amount in capitals (read from the figures)
    ("seal", "HT20240012"), ("seal", "2024-05-12"), ("seal", "74317357"),
    ("seal", "壹拾肆万元"), ("seal", "深圳明远物业管理有限公司"),
    # a ruled form: customer number without its prefix, last digits of ID and mobile
    ("form", "KH202405001"), ("form", "202405001"), ("form", ID_FORM), ("form", ID_FORM[-4:]),
    ("form", ID_FORM[-8:]), ("form", "12345678"), ("form", "139-1234-5678"),
    ("form", "2024年5月12日"), ("form", "王建国"),
    # an ID-card copy in small print: the ID number, its last digits, dates in other forms
    ("card", ID_CARD), ("card", ID_CARD[-6:]), ("card", "1992-04-08"), ("card", "2024年6月3日"),
    ("card", "李秀英"),
    # a skewed phone photo with uneven light
    ("photo", "2024.6.30"), ("photo", "2024-06-03"), ("photo", "KH-202406017"),
    ("photo", "2345678"), ("photo", "客户档案"),
    # a 200-dpi fax
    ("fax", "HT-2024-0044"), ("fax", "20240725"), ("fax", "50464443"), ("fax", "伍拾壹万元"),
    ("fax", "510000"), ("fax", "青岛明德物业管理股份有限公司"),
])
def test_hard_page_found_by_what_users_type(hard, page, q):
    archive, ids = hard
    assert ids[page] in [h["id"] for h in _hits(archive, q)], q


def test_masked_numbers_on_a_hard_page(hard):
    """Staff, who may not read ID and mobile numbers, find the form by what the masked page
    shows (the last four digits), never by the hidden digits, and see them masked."""
    archive, ids = hard
    assert ids["form"] in [h["id"] for h in _hits(archive, "客户档案登记表", "staff")]
    for q in (ID_FORM, ID_FORM[-8:], ID_FORM[6:14], "13912345678", "2345678"):
        assert ids["form"] in [h["id"] for h in _hits(archive, q, "admin")], q
        assert ids["form"] not in [h["id"] for h in _hits(archive, q, "staff")], q
    hits = [h for h in _hits(archive, ID_FORM[-4:], "staff") if h["id"] == ids["form"]]
    assert hits, "the last four digits are shown, so they find the page"
    snippet = hits[0]["snippet"]
    assert ID_FORM not in snippet and ID_FORM[6:14] not in snippet and "*" in snippet
    assert f"<mark>{ID_FORM[-4:]}</mark>" in snippet
