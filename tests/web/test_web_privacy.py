"""Resident ID and mobile numbers in OCR text are masked for staff, shown to archivists."""

from __future__ import annotations

PHONE, ID_NO = "13812345678", "110105199003078765"
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
                assert "110***********8765" in shown and "45678" not in shown
        if masked:
            assert "138****5678" in page and "138****5678" in api_item["pages"][0]["text"]
