"""机密 is read on screen only and 绝密 content never leaves electronically (issue 8,
finding 19): no cached page images, no full text in the API or `dangan show`, no downloads."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

TEXT = "机密合同正文：乙方承诺保守商业秘密，违约金人民币伍拾万元整。"


def _pdf_and_original(archive, item_id: int) -> tuple[int, int]:
    """Give the item a searchable PDF too; return (original id, pdf id)."""
    from service.models import ArchiveItem, StoredFile

    stored = archive.store.put_bytes(b"%PDF-1.4 test", content_type="application/pdf")
    with archive.session() as s:
        item = s.get(ArchiveItem, item_id)
        pdf = StoredFile(item_id=item_id, role="searchable_pdf", seq=2, key=stored.key,
                         sha256=stored.sha256, size=stored.size, format="pdf", status="stored")
        s.add(pdf)
        s.flush()
        return item.files[0].id, pdf.id


@pytest.mark.parametrize("secrecy,cached", [("机密", False), ("内部", True)])
def test_confidential_pages_are_not_cached_and_not_exported(app, h, archive, secrecy: str,
                                                            cached: bool) -> None:
    item_id = h.item(title=f"{secrecy}合同", text=TEXT, secrecy=secrecy)
    original, pdf = _pdf_and_original(archive, item_id)
    client = app.test_client()
    h.login(client, "arc")
    h.reading_room(client)  # 机密 is read only at a reading-room workstation
    page = client.get(f"/items/{item_id}")
    assert TEXT in page.get_data(as_text=True)  # on screen: yes
    # ... but the page with the text is not kept in the browser's cache either
    assert ("no-store" in page.headers.get("Cache-Control", "")) is not cached
    for kind in ("image", "thumb"):
        r = client.get(f"/items/{item_id}/pages/1/{kind}")
        assert r.status_code == 200 and r.get_data()
        r.close()
        assert ("no-store" in r.headers["Cache-Control"]) is not cached
        assert ("max-age" in r.headers["Cache-Control"]) is cached
    for file_id in (original, pdf):
        r = client.get(f"/items/{item_id}/files/{file_id}")
        assert r.status_code == (200 if cached else 403)
        r.get_data()
        r.close()
    data = client.get(f"/api/v1/items/{item_id}").get_json()
    assert (TEXT in json.dumps(data, ensure_ascii=False)) is cached
    assert ("text_withheld" in data) is not cached


@pytest.mark.parametrize("secrecy", ["绝密", "机密"])
def test_dangan_show_never_prints_their_text(h, archive, monkeypatch, secrecy: str) -> None:
    from cli.item_cmds import show_cmd

    item_id = h.item(title=f"{secrecy}协议", text=TEXT, secrecy=secrecy)
    monkeypatch.setenv("DANGAN_DATA", str(archive.settings.data_dir))
    for args in ([str(item_id)], [str(item_id), "--json"]):
        out = CliRunner().invoke(show_cmd, args)
        assert out.exit_code == 0, out.output
        assert f"{secrecy}协议" in out.output  # the catalogue data is shown to the operator
        assert "违约金" not in out.output
    shown = json.loads(CliRunner().invoke(show_cmd, [str(item_id), "--json"]).output)
    assert shown["secrecy"] == secrecy and "text" not in shown["pages"][0]
    assert shown["text_withheld"].startswith(secrecy)


def test_dangan_show_prints_the_text_of_an_ordinary_item(h, archive, monkeypatch) -> None:
    from cli.item_cmds import show_cmd

    item_id = h.item(title="内部协议", text=TEXT, secrecy="内部")
    monkeypatch.setenv("DANGAN_DATA", str(archive.settings.data_dir))
    out = CliRunner().invoke(show_cmd, [str(item_id)])
    assert out.exit_code == 0 and "违约金" in out.output


def test_api_answers_are_never_cached(app, h) -> None:
    """API answers carry catalogue data and snippets (of 机密 pages too): no cache keeps them."""
    item_id = h.item(title="机密合同", text=TEXT, secrecy="机密")
    client = app.test_client()
    h.login(client, "arc")
    for url in ("/api/v1/search?q=违约金", f"/api/v1/items/{item_id}",
                f"/api/v1/items/{item_id}/progress"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert "no-store" in r.headers.get("Cache-Control", ""), url
    assert "违约金" in client.get("/api/v1/search?q=违约金").get_data(as_text=True)


def test_confidential_outside_the_reading_room_shows_the_catalogue_entry_only(app, h,
                                                                            archive) -> None:
    item_id = h.item(title="机密协议甲", text=TEXT, secrecy="机密")
    original, pdf = _pdf_and_original(archive, item_id)
    client = app.test_client()
    h.login(client, "arc")
    page = client.get(f"/items/{item_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "机密协议甲" in html and "请到阅览室查阅" in html
    assert "违约金" not in html and "/pages/1/" not in html and "SHA-256" not in html
    assert "no-store" in page.headers["Cache-Control"]
    for kind in ("image", "thumb"):
        r = client.get(f"/items/{item_id}/pages/1/{kind}")
        assert r.status_code == 403 and "请到阅览室查阅" in r.get_data(as_text=True)
    for file_id in (original, pdf):
        assert client.get(f"/items/{item_id}/files/{file_id}").status_code == 403
    data = client.get(f"/api/v1/items/{item_id}").get_json()
    assert data["remedy"] == "reading_room" and "files" not in data and "pages" not in data
