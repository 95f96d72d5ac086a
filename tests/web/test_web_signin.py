"""Sign-in hardening (issue 8, finding 18): throttling kept in the catalogue, sign-out ends
copied cookies, a required password change comes before anything else, and unknown user
names cost the same time as known ones."""

from __future__ import annotations

import time

import pytest


def _client(app, addr: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    return client


def _try(client, h, username: str, password: str):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": h.csrf(client)})


def test_wrong_passwords_lock_the_user_name_for_every_replica(app, h, archive,
                                                              monkeypatch) -> None:
    import service.signin
    from web.app import create_app

    monkeypatch.setattr(service.signin, "BASE_DELAY", service.signin.BASE_DELAY * 60)

    client = _client(app, "10.0.0.1")
    for _ in range(6):  # five free failures, the sixth locks the name
        assert _try(client, h, "bob", "wrong-password").status_code == 401
    r = _try(client, h, "bob", h.PW)  # even the right password waits
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert "登录失败次数过多" in r.get_data(as_text=True)
    # another web replica (another app on the same catalogue), from another address
    replica = _client(create_app(archive, {"TESTING": True}), "10.0.0.2")
    assert _try(replica, h, "bob", h.PW).status_code == 429
    replica.post("/lang", data={"lang": "en", "csrf_token": h.csrf(replica)})
    assert "Too many failed sign-ins" in _try(replica, h, "bob", h.PW).get_data(as_text=True)
    # other names from that address are not affected
    assert _try(_client(app, "10.0.0.1"), h, "arc", h.PW).status_code == 302


def test_lock_grows_and_a_right_password_clears_the_name(archive) -> None:
    from sqlalchemy import select

    from service.errors import TooManyAttempts
    from service.models import SignInFailures
    from service.signin import _user_key, sign_in

    def locked_seconds() -> float:
        with archive.session() as s:
            row = s.get(SignInFailures, _user_key("alice"))
            return (row.locked_until.replace(tzinfo=None)
                    - row.last_failure_at.replace(tzinfo=None)).total_seconds()

    def unlock() -> None:
        with archive.session() as s:
            for row in s.scalars(select(SignInFailures)):
                row.locked_until = None

    delays = []
    for n in range(8):
        with archive.session() as s:
            assert sign_in(s, "alice", "wrong-password", f"10.1.0.{n}") is None
        if n >= 5:
            delays.append(locked_seconds())
            with archive.session() as s, pytest.raises(TooManyAttempts):
                sign_in(s, "alice", "password-123", "10.1.1.1")
            unlock()
    assert delays == [2, 4, 8]
    with archive.session() as s:
        assert sign_in(s, "alice", "password-123", "10.1.1.1").username == "alice"
    with archive.session() as s:
        assert s.get(SignInFailures, _user_key("alice")) is None


def test_one_address_guessing_many_names_is_locked(app, h) -> None:
    client = _client(app, "10.0.0.9")
    for n in range(21):
        assert _try(client, h, f"nobody{n}", "wrong-password").status_code == 401
    assert _try(client, h, "arc", h.PW).status_code == 429


def test_sign_out_ends_a_copied_session_cookie(app, h) -> None:
    client = _client(app, "10.0.0.3")
    h.login(client, "arc")
    stolen = _client(app, "10.0.0.4")
    cookie = client.get_cookie("dangan_session")
    stolen.set_cookie("dangan_session", cookie.value)
    assert stolen.get("/search").status_code == 200
    client.post("/logout", data={"csrf_token": h.csrf(client, "/search")})
    r = stolen.get("/search")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert stolen.get("/api/v1/search?q=合同").status_code == 401
    h.login(client, "arc")  # signing in again works
    assert client.get("/search").status_code == 200


def test_password_change_comes_before_a_token_or_the_api(app, h, archive) -> None:
    from service.models import User
    from service.users import create_user, issue_token

    with archive.session() as s:
        create_user(s, "fresh", h.PW, role="staff", must_change_password=True)
    client = _client(app, "10.0.0.5")
    h.login(client, "fresh")
    r = client.post("/account/token", data={"csrf_token": h.csrf(client, "/account/password")})
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/password")
    assert client.get("/account/token").status_code == 302
    r = client.get("/api/v1/search?q=合同")
    assert r.status_code == 403 and "请先修改密码" in r.get_json()["error"]
    with archive.session() as s:
        fresh = s.query(User).filter_by(username="fresh").one()
        assert fresh.api_token_hash is None
        fresh.must_change_password = False
        token = issue_token(fresh)  # say a token existed, then an admin required a change
        fresh.must_change_password = True
    r = _client(app, "10.0.0.6").get("/api/v1/search?q=合同",
                                      headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403


def test_unknown_user_names_take_as_long_as_known_ones(archive) -> None:
    from service.users import authenticate

    def best_of(username: str) -> float:
        times = []
        for _ in range(5):
            with archive.session() as s:
                start = time.perf_counter()
                assert authenticate(s, username, "wrong-password") is None
                times.append(time.perf_counter() - start)
        return min(times)

    best_of("no-such-user")  # the dummy hash is made once
    known, unknown = best_of("alice"), best_of("no-such-user")
    assert unknown > 0.5 * known, (known, unknown)


def test_guessing_the_current_password_on_the_change_form_is_throttled(app, h, archive,
                                                                        monkeypatch) -> None:
    """A borrowed session must not guess the password (and then change it) at full speed."""
    import service.signin
    from service.users import create_user

    monkeypatch.setattr(service.signin, "BASE_DELAY", service.signin.BASE_DELAY * 60)
    with archive.session() as s:
        create_user(s, "dora", h.PW, role="staff")
    client = _client(app, "10.0.0.7")
    h.login(client, "dora")

    def change(current: str):
        return client.post("/account/password", data={
            "current": current, "new": "new-password-456", "confirm": "new-password-456",
            "csrf_token": h.csrf(client, "/account/password")})

    for n in range(6):  # five free failures, the sixth locks the name
        assert change(f"guess-{n}").status_code == 400
    r = change("guess-6")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert change(h.PW).status_code == 429  # while locked, not even the right one is checked
    # the lock is the user name's: signing in elsewhere waits too
    assert _try(_client(app, "10.0.0.8"), h, "dora", h.PW).status_code == 429


def test_a_password_change_ends_the_api_token_too(app, h, archive) -> None:
    """A changed password ends every credential of the old one: sessions and the API token."""
    from service.models import User
    from service.users import create_user, issue_token, set_password

    with archive.session() as s:
        create_user(s, "tok", h.PW, role="staff")
    with archive.session() as s:
        token = issue_token(s.query(User).filter_by(username="tok").one())
    headers = {"Authorization": f"Bearer {token}"}
    assert _client(app, "10.0.0.7").get("/api/v1/search?q=合同", headers=headers).status_code == 200
    with archive.session() as s:
        set_password(s.query(User).filter_by(username="tok").one(), "another-secret-9")
    assert _client(app, "10.0.0.8").get("/api/v1/search?q=合同", headers=headers).status_code == 401
