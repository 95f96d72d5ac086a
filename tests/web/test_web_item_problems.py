"""Items with a problem: corrupt files are reported, never a 500 (#8.21), and partial items (#8.6)."""

from __future__ import annotations

import io
from pathlib import Path

from scanfactory import render_page, write_looping_pdf, write_png

from indexer.errors import REASONS
from web.i18n import bilingual


def test_api_upload_with_looping_pdf_is_not_a_500(client, h, tmp_path: Path) -> None:
    good = write_png(tmp_path / "p1.png", render_page(["租赁合同"], size=(600, 400)))
    loop = write_looping_pdf(tmp_path / "loop.pdf")
    h.login(client, "arc")
    r = client.post("/api/v1/items", data={
        "fonds": "J001", "category": "HT", "year": "2024", "retention": "D30",
        "secrecy": "内部", "title": "循环页树",
        "files": [(io.BytesIO(good.read_bytes()), "p1.png"),
                  (io.BytesIO(loop.read_bytes()), "loop.pdf")]},
        headers={"X-CSRFToken": h.csrf(client, "/upload")})
    assert r.status_code == 201, r.get_data(as_text=True)[:500]
    [failed] = r.get_json()["failed_files"]
    assert failed["name"] == "loop.pdf" and failed["code"] == "broken-pdf"
    assert failed["reason"] == bilingual(REASONS["broken-pdf"])  # as the API always answered



def _partial_item(archive, client, h, no_queue, tmp_path: Path) -> tuple[int, int]:
    """Upload 4 good pages and a truncated scan as the archivist; run the pages here."""
    from scanfactory import write_pdf_text_layer, write_truncated_jpeg
    from sqlalchemy import select

    from service.jobs.pipeline import run_page
    from service.models import StoredFile

    good = write_pdf_text_layer(tmp_path / "lease.pdf",
                                [[f"Tenancy page {i} {tmp_path.name}", f"deposit clause {i}"]
                                 for i in range(4)])
    bad = write_truncated_jpeg(tmp_path / "annex.jpg", render_page([tmp_path.name], size=(600, 400)))
    h.login(client, "arc")
    r = client.post("/api/v1/items", data={
        "fonds": "J001", "category": "HT", "year": "2024", "retention": "D30",
        "secrecy": "内部", "title": "部分可用的租约",
        "files": [(io.BytesIO(good.read_bytes()), "lease.pdf"),
                  (io.BytesIO(bad.read_bytes()), "annex.jpg")]},
        headers={"X-CSRFToken": h.csrf(client, "/upload")})
    assert r.status_code == 201, r.get_data(as_text=True)[:300]
    item_id = r.get_json()["id"]
    while no_queue:
        run_page(archive, no_queue.pop(0))
    with archive.session() as s:
        bad_id = s.scalar(select(StoredFile.id).where(StoredFile.item_id == item_id,
                                                      StoredFile.original_name == "annex.jpg"))
    return item_id, bad_id


def test_partial_item_page_lists_the_bad_file_and_the_archivist_removes_it(
        archive, client, h, no_queue, tmp_path: Path) -> None:
    item_id, bad_id = _partial_item(archive, client, h, no_queue, tmp_path)
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert 'status-partial' in page and "部分可用" in page
    assert 'id="problems"' in page and "annex.jpg" in page
    assert str(REASONS["truncated"]) in page and "OSError" not in page
    assert f"/items/{item_id}/files/{bad_id}/remove" in page
    assert f"/items/{item_id}/files/{bad_id}/replace" in page
    hits = client.get("/search?q=deposit+clause").get_data(as_text=True)
    assert f"/items/{item_id}" in hits and "部分可用" in hits  # searchable, shown as partial

    r = client.post(f"/items/{item_id}/files/{bad_id}/remove",
                    data={"csrf_token": h.csrf(client, f"/items/{item_id}")})
    assert r.status_code == 302
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert 'id="problems"' not in page and "status-ready" in page
    assert client.get(f"/api/v1/items/{item_id}").get_json()["status"] == "ready"


def test_replace_from_the_web(archive, client, h, no_queue, tmp_path: Path) -> None:
    from scanfactory import write_pdf_text_layer

    from service.jobs.pipeline import run_page

    item_id, bad_id = _partial_item(archive, client, h, no_queue, tmp_path)
    new = write_pdf_text_layer(tmp_path / "rescan.pdf", [[f"Annex rescanned deposit receipt {tmp_path.name}"]])
    r = client.post(f"/items/{item_id}/files/{bad_id}/replace", data={
        "csrf_token": h.csrf(client, f"/items/{item_id}"),
        "file": (io.BytesIO(new.read_bytes()), "rescan.pdf")},
        content_type="multipart/form-data")
    assert r.status_code == 302 and len(no_queue) == 1
    while no_queue:
        run_page(archive, no_queue.pop(0))
    data = client.get(f"/api/v1/items/{item_id}").get_json()
    assert data["status"] == "ready" and len(data["pages"]) == 5
    assert [f["role"] for f in data["files"] if f["name"] == "annex.jpg"] == ["replaced"]


def test_officer_sees_the_problem_but_no_repair_actions(archive, client, h, no_queue,
                                                         tmp_path: Path) -> None:
    from service.users import create_user

    item_id, bad_id = _partial_item(archive, client, h, no_queue, tmp_path)
    with archive.session() as s:
        create_user(s, "officer-w", h.PW, role="officer")
    client.get("/logout")
    other = client.application.test_client()
    h.login(other, "officer-w")
    page = other.get(f"/items/{item_id}").get_data(as_text=True)
    assert "annex.jpg" in page and f"/files/{bad_id}/remove" not in page
    r = other.post(f"/items/{item_id}/files/{bad_id}/remove",
                   data={"csrf_token": h.csrf(other, f"/items/{item_id}")})
    assert r.status_code == 403
    assert other.get(f"/api/v1/items/{item_id}").get_json()["status"] == "partial"
