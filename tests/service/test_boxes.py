"""A box holds items of one year, one retention and one organisation, on every path that fills it."""

from __future__ import annotations

import pytest
from PIL import Image

from service.errors import InvalidInput
from service.ingest import IngestRequest, ingest
from service.locations import box_contents, create_box, get_box
from tests.queued import QueuedPages


@pytest.fixture
def queued(archive):
    """No OCR in these tests: the page tasks stay in the archive's queue, no worker runs."""
    return QueuedPages(archive)


def _scan(tmp_path, n: int):
    path = tmp_path / f"scan-{n}.png"
    Image.new("L", (60 + n, 80), 255).save(path)
    return path


def _req(tmp_path, n: int, **kw) -> IngestRequest:
    fields = {"fonds": "J001", "category": "HT", "year": 2024, "retention": "D30",
              "secrecy": "内部", "title": f"合同 {n}", "box": "BOX-1"}
    fields.update(kw)
    return IngestRequest(files=[_scan(tmp_path, n)], **fields)


def test_ingest_keeps_one_year_retention_and_organisation_per_box(archive, tmp_path, queued):
    with archive.session() as s:
        create_box(s, "BOX-1")  # registered without year, retention or organisation
    first = ingest(archive, _req(tmp_path, 1))
    with archive.session() as s:
        box = get_box(s, "BOX-1")
        assert (box.year, box.retention, box.org_code) == (2024, "D30", None)
    for n, clash, match in ((2, {"year": 2023}, "年度 2024"), (3, {"retention": "Y"}, "保管期限 D30"),
                            (4, {"org": "BGS"}, "机构")):
        with pytest.raises(InvalidInput, match=match):
            ingest(archive, _req(tmp_path, n, **clash))
    # another category of the same year, retention and organisation shares the box
    other = ingest(archive, _req(tmp_path, 5, category="ZJ"))
    second = ingest(archive, _req(tmp_path, 6))
    with archive.session() as s:
        contents = box_contents(s, get_box(s, "BOX-1"))
    assert contents.count == 3
    assert [(r.first, r.last, r.count) for r in contents.ranges] == [
        (first.archival_code, second.archival_code, 2),
        (other.archival_code, other.archival_code, 1)]


def test_a_box_registered_for_an_organisation_refuses_items_without_one(archive, tmp_path, queued):
    with archive.session() as s:
        create_box(s, "BOX-1", year=2024, retention="D30", org_code="BGS")
    with pytest.raises(InvalidInput, match="BOX-1"):
        ingest(archive, _req(tmp_path, 1))
    assert ingest(archive, _req(tmp_path, 2, org="BGS")).archival_code.endswith("-BGS-0001")
