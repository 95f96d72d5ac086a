"""Resident ID and mobile numbers in OCR text are masked for staff, shown to archivists."""

from __future__ import annotations

PHONE, ID_NO = "13812345678", "110105199003078764"
TEXT = f"乙方联系人王五，联系电话{PHONE}，身份证号{ID_NO}，负责本合同的履行。"


def test_personal_data_is_masked_for_staff_but_not_archivists(app, h) -> None:
    item_id = h.item(title="个人借款合同", text=TEXT, owner="alice", department="销售部")
    for user, masked in (("alice", True), ("arc", False)):
        client = app.test_client()
        h.login(client, user)
        page = client.get(f"/items/{item_id}?q=联系电话").get_data(as_text=True)
        api_item = client.get(f"/api/v1/items/{item_id}").get_json()
        found = client.get("/api/v1/search?q=负责本合同的履行").get_json()
        snippet = next(hit for hit in found["hits"] if hit["id"] == item_id)["snippet"]
        for shown in (page, api_item["pages"][0]["text"], snippet):
            assert (ID_NO in shown) is not masked
            if shown is not snippet:  # the snippet may start inside the phone number
                assert (PHONE in shown) is not masked
            if masked:
                assert "110***********8764" in shown and "45678" not in shown
        if masked:
            assert "138****5678" in page and "138****5678" in api_item["pages"][0]["text"]


HOSTILE = {  # as scans and typists write them -> what must never be readable
    "138-1234-5678": "1234", "+86 138 1234 5678": "1234", "1 3 8 1 2 3 4 5 6 7 8": "1 2 3 4",
    "１３８１２３４５６７８": "１２３４", "110105 19900307 0017": "19900307",
    "ID110105199003078764": "05199003", "110105900307001": "05900307",
}


def test_hostile_formats_are_masked_on_every_path(app, h, archive) -> None:
    """The item page, the API item, search snippets (web API and `dangan search --as`)."""
    from service.search import run_search

    text = "客户资料核对单：" + "；".join(HOSTILE) + "。"
    item_id = h.item(title="客户资料核对单", text=text, owner="alice", department="销售部")
    client = app.test_client()
    h.login(client, "alice")
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    api_text = client.get(f"/api/v1/items/{item_id}").get_json()["pages"][0]["text"]
    snippets = [next(hit for hit in res["hits"] if hit["id"] == item_id)["snippet"]
                for res in (client.get("/api/v1/search?q=客户资料核对单").get_json(),
                            run_search(archive, "客户资料核对单", username="alice"))]
    assert len(api_text) == len(text)
    for shown in (page, api_text, *snippets):
        for raw, secret in HOSTILE.items():
            assert secret not in shown, (raw, shown)
    client = app.test_client()
    h.login(client, "arc")
    assert client.get(f"/api/v1/items/{item_id}").get_json()["pages"][0]["text"] == text


def test_exports_mask_personal_data_and_import_back_unchanged(app, h, archive, tmp_path) -> None:
    """The catalogue sheet as users without the privacy right export it: numbers masked; the
    same sheet imported back changes nothing (the asterisks never overwrite the numbers)."""
    from sqlalchemy import select

    from service.batch import register_batch
    from service.models import ArchiveItem, User

    remarks = f"联系人王五 {PHONE}，身份证 {ID_NO}"
    item_id = h.item(title="王五借款合同附件", text="借款合同附件", owner="alice", department="销售部")
    with archive.session() as s:
        s.get(ArchiveItem, item_id).remarks = remarks
        s.get(ArchiveItem, item_id).paper_pages = 1
    masked = {"alice": True, "arc": False}
    for user, hidden in masked.items():
        client = app.test_client()
        h.login(client, user)
        for fmt in ("csv", "xlsx"):
            data = client.get(f"/export.{fmt}?q=王五借款合同附件").data
            if fmt == "xlsx":
                import io

                from openpyxl import load_workbook

                rows = load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)
                text = "\n".join(",".join(str(c or "") for c in r) for r in rows)
            else:
                text = data.decode("utf-8-sig")
            assert "王五借款合同附件" in text
            assert (PHONE in text) is not hidden and (ID_NO in text) is not hidden, (user, fmt)
            if hidden:
                assert "138****5678" in text and "110***********8764" in text
    # an archivist whose right the administrator took exports masked and imports it back
    with archive.session() as s:
        s.scalar(select(User).where(User.username == "arc")).privacy_right = False
    try:
        client = app.test_client()
        h.login(client, "arc")
        sheet = tmp_path / "export.csv"
        sheet.write_bytes(client.get("/export.csv?q=王五借款合同附件").data)
        assert "138****5678" in sheet.read_text("utf-8-sig")
        with archive.session() as s:
            arc = s.scalar(select(User).where(User.username == "arc"))
            s.expunge(arc)
        res = register_batch(archive, arc, sheet, None)
        assert res.unchanged == 1 and not res.submitted and not res.failed, res
        with archive.session() as s:
            assert s.get(ArchiveItem, item_id).remarks == remarks
    finally:
        with archive.session() as s:
            s.scalar(select(User).where(User.username == "arc")).privacy_right = None
