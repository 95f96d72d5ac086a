"""The two-set consistency report: a clean archive gives no finding; an archive with one
planted fault of every kind gives exactly those; the CLI, CSV, XLSX and PDF say the same."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pypdfium2
import pytest
from clihelp import dangan
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from service.codes import allocate, format_code
from service.crosscheck import Finding as Discrepancy
from service.crosscheck import record_check
from service.errors import PermissionDenied
from service.ingest import IngestRequest, ingest
from service.locations import create_box, ensure_shelf, get_box
from service.models import (
    ArchivalCodeCounter,
    ArchiveItem,
    Category,
    CrossCheck,
    Fonds,
    StoredFile,
    User,
)
from service.report_export import COLUMNS, rows, to_csv, to_pdf, to_xlsx
from service.twoset import move_item
from service.twoset_report import FindingKind, two_set_report
from service.users import create_user, get_user
from tests.queued import QueuedPages


@pytest.fixture
def queued(archive):
    """No OCR here: the page rows exist from ingest, the page tasks stay queued."""
    return QueuedPages(archive)


class World:
    """A clean archive: two shelved boxes of 2024/D30 contracts, paper pages agreeing with
    the scans, item numbers without gaps, every item cross-checked and agreeing. Faults are
    planted on top of it."""

    def __init__(self, archive, tmp_path: Path) -> None:
        self.archive, self.tmp, self.n = archive, tmp_path, 0
        with archive.session() as s:
            for code, shelf in (("BOX-A", "1"), ("BOX-B", "2")):
                create_box(s, code, shelf=ensure_shelf(s, "A", "1", "1", shelf))
            create_user(s, "officer", "password-123", role="officer", display_name="核对员小王")
            create_user(s, "keeper", "password-123", role="archivist", display_name="档案员小李")
        self.codes = [self.ingest(box="BOX-A"), self.ingest(box="BOX-A"),
                      self.ingest(box="BOX-B"), self.ingest(box="BOX-B")]
        self.check_all()

    def check_all(self) -> None:
        """The officer signs "agrees" on every item not checked yet (that they may open)."""
        with self.archive.session() as s:
            officer = get_user(s, "officer")
            checked = set(s.scalars(select(CrossCheck.item_id)))
            for item in s.scalars(select(ArchiveItem).where(ArchiveItem.secrecy != "绝密")):
                if item.id not in checked:
                    record_check(s, officer, item.id, "agrees")

    def user(self, name: str, s) -> User:
        return get_user(s, name)

    def ingest(self, *, pages: int = 1, box: str | None = None, **fields) -> str:
        self.n += 1
        path = self.tmp / f"scan-{self.n}.png"
        Image.new("L", (60 + self.n, 80), 255).save(path)
        req = {"fonds": "J001", "category": "HT", "year": 2024, "retention": "D30",
               "secrecy": "内部", "title": f"合同 {self.n}", "box": box, "paper_pages": pages}
        req.update(fields)
        return ingest(self.archive, IngestRequest(files=[path], **req)).archival_code

    def item(self, code: str, s):
        return s.scalar(select(ArchiveItem).where(ArchiveItem.archival_code == code))


def _found(report) -> set[tuple[str, str]]:
    return {(f.kind, f.subject) for f in report.findings}


def test_a_clean_archive_gives_no_findings(archive, tmp_path, queued):
    World(archive, tmp_path)
    report = two_set_report(archive, None)
    assert report.findings == [] and report.clean
    assert (report.items, report.boxes, report.files) == (4, 2, 4)


def _plant_every_fault(w: World) -> set[tuple[str, str]]:
    """One fault of every kind, each on its own item, box or group; returns what the report
    must say, as (kind, subject)."""
    a = w.archive
    expected: set[tuple[str, str]] = set()
    # paper record without scans: catalogued and boxed, no file, no page
    with a.session() as s:
        code = allocate(s, "J001", "HT", 2024, "D30", None)
        s.add(ArchiveItem(archival_code=format_code(code), item_no=code.item_no,
                          fonds_id=s.scalar(select(Fonds.id).where(Fonds.code == "J001")),
                          category_id=s.scalar(select(Category.id).where(Category.code == "HT")),
                          year=2024, retention="D30", title="仅纸质", secrecy="内部",
                          paper_pages=2, box_id=get_box(s, "BOX-A").id, status="registered"))
        expected.add((FindingKind.PAPER_WITHOUT_SCANS, format_code(code)))
    # scans without a paper record: in no box
    expected.add((FindingKind.SCANS_WITHOUT_PAPER, w.ingest()))
    # declared 3 pages, one scanned
    expected.add((FindingKind.PAGE_COUNT_MISMATCH, w.ingest(pages=3, box="BOX-A")))
    # a stored original altered, another removed from the store
    with a.session() as s:
        altered = s.scalar(select(StoredFile).join(ArchiveItem)
                           .where(ArchiveItem.archival_code == w.codes[0]))
        path = a.store.local_path(altered.key)
        path.write_bytes(path.read_bytes() + b"altered")
        gone = s.scalar(select(StoredFile).join(ArchiveItem)
                        .where(ArchiveItem.archival_code == w.codes[2]))
        a.store.delete(gone.key)
    expected |= {(FindingKind.CHECKSUM_MISMATCH, w.codes[0]), (FindingKind.FILE_MISSING, w.codes[2])}
    # boxes that mix a year, a retention, an organisation: items put in past the rule
    for box, fields, kind in (("BOX-Y", {"year": 2023}, FindingKind.BOX_MIXED_YEAR),
                              ("BOX-R", {"retention": "Y"}, FindingKind.BOX_MIXED_RETENTION),
                              ("BOX-O", {"org": "BGS"}, FindingKind.BOX_MIXED_ORG)):
        with a.session() as s:
            create_box(s, box, shelf=ensure_shelf(s, "A", "1", "2", box))
        w.ingest(box=box)
        intruder = w.ingest(**fields)  # registered elsewhere, then put in the box by hand
        with a.session() as s:
            w.item(intruder, s).box_id = get_box(s, box).id
        expected.add((kind, box))
    # a box on no shelf
    with a.session() as s:
        create_box(s, "BOX-LOOSE")
    expected.add((FindingKind.BOX_WITHOUT_LOCATION, "BOX-LOOSE"))
    # a gap: a number of the ZJ group allocated, no item holds it
    w.ingest(category="ZJ", box="BOX-B")
    with a.session() as s:
        allocate(s, "J001", "ZJ", 2024, "D30", None)
    expected.add((FindingKind.ITEM_NUMBER_GAP, "J001-ZJ·2024-D30"))
    # a duplicate: two items of the BD group numbered 1 (and the counter says 1)
    first, second = w.ingest(category="BD", box="BOX-B"), w.ingest(category="BD", box="BOX-B")
    with a.session() as s:
        w.item(second, s).item_no = w.item(first, s).item_no
        s.scalar(select(ArchivalCodeCounter).where(
            ArchivalCodeCounter.group_key == "J001-BD·2024-D30-")).last_no = 1
    expected.add((FindingKind.ITEM_NUMBER_DUPLICATE, "J001-BD·2024-D30"))
    # everything so far is checked and signed "agrees" by the officer: the report still
    # finds the faults above (a check does not hide them) and no check finding
    w.check_all()
    # two items at one position in BOX-B
    with a.session() as s:
        third, fourth = w.item(w.codes[2], s), w.item(w.codes[3], s)
        third.box_position = fourth.box_position
    expected.add((FindingKind.POSITION_TAKEN, "BOX-B"))
    # never checked: registered after the officer's round
    expected.add((FindingKind.NEVER_CHECKED, w.ingest(box="BOX-A")))
    # changed since its last check: the archivist moved it within its box
    with a.session() as s:
        move_item(s, w.user("keeper", s), w.item(w.codes[1], s), "BOX-A", position=50)
    expected.add((FindingKind.CHANGED_SINCE_CHECK, w.codes[1]))
    # an open discrepancy: the officer found page 1 illegible
    with a.session() as s:
        record_check(s, w.user("officer", s), w.item(w.codes[3], s).id, "discrepancy",
                     [Discrepancy("illegible", [1], "模糊")])
    expected.add((FindingKind.OPEN_DISCREPANCY, w.codes[3]))
    return expected


def test_every_planted_fault_is_found_and_nothing_else(archive, tmp_path, queued):
    w = World(archive, tmp_path)
    expected = _plant_every_fault(w)
    report = two_set_report(archive, None)
    assert _found(report) == expected
    assert len(report.findings) == len(expected)
    assert {f.kind for f in report.findings} == set(FindingKind)  # every kind planted once
    by_kind = {f.kind: f for f in report.findings}
    assert by_kind[FindingKind.PAGE_COUNT_MISMATCH].facts == {"declared": 3, "scanned": 1}
    assert by_kind[FindingKind.ITEM_NUMBER_GAP].facts == {"missing": [2]}
    assert by_kind[FindingKind.BOX_MIXED_YEAR].facts == {"values": [2023, 2024]}
    assert by_kind[FindingKind.BOX_MIXED_ORG].facts == {"values": ["BGS", None]}
    assert by_kind[FindingKind.PAPER_WITHOUT_SCANS].box == "BOX-A"
    assert by_kind[FindingKind.POSITION_TAKEN].facts["codes"] == sorted(w.codes[2:4])
    assert by_kind[FindingKind.OPEN_DISCREPANCY].facts["discrepancies"] == [
        {"kind": "illegible", "pages": [1]}]
    assert by_kind[FindingKind.OPEN_DISCREPANCY].facts["officer"] == "核对员小王"
    assert "扫描件不清晰（第 1 页）" in str(by_kind[FindingKind.OPEN_DISCREPANCY].detail)
    assert by_kind[FindingKind.NEVER_CHECKED].facts == {}

    # the command line: exit status 1, the same findings as JSON
    env = {"DANGAN_DATA": str(archive.settings.data_dir)}
    proc = dangan(env, "check", "--two-set", "--json", check=False)
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)["two_set"]
    assert {(f["kind"], f["subject"]) for f in out["findings"]} == expected
    assert out["counts"] == {str(k): 1 for k in FindingKind}

    # the exports, read back: the same rows in CSV, XLSX and PDF
    want = [list(COLUMNS)] + rows(report)
    assert list(csv.reader(io.StringIO(to_csv(report).decode("utf-8-sig")))) == want
    sheet = load_workbook(io.BytesIO(to_xlsx(report))).worksheets[0]
    assert [[c or "" for c in r] for r in sheet.iter_rows(values_only=True)] == want
    pdf = pypdfium2.PdfDocument(to_pdf(report))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    flat = "".join(text.split())
    for f in report.findings:
        assert "".join(f.subject.split()).replace("·", "") in flat.replace("·", "").replace("・", "")
        assert "".join(str(f.label).split()) in flat
    # and through --export
    target = tmp_path / "report.xlsx"
    proc = dangan(env, "check", "--two-set", "--export", str(target), check=False)
    assert proc.returncode == 1 and target.exists()
    assert load_workbook(target).worksheets[0].max_row == len(expected) + 1


def test_cli_clean_archive_exits_zero_and_refuses_a_bad_export(archive, tmp_path, queued):
    World(archive, tmp_path)
    env = {"DANGAN_DATA": str(archive.settings.data_dir)}
    proc = dangan(env, "check", "--two-set", "--json", check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["two_set"]["findings"] == []
    bad = dangan(env, "check", "--two-set", "--export", str(tmp_path / "r.doc"), check=False)
    assert bad.returncode == 2 and ".csv" in bad.stderr


def test_only_the_archive_roles_that_keep_the_sets_read_the_report(archive, tmp_path, queued):
    w = World(archive, tmp_path)
    secret = w.ingest(secrecy="绝密", box="BOX-A", pages=2)
    with archive.session() as s:
        users = {role: create_user(s, f"u-{role}", "password-123", role=role)
                 for role in ("archivist", "officer", "manager", "admin", "executive",
                              "dept_manager", "staff")}
    for role, user in users.items():
        if role in ("archivist", "officer", "manager", "admin"):
            report = two_set_report(archive, user)
            # a 绝密 item (which no one checks on screen) is named by its 档号, never its title
            assert _found(report) == {(FindingKind.PAGE_COUNT_MISMATCH, secret),
                                      (FindingKind.NEVER_CHECKED, secret)}
            assert all(f.title is None for f in report.findings)
        else:
            with pytest.raises(PermissionDenied):
                two_set_report(archive, user)
