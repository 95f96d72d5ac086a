"""The two-set report and the box paperwork on the web: who may open them, what they show,
the downloads read back."""

from __future__ import annotations

import csv
import io

import pypdfium2
import pytest
from openpyxl import load_workbook


@pytest.fixture(scope="module")
def world(archive):
    """A shelved box with one item, an item in no box, both checked by the officer."""
    from service.crosscheck import record_check
    from service.locations import create_box, ensure_shelf, get_box, put_in_box
    from service.models import ArchiveItem
    from service.users import create_user
    from tests.web.conftest import make_item

    boxed = make_item(archive, title="盒内合同", text="盒内合同正文")
    loose = make_item(archive, title="未入盒合同", text="未入盒合同正文")
    with archive.session() as s:
        officer = create_user(s, "off", "password-123", role="officer", display_name="核对员小王")
        shelf = ensure_shelf(s, "A", "1", "1", "1")
        create_box(s, "BOX-W1", shelf=shelf)
        put_in_box(get_box(s, "BOX-W1"), s.get(ArchiveItem, boxed))
        for item_id in (boxed, loose):
            record_check(s, officer, item_id, "agrees")
        codes = {k: s.get(ArchiveItem, i).archival_code for k, i in
                 (("boxed", boxed), ("loose", loose))}
        return {"shelf": shelf.id, **codes}


def test_report_page_and_downloads_for_the_officer(app, h, world):
    client = app.test_client()
    h.login(client, "off")
    page = client.get("/reports/two-set")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "两套制核对报告" in body and 'href="/reports/two-set"' in body  # in the navigation
    assert world["loose"] in body and "有扫描件无纸质记录" in body
    assert world["boxed"] not in body  # boxed, one page declared and scanned: nothing wrong
    got = client.get("/reports/two-set.csv")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert "attachment" in got.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(got.get_data().decode("utf-8-sig"))))
    assert [r[1] for r in table[1:]] == [world["loose"]]
    sheet = load_workbook(io.BytesIO(client.get("/reports/two-set.xlsx").get_data())).worksheets[0]
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == [world["loose"]]
    pdf = client.get("/reports/two-set.pdf")
    assert pdf.mimetype == "application/pdf"
    text = pypdfium2.PdfDocument(pdf.get_data())[0].get_textpage().get_text_range()
    assert "两套制一致性核对报告" in text and "未入盒合同" in text
    assert client.get("/reports/two-set.doc").status_code == 404


def test_staff_get_no_report_and_no_paperwork(app, h, world):
    client = app.test_client()
    h.login(client, "alice")
    assert 'href="/reports/two-set"' not in client.get("/search").get_data(as_text=True)
    assert client.get("/reports/two-set").status_code == 403
    assert client.get("/reports/two-set.csv").status_code == 403
    assert client.get("/boxes/BOX-W1/paperwork.pdf").status_code == 403
    assert client.get(f"/shelves/{world['shelf']}/paperwork.pdf").status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/reports/two-set").status_code == 302


def test_box_and_shelf_pages_link_their_paperwork(app, h, world):
    client = app.test_client()
    h.login(client, "arc")
    box_page = client.get("/boxes/BOX-W1").get_data(as_text=True)
    assert 'href="/boxes/BOX-W1/paperwork.pdf"' in box_page
    shelf_page = client.get(f"/shelves/{world['shelf']}").get_data(as_text=True)
    assert f'href="/shelves/{world["shelf"]}/paperwork.pdf"' in shelf_page
    for url in ("/boxes/BOX-W1/paperwork.pdf", f"/shelves/{world['shelf']}/paperwork.pdf"):
        got = client.get(url)
        assert got.status_code == 200 and got.mimetype == "application/pdf", url
        doc = pypdfium2.PdfDocument(got.get_data())
        assert len(doc) == 3
        catalogue = "".join(doc[1].get_textpage().get_text_range().split())
        assert "归档文件目录" in catalogue and "盒内合同" in catalogue
    assert client.get("/boxes/NO-BOX/paperwork.pdf").status_code == 404
