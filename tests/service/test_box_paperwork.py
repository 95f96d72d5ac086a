"""Printed box paperwork (DA/T 22-2015): the PDF's text is the catalogue's, its Chinese font
is embedded, its QR code opens the box page, and a shelf prints all its boxes at once."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from clihelp import dangan
from PIL import Image
from pypdf import PdfReader

from service.errors import NotFound, PermissionDenied
from service.ingest import IngestRequest, ingest
from service.locations import create_box, ensure_shelf
from service.models import ArchiveItem
from service.paperwork_pdf import CATALOGUE_COLUMNS, print_boxes, print_shelf
from service.twoset import electronic_identifier
from service.users import create_user
from tests.queued import QueuedPages

BASE = "https://dangan.example.com"
LONG_TITLE = "关于某某科技有限公司二〇二四年度办公场所租赁及物业服务的补充协议（第二次修订稿）"


def box_url(barcode: str) -> str:
    return f"{BASE}/boxes/{barcode}"


@pytest.fixture
def queued(archive):
    return QueuedPages(archive)


@pytest.fixture
def shelf(archive, tmp_path, queued):
    """Shelf A/1/1/1 with BOX-1 (three items, one 绝密) and BOX-2 (one item, org BGS)."""
    with archive.session() as s:
        where = ensure_shelf(s, "A", "1", "1", "1")
        create_box(s, "BOX-1", shelf=where)
        create_box(s, "BOX-2", shelf=where)
        shelf_id = where.id
    rows = []
    specs = [("BOX-1", {"title": "房屋租赁合同", "doc_number": "租字〔2024〕3号",
                        "responsible": "某某物业公司", "doc_date": date(2024, 3, 15),
                        "paper_pages": 4, "remarks": "附平面图"}),
             ("BOX-1", {"title": LONG_TITLE, "doc_number": "补字〔2024〕1号",
                        "responsible": "某某科技有限公司", "doc_date": date(2024, 6, 1),
                        "paper_pages": 12}),
             ("BOX-1", {"title": "绝密的题名不应出现", "secrecy": "绝密", "paper_pages": 2}),
             ("BOX-2", {"title": "借款协议", "org": "BGS", "responsible": "财务部",
                        "doc_date": date(2024, 9, 30), "paper_pages": 1})]
    for n, (box, fields) in enumerate(specs):
        path = tmp_path / f"scan-{n}.png"
        Image.new("L", (60 + n, 80), 255).save(path)
        req = {"fonds": "J001", "category": "HT", "year": 2024, "retention": "D30",
               "secrecy": "内部", "box": box, **fields}
        done = ingest(archive, IngestRequest(files=[path], **req))
        with archive.session() as s:  # 备注 carries the electronic copy's identifier first
            ident = electronic_identifier(s.get(ArchiveItem, done.id))
        remarks = "；".join(r for r in (f"电子版 {ident}", fields.get("remarks")) if r)
        rows.append((box, done.archival_code, {**fields, "remarks": remarks}))
    return shelf_id, rows


def _page_texts(pdf: bytes) -> list[str]:
    doc = pypdfium2.PdfDocument(pdf)
    return ["".join(doc[i].get_textpage().get_text_range().split()) for i in range(len(doc))]


def _flat(text: str) -> str:
    """Whitespace out, and the 档号's middle dot as one character (the CJK font draws ・)."""
    return "".join(text.split()).replace("・", "·")


def test_a_shelf_prints_every_box_with_the_catalogue_text(archive, shelf):
    shelf_id, rows = shelf
    with archive.session() as s:
        pdf = print_shelf(s, None, shelf_id, box_url)
    pages = [_flat(t) for t in _page_texts(pdf)]
    # per box: cover and spine, 归档文件目录, 备考表, in barcode order
    assert len(pages) == 6
    for offset, box in ((0, "BOX-1"), (3, "BOX-2")):
        cover, catalogue, remarks = pages[offset:offset + 3]
        assert "档案盒" in cover and "盒脊" in cover and box in cover
        assert "J001本单位全宗" in cover and "定期30年" in cover and "2024" in cover
        assert catalogue.startswith("归档文件目录")
        assert "".join(CATALOGUE_COLUMNS) in catalogue
        assert "备考表" in remarks and "整理人" in remarks and "检查人" in remarks
        mine = [(code, f) for b, code, f in rows if b == box]
        assert f"本盒共有文件{len(mine)}件，纸质{sum(f['paper_pages'] for _, f in mine)}页" in remarks
        for seq, (code, f) in enumerate(sorted(mine), 1):
            title = "（题名不以电子方式提供）" if f.get("secrecy") == "绝密" else f["title"]
            cells = [str(seq), code, f.get("doc_number", ""), f.get("responsible", ""),
                     title, f["doc_date"].strftime("%Y%m%d") if "doc_date" in f else "",
                     str(f["paper_pages"]), f.get("remarks", "")]
            # the row's cells in order (long titles wrap inside their cell)
            assert "".join(_flat(c) for c in cells) in catalogue, (cells, catalogue)
    assert "绝密的题名不应出现" not in "".join(pages)
    # spine fields: item range per series, the organisation of BOX-2
    assert "起止件号HT0001–0003" in pages[0]
    assert "机构BGS" in pages[3] and "起止件号HT0001盒号BOX-2" in pages[3]


