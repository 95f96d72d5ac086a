"""Reading-room workstations: the administrator registers one, enrols the browser on that
machine (an HttpOnly cookie whose token only the hash of is kept) and revokes it; each step
audited; only a recognised browser opens 机密 content."""

from __future__ import annotations

from sqlalchemy import select


def _post(client, h, url: str, data: dict):
    return client.post(url, data={**data, "csrf_token": h.csrf(client, "/admin/workstations")})


def test_register_enrol_and_revoke_a_workstation(app, archive, h) -> None:
    from service.models import AuditEntry, Workstation

    item_id = h.item(title="机密终端测试件", text="终端测试正文：阅览室专用。", secrecy="机密")
    admin = app.test_client()
    h.login(admin, "admin", h.ADMIN_PW)
    assert "本浏览器不是阅览室终端" in admin.get("/admin/workstations").get_data(as_text=True)
    r = _post(admin, h, "/admin/workstations/new", {"name": "阅览室2号机", "ip": "bad ip"})
    assert r.status_code == 400 and "格式不对" in r.get_data(as_text=True)
    r = _post(admin, h, "/admin/workstations/new", {"name": "阅览室2号机", "ip": ""})
    assert r.status_code == 302
    with archive.session() as s:
        ws = s.scalar(select(Workstation).where(Workstation.name == "阅览室2号机"))
        ws_id = ws.id
        assert ws.token_hash is None
    assert admin.get(f"/items/{item_id}/pages/1/image").status_code == 403

    r = _post(admin, h, f"/admin/workstations/{ws_id}/enrol", {})
    cookie = r.headers["Set-Cookie"]
    assert r.status_code == 302 and "dangan_reading_room=" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=" in cookie
    token = cookie.split("=", 1)[1].split(";", 1)[0]
    with archive.session() as s:
        stored = s.get(Workstation, ws_id).token_hash
    assert stored and token not in stored and len(stored) == 64  # only its SHA-256 is kept
    assert "本浏览器是阅览室终端：阅览室2号机" in admin.get("/admin/workstations").get_data(as_text=True)
    assert admin.get(f"/items/{item_id}/pages/1/image").status_code == 200
    page = admin.get(f"/items/{item_id}").get_data(as_text=True)
    assert "终端测试正文" in page

    # a made-up token opens nothing
    stranger = app.test_client()
    h.login(stranger, "arc")
    stranger.set_cookie("dangan_reading_room", "made-up-token")
    assert stranger.get(f"/items/{item_id}/pages/1/image").status_code == 403

    # only administrators keep workstations
    assert stranger.get("/admin/workstations").status_code == 403
    assert _post(stranger, h, f"/admin/workstations/{ws_id}/revoke", {}).status_code in (400, 403)

    assert _post(admin, h, f"/admin/workstations/{ws_id}/revoke", {}).status_code == 302
    assert admin.get(f"/items/{item_id}/pages/1/image").status_code == 403
    with archive.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).where(
            AuditEntry.target == f"workstation:{ws_id}").order_by(AuditEntry.id))]
    assert actions == ["workstation.register", "workstation.enrol", "workstation.revoke"]


def test_a_workstation_tied_to_an_address_is_recognised_only_from_it(archive) -> None:
    from service import workstations
    from service.users import get_user

    with archive.session() as s:
        admin = get_user(s, "admin")
        ws = workstations.register(s, admin, "阅览室3号机", "10.0.0.7")
        token = workstations.enrol(s, admin, ws.id)
        assert workstations.recognise(s, token, "10.0.0.7").name == "阅览室3号机"
        assert workstations.recognise(s, token, "10.0.0.8") is None
        assert workstations.recognise(s, None, "10.0.0.7") is None
        again = workstations.enrol(s, admin, ws.id)  # enrolling again ends the old token
        assert workstations.recognise(s, token, "10.0.0.7") is None
        assert workstations.recognise(s, again, "10.0.0.7") is not None
