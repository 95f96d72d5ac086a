"""Batch registration from a catalogue sheet, and the export that round-trips through it.

Real sheets (openpyxl, the csv module in UTF-8 and GBK), real scans on disk (PNG files
with distinct pixels, one corrupt), a real archive: the dry run writes nothing, the
registration registers exactly the good rows, and a second run registers nothing twice.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from service.batch import plan_batch, register_batch
from service.catalogue import create_customer
from service.changes import approve_change
from service.edits import history
from service.export import export_sheet, write_template
from service.locations import create_box
from service.models import ArchiveItem, AuditEntry, ChangeRequest, User
from service.search import SearchParams
from service.sheet_columns import HEADERS
from service.sheets import SheetWriter, read_rows
from service.users import create_user
from tests.queued import QueuedPages


@pytest.fixture
def queued(archive):
    """No OCR here: the page tasks stay in the archive's queue."""
    return QueuedPages(archive)


def scan(folder: Path, name: str, n: int, pages: int = 1) -> Path:
    """A small scan whose pixels encode n (so every file is distinct)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    imgs = []
    for p in range(pages):
        img = Image.new("L", (80, 40), 255)
        for bit in range(24):
            if (n * 7 + p) >> bit & 1:
                img.putpixel((bit * 3, 5), 0)
        imgs.append(img)
    if pages > 1:
        imgs[0].save(path, save_all=True, append_images=imgs[1:])
    else:
        imgs[0].save(path)
    return path


def good_row(i: int, **kw: Any) -> dict[str, Any]:
    row = {"全宗号": "J001", "门类": "HT", "年度": 2024, "保管期限": "D30", "题名": f"购销合同第{i}号",
           "文号": f"HT-2024-{i:04d}", "责任者": "采购部", "日期": f"2024-{i % 12 + 1:02d}-15",
           "页数": 1, "密级": "内部", "文件名": f"s{i:04d}.png"}
    row.update(kw)
    return row


def write_sheet(path: Path, rows: list[dict[str, Any]]) -> Path:
    w = SheetWriter(path, HEADERS)
    for r in rows:
        w.append([r.get(h) for h in HEADERS])
    w.close()
    return path


def _user(archive, name: str, role: str) -> User:
    with archive.session() as s:
        create_user(s, name, "password-123", role=role)
    with archive.session() as s:
        u = s.scalar(select(User).where(User.username == name))
        s.expunge(u)
        return u


def count_items(archive) -> int:
    with archive.session() as s:
        return s.scalar(select(func.count(ArchiveItem.id))) or 0


#: The 20 bad rows: row index in the sheet's data -> (changed cells, column blamed, a word
#: the reason must contain).
BAD: dict[int, tuple[dict[str, Any], str, str]] = {
    7: ({"门类": "XX"}, "门类", "不存在"),
    31: ({"年度": "二〇二四"}, "年度", "整数"),
    55: ({"保管期限": "D20"}, "保管期限", "无效"),
    80: ({"密级": "特密"}, "密级", "无效"),
    102: ({"日期": "2024-13-01"}, "日期", "YYYY-MM-DD"),
    130: ({"日期": "2023-05-01"}, "日期", "不在年度"),
    151: ({"文件名": "missing.png"}, "文件名", "找不到"),
    177: ({"题名": ""}, "题名", "不能为空"),
    200: ({"页数": 3}, "页数", "不符"),
    222: ({"文件名": "s0221.png"}, "文件名", "第 223 行使用"),  # row 221 (sheet row 223) has it
    250: ({"客户编号": "KH-202401999"}, "客户编号", "不存在"),
    271: ({"客户编号": "K-1"}, "客户编号", "KH-"),
    299: ({"盒号": "NO-SUCH-BOX"}, "盒号", "不存在"),
    320: ({"机构": "bg"}, "机构", "3个大写字母"),
    344: ({"文件名": "broken.png"}, "文件名", "无法读取"),
    366: ({"全宗号": "Z999"}, "全宗号", "不存在"),
    388: ({"件号": 9000}, "件号", "下一个可用"),
    411: ({"档号": "J001-HT·2020-D30-0005"}, "档号", "不一致"),
    433: ({"年度": 2999, "日期": ""}, "年度", "将来"),
    470: ({"页数": "两页"}, "页数", "整数"),
}


def build_batch(tmp_path: Path, n: int = 500) -> tuple[Path, Path]:
    scans = tmp_path / "scans"
    rows = []
    for i in range(n):
        scan(scans, f"s{i:04d}.png", i)
        bad = BAD.get(i)
        rows.append(good_row(i, **(bad[0] if bad else {})))
    (scans / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    scan(scans, "extra/unused.png", 99999)
    return write_sheet(tmp_path / "batch.xlsx", rows), scans


def problems_by_row(problems: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for p in problems:
        out.setdefault(p["row"], []).append(p)
    return out


def assert_the_twenty(problems: list[dict[str, Any]]) -> None:
    rows = problems_by_row(problems)
    assert sorted(rows) == sorted(i + 2 for i in BAD)  # sheet rows: header is row 1
    for i, (_cells, column, word) in BAD.items():
        found = rows[i + 2]
        assert any(p["column"] == column and word in p["message"] for p in found), (i, found)


@pytest.mark.slow
def test_500_rows_with_20_bad_register_480_and_report_the_20(archive, tmp_path, queued):
    with archive.session() as s:
        create_customer(s, "KH-202401001", "华东商贸有限公司")
        create_box(s, "BOX-1")
    sheet, scans = build_batch(tmp_path)

    plan = plan_batch(archive, None, sheet, scans)
    assert plan.counts()["register"] == 480 and plan.counts()["bad"] == 20
    assert_the_twenty([p.to_json() for p in plan.problems])
    assert "extra/unused.png" in plan.unused_files and "broken.png" not in plan.unused_files
    assert count_items(archive) == 0 and len(queued) == 0  # the dry run wrote nothing

    result = register_batch(archive, None, sheet, scans)
    assert len(result.registered) == 480 and len(result.failed) == 20
    assert_the_twenty([p for f in result.failed for p in f["problems"]])
    assert count_items(archive) == 480 and len(queued) == 480
    codes = [r["archival_code"] for r in result.registered]
    assert codes[0] == "J001-HT·2024-D30-0001" and codes[-1] == "J001-HT·2024-D30-0480"
    with archive.session() as s:
        item = s.scalar(select(ArchiveItem).where(ArchiveItem.archival_code == codes[9]))
        assert (item.title, item.doc_number) == ("购销合同第10号", "HT-2024-0010")
        batch = s.scalar(select(AuditEntry).where(AuditEntry.action == "batch.import"))
        assert batch.detail["counts"]["registered"] == 480 and len(batch.detail["items"]) == 480

    # the same sheet again: nothing registered twice, the 20 listed again (retryable)
    again = register_batch(archive, None, sheet, scans)
    assert (len(again.registered), len(again.done), len(again.failed)) == (0, 480, 20)
    assert count_items(archive) == 480


def test_a_small_batch_dry_run_then_register(archive, tmp_path, queued):
    scans = tmp_path / "scans"
    for i in range(3):
        scan(scans, f"s{i:04d}.png", i)
    scan(scans, "J001-HT·2024-D30-0004/1.png", 10)  # a folder named by the 档号
    scan(scans, "J001-HT·2024-D30-0004/2.png", 11)
    rows = [good_row(i) for i in range(3)]
    rows.append(good_row(3, 文件名="", 件号=4, 页数=2))
    rows.append(good_row(4, 密级="", 文件名="nothing.png"))
    sheet = write_sheet(tmp_path / "b.xlsx", rows)
    plan = plan_batch(archive, None, sheet, scans)
    assert plan.counts()["register"] == 4 and plan.counts()["bad"] == 1
    assert {p.column for p in plan.problems} == {"密级", "文件名"}
    result = register_batch(archive, None, sheet, scans)
    assert [r["archival_code"][-4:] for r in result.registered] == ["0001", "0002", "0003", "0004"]
    assert result.registered[3]["pages"] == 2


def test_a_gbk_csv_is_read_and_registered(archive, tmp_path, queued):
    scans = tmp_path / "scans"
    rows = []
    for i in range(4):
        scan(scans, f"s{i:04d}.png", i)
        rows.append(good_row(i, 题名=f"关于档案数字化的请示（第{i}号）", 责任者="办公室"))
    sheet = tmp_path / "gbk.csv"
    with open(sheet, "w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        w.writerows([[r.get(h, "") for h in HEADERS] for r in rows])
    raw = sheet.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # it is really GBK
    result = register_batch(archive, None, sheet, scans)
    assert len(result.registered) == 4 and not result.failed
    with archive.session() as s:
        titles = sorted(s.scalars(select(ArchiveItem.title)))
    assert titles[0] == "关于档案数字化的请示（第0号）"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_read_the_same_text(tmp_path: Path, encoding: str) -> None:
    sheet = tmp_path / "t.csv"
    sheet.write_bytes("题名,责任者\n档案馆藏文书,张三\n".encode(encoding))
    assert list(read_rows(sheet)) == [(2, {"题名": "档案馆藏文书", "责任者": "张三"})]


def test_export_edit_import_changes_exactly_what_was_edited(archive, tmp_path, queued):
    for fmt in ("xlsx", "csv"):
        _round_trip(archive, tmp_path / fmt, fmt)


def _round_trip(archive, tmp_path: Path, fmt: str) -> None:
    tmp_path.mkdir()
    scans = tmp_path / "scans"
    year = 2021 if fmt == "xlsx" else 2022
    for i in range(5):
        scan(scans, f"s{i:04d}.png", i + (100 if fmt == "csv" else 0))
    with archive.session() as s:
        create_customer(s, f"KH-{year}01001", "华东商贸有限公司")
    register_batch(archive, None, write_sheet(tmp_path / "in.xlsx",
                                              [good_row(i, 年度=year, 日期=f"{year}-03-0{i + 1}")
                                               for i in range(5)]), scans)
    out = tmp_path / f"export.{fmt}"
    n = export_sheet(archive, None, SearchParams(filters={"year_from": year, "year_to": year}),
                     out)
    assert n == 5
    rows = [v for _, v in read_rows(out)]
    assert list(rows[0]) == list(HEADERS)
    assert [r["档号"] for r in rows] == [f"J001-HT·{year}-D30-000{i}" for i in range(1, 6)]
    # nothing edited: nothing changes
    plan = plan_batch(archive, None, out, None)
    assert plan.counts()["unchanged"] == 5 and not plan.problems
    # edit three cells of two rows and import the edited sheet
    rows[1]["题名"] = "购销合同（已更正）"
    rows[3]["备注"] = "原件有破损"
    rows[3]["客户编号"] = f"KH-{year}01001"
    edited = write_sheet(tmp_path / f"edited.{fmt}", rows)
    with archive.session() as s:
        before = {i.archival_code: (i.title, i.remarks, i.customer_id, i.doc_date, i.updated_at)
                  for i in s.scalars(select(ArchiveItem).where(ArchiveItem.year == year))}
    result = register_batch(archive, None, edited, None)
    assert not result.failed and not result.registered and result.unchanged == 3
    # the edits wait for the archive manager's approval: nothing in the record changed yet
    assert result.to_json()["counts"]["submitted"] == 2
    assert {u["archival_code"]: set(u["changes"]) for u in result.submitted} == {
        rows[1]["档号"]: {"题名"}, rows[3]["档号"]: {"备注", "客户编号"}}
    with archive.session() as s:
        now = {i.archival_code: (i.title, i.remarks, i.customer_id, i.doc_date, i.updated_at)
               for i in s.scalars(select(ArchiveItem).where(ArchiveItem.year == year))}
        assert now == before
        edited_id = s.scalar(select(ArchiveItem.id).where(ArchiveItem.archival_code == rows[3]["档号"]))
        assert history(s, edited_id) == []
        requests = {r.item_id: r for r in s.scalars(select(ChangeRequest).where(
            ChangeRequest.item_id.in_(select(ArchiveItem.id).where(ArchiveItem.year == year))))}
        req = requests[edited_id]
        assert (req.status, req.source, req.sheet, req.sheet_row, req.requested_by) == (
            "pending", "import", f"edited.{fmt}", 5, "cli")
        assert req.changes["remarks"] == ["", "原件有破损"] and "customer" in req.changes
        assert s.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "change.request", AuditEntry.target == f"item:{edited_id}")) == 1
    # the same sheet again: the same changes already wait, nothing submitted twice
    again = register_batch(archive, None, edited, None)
    assert again.to_json()["counts"]["submitted"] == 0 and len(again.waiting) == 2
    with archive.session() as s:
        assert s.scalar(select(func.count(ChangeRequest.id)).where(
            ChangeRequest.item_id.in_(list(requests)))) == 2
    manager = _user(archive, f"boss{year}", "manager")
    with archive.session() as s:
        for r in requests.values():
            approve_change(s, manager, r.id, "核对无误")
    with archive.session() as s:
        after = {i.archival_code: (i.title, i.remarks, i.customer_id, i.doc_date, i.updated_at)
                 for i in s.scalars(select(ArchiveItem).where(ArchiveItem.year == year))}
        approval = s.scalar(select(AuditEntry).where(AuditEntry.action == "change.approve",
                                                     AuditEntry.target == f"item:{edited_id}"))
        # the item's change history shows the import's edit, as it shows a browser edit
        change = history(s, edited_id)[0]
        assert change.kind == "edit" and change.reason.startswith("批量导入")
        assert change.actor == "cli" and change.approved_by == f"boss{year}"
        assert change.changes["remarks"] == ["", "原件有破损"] and "customer" in change.changes
    changed = {c for c in before if before[c] != after[c]}
    assert changed == {rows[1]["档号"], rows[3]["档号"]}
    assert after[rows[1]["档号"]][0] == "购销合同（已更正）"
    assert after[rows[3]["档号"]][1] == "原件有破损" and after[rows[3]["档号"]][2] is not None
    assert approval.actor == f"boss{year}" and approval.detail["changes"]["remarks"] == ["", "原件有破损"]
    # the code parts of a registered item never change through an import
    rows[0]["保管期限"] = "D10"
    plan = plan_batch(archive, None, write_sheet(tmp_path / f"bad.{fmt}", rows), None)
    assert [p.column for p in plan.problems] == ["档号"]


def test_template_lists_the_headers_and_allowed_values(archive, tmp_path):
    out = tmp_path / "template.xlsx"
    write_template(archive, None, out)
    wb = load_workbook(out)
    ws = wb["目录"]
    assert [c.value for c in ws[1]] == list(HEADERS)
    assert ws.data_validations.dataValidation, "drop-down lists for the coded columns"
    values = {c.value for row in wb["可选值"].iter_rows() for c in row}
    assert {"HT", "WS", "Y", "D30", "D10", "公开", "机密", "J001"} <= values
    # the empty template is a valid sheet: no rows, nothing to do
    plan = plan_batch(archive, None, out, None)
    assert plan.rows == []


def test_a_300_page_volume_is_split_into_items_by_page_ranges(archive, tmp_path, queued):
    from service.ingest import sha256_file
    from service.models import Page, StoredFile

    scans = tmp_path / "scans"
    volume = scan(scans, "卷001.tif", 7, pages=300)
    sha, _size = sha256_file(volume)
    ranges = [(1, 12), (13, 40), (41, 41), (42, 250), (251, 296)]  # 297-300 left over
    rows = [good_row(i, 文件名="卷001.tif", 起止页=f"{a}-{b}", 页数=b - a + 1)
            for i, (a, b) in enumerate(ranges)]
    rows.append(good_row(9, 文件名="卷001.tif", 起止页="290-299", 页数=10))  # overlaps
    sheet = write_sheet(tmp_path / "v.xlsx", rows)
    plan = plan_batch(archive, None, sheet, scans)
    assert [p.column for p in plan.problems] == ["起止页"] and plan.problems[0].row == 7
    assert plan.unused_files == ["卷001.tif 第 297-300 页"]
    result = register_batch(archive, None, sheet, scans)
    assert [r["pages"] for r in result.registered] == [12, 28, 1, 209, 46]
    with archive.session() as s:
        files = list(s.scalars(select(StoredFile).where(StoredFile.role == "original")))
        assert {f.sha256 for f in files} == {sha} and len({f.key for f in files}) == 1
        by_item = {}
        for p in s.scalars(select(Page)):
            by_item.setdefault(p.item_id, []).append((p.n, p.file_page))
        spans = sorted((min(fp for _, fp in v), max(fp for _, fp in v), max(n for n, _ in v))
                       for v in by_item.values())
        assert spans == [(a, b, b - a + 1) for a, b in ranges]
        key = files[0].key
    with archive.store.open(key) as fh:  # the original is stored once and never altered
        import hashlib
        assert hashlib.file_digest(fh, "sha256").hexdigest() == sha
    again = register_batch(archive, None, sheet, scans)
    assert len(again.done) == 5 and not again.registered and len(again.failed) == 1


@pytest.mark.slow
def test_the_command_line_import_export_and_template(archive_env, tmp_path):
    import json

    from tests.service.clihelp import dangan

    dangan(archive_env, "init", "--admin-password", "admin-password")
    scans = tmp_path / "scans"
    for i in range(2):
        scan(scans, f"s{i:04d}.png", i + 500)
    sheet = write_sheet(tmp_path / "c.xlsx", [good_row(0), good_row(1, 年度=1800)])
    dry = dangan(archive_env, "import", str(sheet), "--scans", str(scans), "--dry-run", "--json",
                 check=False)
    assert dry.returncode == 1
    plan = json.loads(dry.stdout)
    assert plan["counts"]["register"] == 1 and [p["column"] for p in plan["problems"]] == ["年度"]
    run = dangan(archive_env, "import", str(sheet), "--scans", str(scans), check=False)
    assert run.returncode == 1 and "J001-HT·2024-D30-0001" in run.stdout
    assert "第 3 行 年度「1800」" in run.stdout
    out = tmp_path / "all.csv"
    res = json.loads(dangan(archive_env, "export", str(out), "--json").stdout)
    assert res["rows"] == 1 and "J001-HT·2024-D30-0001" in out.read_text("utf-8-sig")
    dangan(archive_env, "template", str(tmp_path / "t.xlsx"))
    assert [c.value for c in load_workbook(tmp_path / "t.xlsx")["目录"][1]] == list(HEADERS)


def test_a_batch_is_finished_only_when_its_items_are_searchable(queued, archive, tmp_path):
    """Pages read but the item not yet finished (indexed) is not the end of the batch: the
    progress page said 完成 while a search still found nothing."""
    from service.batch import batch_progress
    from service.ingest import IngestRequest, ingest
    from service.models import Page
    from service.vocab import ItemStatus, PageStatus

    item_id = ingest(archive, IngestRequest(
        files=[scan(tmp_path, "a.png", 1)], fonds="J001", category="WS", year=2019,
        retention="Y", secrecy="内部", title="题名")).id
    with archive.session() as s:
        for page in s.scalars(select(Page).where(Page.item_id == item_id)):
            page.status = PageStatus.DONE  # read by a worker; the item's finish still queued
    with archive.session() as s:
        progress = batch_progress(s, [item_id])
        assert progress["done"] == progress["pages"] == 1
        assert progress["processing"] == 1
        s.get(ArchiveItem, item_id).status = ItemStatus.READY
    with archive.session() as s:
        assert batch_progress(s, [item_id])["processing"] == 0
