"""Sessions end when they should: logout, password change, inactivity, absolute age."""
from __future__ import annotations

import pytest

from app.auth import services, sessions
from app.auth.models import User
from app.extensions import db
from tests.factories import DEFAULT_PASSWORD, login, make_user


@pytest.fixture
def clock(monkeypatch):
    """A settable clock for the session timestamps."""
    state = {"t": 1_800_000_000}
    monkeypatch.setattr(sessions, "now", lambda: state["t"])
    return state


def _copy_session(app, source):
    name = app.config["SESSION_COOKIE_NAME"]
    other = app.test_client()
    other.set_cookie(name, source.get_cookie(name).value)
    return other


def test_form_logout_kills_every_copy_of_the_cookie(app, client):
    user = make_user("inspector")
    login(client, user)
    thief = _copy_session(app, client)
    assert thief.get("/api/me").status_code == 200
    resp = client.post("/logout")
    assert resp.status_code == 302
    assert client.get("/api/me").status_code == 401
    assert thief.get("/api/me").status_code == 401


def test_password_change_kills_a_copied_cookie(app, client):
    user = make_user("inspector")
    username = user.username
    login(client, user)
    thief = _copy_session(app, client)
    assert thief.get("/api/me").status_code == 200
    services.change_password(db.session.get(User, user.id), DEFAULT_PASSWORD, "a new long password")
    db.session.remove()
    user = db.session.scalar(db.select(User).where(User.username == username))
    assert thief.get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 401
    # The old password no longer works; the new one does.
    assert client.post("/api/login", json={"username": user.username, "password": DEFAULT_PASSWORD}).status_code == 401
    login(client, user, password="a new long password")
    assert client.get("/api/me").status_code == 200


def test_inactivity_timeout_is_a_setting_and_activity_refreshes_it(app, client, clock):
    app.config["SESSION_IDLE_MINUTES"] = 30
    login(client, make_user("inspector"))
    clock["t"] += 29 * 60
    assert client.get("/api/me").status_code == 200  # seen again: the idle clock restarts
    clock["t"] += 29 * 60
    assert client.get("/api/me").status_code == 200
    clock["t"] += 30 * 60 + 1
    assert client.get("/api/me").status_code == 401
    # And it stays over: the expired session was cleared, not just refused once.
    clock["t"] += 1
    assert client.get("/api/me").status_code == 401


def test_idle_page_request_sends_to_login(app, client, clock):
    app.config["SESSION_IDLE_MINUTES"] = 10
    login(client, make_user("school_admin"))
    clock["t"] += 11 * 60
    resp = client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_absolute_timeout_ends_even_an_active_session(app, client, clock):
    from datetime import timedelta

    app.config["SESSION_IDLE_MINUTES"] = 60
    app.permanent_session_lifetime = timedelta(hours=2)
    login(client, make_user("inspector"))
    for _ in range(3):  # busy every 40 minutes: never idle
        clock["t"] += 40 * 60
        assert client.get("/api/me").status_code == 200
    clock["t"] += 40 * 60 + 1  # 2 h 40 min after login
    assert client.get("/api/me").status_code == 401
    # Logging in again starts a new session.
    login(client, db.session.scalar(db.select(User)))
    assert client.get("/api/me").status_code == 200


def test_a_session_cookie_without_our_timestamps_is_refused(app, client):
    user = make_user("inspector")
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
    assert client.get("/api/me").status_code == 401


def test_cookie_attributes_in_testing(app, client):
    resp = login(client, make_user("inspector"))
    cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith("labsafe_session="))
    attrs = [a.strip().lower() for a in cookie.split(";")[1:]]
    assert "httponly" in attrs and "path=/" in attrs and "samesite=lax" in attrs
    assert not any(a.startswith("domain=") for a in attrs)


def test_a_one_minute_idle_timeout_keeps_a_user_active_every_45_seconds(app, client, clock):
    """"Last seen" is rewritten often enough for the timeout set (it was once a minute whatever it was)."""
    app.config["SESSION_IDLE_MINUTES"] = 1
    login(client, make_user("inspector"))
    for _ in range(8):
        clock["t"] += 45
        assert client.get("/api/me").status_code == 200
    clock["t"] += 61
    assert client.get("/api/me").status_code == 401
