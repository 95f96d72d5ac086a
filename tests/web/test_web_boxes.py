"""Box paperwork describes the box, whoever prints it; titles are listed only to who may open them."""

from __future__ import annotations

import re

import pytest


@pytest.fixture(scope="module")
def mixed_box(archive):
    """BOX-MIX holds three contracts (one alice's, one 机密) and one ID copy of 2024/D30."""
    from service.locations import create_box, get_box, put_in_box
    from service.models import ArchiveItem
    from tests.web.conftest import make_item

    ids = [make_item(archive, title="甲公司合同", text="甲公司合同正文", owner="alice"),
           make_item(archive, title="乙公司合同", text="乙公司合同正文"),
           make_item(archive, title="丙公司机密合同", text="丙公司合同正文", secrecy="机密"),
           make_item(archive, title="丁某身份证复印件", text="身份证", category="ZJ")]
    with archive.session() as s:
        create_box(s, "BOX-MIX")
        box = get_box(s, "BOX-MIX")
        for item_id in ids:
            put_in_box(box, s.get(ArchiveItem, item_id))
    with archive.session() as s:
        return [s.get(ArchiveItem, i).archival_code for i in ids]


def _label_fields(html: str) -> dict[str, list[str]]:
    rows = re.findall(r'<div class="spine-row[^"]*"><span>([^<]+)</span>(.*?)</div>', html, re.S)
    return {name: [re.sub(r"<[^>]+>", " ", v).split() for v in re.findall(r"<strong[^>]*>(.*?)</strong>", body, re.S)]
            for name, body in rows}


@pytest.mark.parametrize("user", ["admin", "arc"])
def test_label_counts_and_ranges_are_the_box_for_every_printer(client, h, mixed_box, user):
    h.login(client, user, h.ADMIN_PW if user == "admin" else h.PW)
    r = client.get("/boxes/BOX-MIX/label")
    assert r.status_code == 200
    fields = _label_fields(r.get_data(as_text=True))
    assert fields["件数"] == [["4"]]
    ht1, _, ht3, zj = mixed_box
    # one range per category: the contracts' range does not run into the ID copy
    assert fields["起止档号"] == [[ht1, ht3], [zj]]
    assert fields["年度"] == [["2024"]]


def test_staff_see_only_their_items_and_print_no_label(client, h, mixed_box):
    h.login(client, "alice")
    page = client.get("/boxes/BOX-MIX").get_data(as_text=True)
    assert "甲公司合同" in page
    for hidden in ("乙公司合同", "丙公司机密合同", "丁某身份证复印件"):
        assert hidden not in page
    assert "/boxes/BOX-MIX/label" not in page
    assert client.get("/boxes/BOX-MIX/label").status_code == 403