def test_fonts_are_embedded_and_the_qr_code_opens_the_box_page(archive, shelf):
    with archive.session() as s:
        pdf = print_boxes(s, None, ["BOX-1"], box_url)
    reader = PdfReader(io.BytesIO(pdf))
    fonts = 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for desc in font.get("/DescendantFonts", [font]):
                descriptor = desc.get_object()["/FontDescriptor"].get_object()
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font
                assert "CJK" in str(font["/BaseFont"])
                fonts += 1
    assert fonts >= 3
    cover = pypdfium2.PdfDocument(pdf)[0].render(scale=3).to_pil()
    decoded = {r.text for r in zxingcpp.read_barcodes(cover)}
    assert decoded == {f"{BASE}/boxes/BOX-1"}  # on the cover and on the spine


def test_who_may_print_and_unknown_boxes(archive, shelf):
    with archive.session() as s:
        staff = create_user(s, "staff1", "password-123", role="staff")
        officer = create_user(s, "officer1", "password-123", role="officer")
        with pytest.raises(PermissionDenied):
            print_boxes(s, staff, ["BOX-1"], box_url)
        assert print_boxes(s, officer, ["BOX-1"], box_url).startswith(b"%PDF")
        with pytest.raises(NotFound):
            print_boxes(s, None, ["NO-SUCH-BOX"], box_url)


def test_cli_prints_a_box_and_a_shelf(archive, shelf, tmp_path: Path):
    env = {"DANGAN_DATA": str(archive.settings.data_dir), "DANGAN_PUBLIC_URL": BASE + "/"}
    out = tmp_path / "box.pdf"
    res = json.loads(dangan(env, "print", "box", "BOX-2", "-o", str(out), "--json").stdout)
    assert res["boxes"] == ["BOX-2"] and out.read_bytes().startswith(b"%PDF")
    cover = pypdfium2.PdfDocument(out.read_bytes())[0].render(scale=3).to_pil()
    assert {r.text for r in zxingcpp.read_barcodes(cover)} == {f"{BASE}/boxes/BOX-2"}
    whole = tmp_path / "shelf.pdf"
    res = json.loads(dangan(env, "print", "shelf", "A/1/1/1", "-o", str(whole), "--json").stdout)
    assert res["boxes"] == ["BOX-1", "BOX-2"] and len(_page_texts(whole.read_bytes())) == 6
    missing = dangan(env, "print", "shelf", "A/9/9/9", "-o", str(whole), check=False)
    assert missing.returncode == 2 and "A/9/9/9" in missing.stderr
    bad = dangan(env, "print", "shelf", "A-1", "-o", str(whole), check=False)
    assert bad.returncode == 2 and "库房/架/节/层" in bad.stderr


def test_remarks_sheet_is_filled_from_the_records(archive, shelf):
    """备考表: paper damage, an open discrepancy, a rescan and an item taken out, with the
    officer who checked last as 检查人."""
    from sqlalchemy import select

    from service.crosscheck import Finding as Discrepancy
    from service.crosscheck import record_check
    from service.models import Rescan, StoredFile
    from service.twoset import move_item, update_paper_side
    from service.users import get_user

    _, rows = shelf
    first, second, secret = (code for box, code, _ in rows if box == "BOX-1")
    with archive.session() as s:
        create_user(s, "officer", "password-123", role="officer", display_name="核对员小王")
        create_user(s, "keeper", "password-123", role="archivist", display_name="档案员小李")
    with archive.session() as s:
        officer, keeper = get_user(s, "officer"), get_user(s, "keeper")
        item = {c: s.scalar(select(ArchiveItem).where(ArchiveItem.archival_code == c))
                for c in (first, second, secret)}
        update_paper_side(s, keeper, item[first], declared_pages=4, condition="damaged",
                          remarks="右下角水渍")
        record_check(s, officer, item[first].id, "agrees")
        record_check(s, officer, item[second].id, "discrepancy",
                     [Discrepancy("missing_scan", [3], "第3页未扫描")])
        original = s.scalar(select(StoredFile).where(StoredFile.item_id == item[first].id))
        s.add(Rescan(item_id=item[first].id, file_id=original.id, pages=[2],
                     rescanned_by="keeper"))
        move_item(s, keeper, item[secret], None, note="移交保密室")
    with archive.session() as s:
        pdf = print_boxes(s, None, ["BOX-1"], box_url)
    pages = [_flat(t) for t in _page_texts(pdf)]
    catalogue, remarks = pages[1], pages[2]
    today = date.today().isoformat()
    assert secret not in catalogue and first in catalogue  # taken out of the box
    assert "右下角水渍" in catalogue and "电子版E" in catalogue  # 备注: paper remarks, e-copy id
    for note in (f"{first}：纸质原件破损（右下角水渍）。",
                 f"{today}{second}：核对发现纸质页缺扫描（第3页），待处理（核对员小王）。",
                 f"{today}{first}：重扫第2页（keeper），原扫描件保留。",
                 f"{today}调出{secret}（出盒，keeper）。",
                 "本盒共有文件2件，纸质16页。"):
        assert _flat(note) in remarks, (note, remarks)
    assert f"检查人：核对员小王检查日期：{today}" in remarks
