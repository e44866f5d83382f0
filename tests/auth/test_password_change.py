"""Changing one's own password (page and API): the current password is checked like a login, every
other session ends, this device stays logged in."""
from __future__ import annotations

from app.auth.models import LoginAttempt, User
from app.extensions import db
from tests.factories import DEFAULT_PASSWORD, login, make_user

NEW = "a brand new password"


def _copy_session(app, source):
    name = app.config["SESSION_COOKIE_NAME"]
    other = app.test_client()
    other.set_cookie(name, source.get_cookie(name).value)
    return other


def _form(client, current, new, confirm=None):
    return client.post("/account/password?lang=en", data={
        "current_password": current, "new_password": new, "confirm_password": new if confirm is None else confirm})


def _logs_in_with(app, username, password) -> bool:
    return app.test_client().post("/api/login", json={"username": username, "password": password}).status_code == 200


def test_the_page_changes_it_ends_the_other_sessions_and_keeps_this_one(app, client):
    user = make_user("lab_officer")
    username = user.username
    login(client, user)
    other_device = _copy_session(app, client)
    page = client.get("/account/password")
    assert page.status_code == 200 and "修改密码" in page.get_data(as_text=True)  # Chinese first
    resp = _form(client, DEFAULT_PASSWORD, NEW)
    assert resp.status_code == 302
    assert client.get("/api/me").status_code == 200  # this device: a new session
    assert other_device.get("/api/me").status_code == 401  # every other copy of the old one: over
    assert "other devices are logged out" in client.get("/?lang=en", follow_redirects=True).get_data(as_text=True)
    assert not _logs_in_with(app, username, DEFAULT_PASSWORD) and _logs_in_with(app, username, NEW)


def test_refusals_say_why_and_change_nothing(app, client):
    user = make_user("inspector")
    username = user.username
    login(client, user)
    for current, new, confirm, message in (
        ("wrong password", NEW, None, "The current password is wrong."),
        (DEFAULT_PASSWORD, "short", None, "at least 8 characters"),
        (DEFAULT_PASSWORD, NEW, NEW + "!", "The two new passwords differ."),
        (DEFAULT_PASSWORD, DEFAULT_PASSWORD, None, "must differ from the current one"),
        ("", NEW, None, "Fill in every field."),
    ):
        resp = _form(client, current, new, confirm)
        assert resp.status_code == 400 and message in resp.get_data(as_text=True), (current, new, confirm)
        assert client.get("/api/me").status_code == 200  # still logged in
    assert _logs_in_with(app, username, DEFAULT_PASSWORD)


def test_wrong_current_passwords_count_as_failed_logins(app, client):
    """A stolen session cannot be used to guess the password: the account's login throttle applies."""
    user = make_user("inspector")
    login(client, user)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _form(client, "guess", NEW).status_code == 400
    locked = _form(client, DEFAULT_PASSWORD, NEW)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Try again in" in locked.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(LoginAttempt)) == app.config["LOGIN_MAX_FAILURES"]


def test_the_api_changes_it_and_renews_this_session(app, client):
    user = make_user("college_leader")
    username = user.username
    login(client, user)
    other_device = _copy_session(app, client)
    wrong = client.post("/api/me/password", json={"current_password": "nope", "new_password": NEW})
    assert wrong.status_code == 400 and wrong.get_json()["error"]["message"] in (
        "The current password is wrong.",
        "当前密码错误。",
    )
    resp = client.post("/api/me/password", json={"current_password": DEFAULT_PASSWORD, "new_password": NEW})
    assert resp.status_code == 200 and resp.get_json()["csrf_token"]
    assert client.get("/api/me").status_code == 200 and other_device.get("/api/me").status_code == 401
    db.session.remove()
    assert db.session.scalar(db.select(User).where(User.username == username)).check_password(NEW)


def test_anonymous_is_sent_to_log_in(app):
    client = app.test_client()
    assert client.get("/account/password").status_code == 302
    assert client.post("/api/me/password", json={"current_password": "x", "new_password": NEW}).status_code == 401


def test_the_policy_allows_ones_own_password_only(app):
    from app.policy import Action, may

    a, b = make_user("school_admin"), make_user("inspector")
    assert may(a, Action.CHANGE_PASSWORD, a) and may(b, Action.CHANGE_PASSWORD, b)
    assert not may(a, Action.CHANGE_PASSWORD, b)  # even the admin: an admin resets, on the admin page
    assert not may(None, Action.CHANGE_PASSWORD, a)
