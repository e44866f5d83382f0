"""Where each role lands after login, and the language choice kept per user and per device."""
from __future__ import annotations

import pytest

from app.auth import services
from app.auth.language import LANG_COOKIE
from app.auth.models import Role, RoleAssignment, User
from app.extensions import db
from tests.factories import DEFAULT_PASSWORD, make_college, make_department, make_lab, make_user


def _form_login(client, user, **extra):
    return client.post("/login", data={"username": user.username, "password": DEFAULT_PASSWORD, **extra})


@pytest.fixture
def people():
    college = make_college()
    lab = make_lab(college)
    return {
        "lab_officer": make_user(Role.lab_officer, lab=lab),
        "inspector": make_user(Role.inspector, college=college),
        "college_leader": make_user(Role.college_leader, college=college),
        "dept_officer": make_user(Role.dept_officer, department=make_department()),
        "college_head": make_user(Role.college_head, college=college),
        "school_admin": make_user(Role.school_admin),
        "lab": lab,
    }


@pytest.mark.parametrize("role, landing", [
    ("lab_officer", "/app"),  # today's daily checks and tickets to fix
    ("inspector", "/app/scan"),
    ("college_leader", "/app/tickets?state=fix_submitted"),  # fixes to verify
    ("dept_officer", "/app/tickets"),
    ("college_head", "/reports/monthly"),
    ("school_admin", "/reports/monthly"),
])
def test_each_role_lands_where_its_daily_work_is(client, people, role, landing):
    resp = _form_login(client, people[role])
    assert resp.status_code == 302 and resp.headers["Location"] == landing
    assert client.get("/").headers["Location"] == landing  # the start page too


def test_several_roles_land_on_the_most_demanding_daily_work_and_next_wins(client, people):
    user = people["school_admin"]
    user.roles.append(RoleAssignment(role=Role.lab_officer, lab_id=people["lab"].id))
    db.session.commit()
    assert _form_login(client, user).headers["Location"] == "/app"  # the daily check (art. 29) first
    client.post("/logout")
    resp = _form_login(client, user, next=f"/app/labs/{people['lab'].id}")
    assert resp.headers["Location"] == f"/app/labs/{people['lab'].id}"


def _lang_cookie(client):
    cookie = client.get_cookie(LANG_COOKIE)
    return cookie.value if cookie else None


def test_english_chosen_on_the_login_page_survives_login_and_logout(app, client):
    user = make_user(Role.inspector)
    assert "用户名" in client.get("/login").get_data(as_text=True)
    client.post("/lang/en", data={"next": "/login"})
    assert _lang_cookie(client) == "en"
    _form_login(client, user)
    assert "Scan a lab QR code" in client.get("/app").get_data(as_text=True)
    assert services.user_locale(user.id) == "en"  # kept on the user (e-mail in their language)
    client.post("/logout")
    assert "Username" in client.get("/login", follow_redirects=True).get_data(as_text=True)

    # Another device without a choice of its own takes the user's, and keeps it after logout.
    other = app.test_client()
    _form_login(other, user)
    assert _lang_cookie(other) == "en"
    assert "Scan a lab QR code" in other.get("/app").get_data(as_text=True)


def test_a_device_choice_wins_at_login_and_a_signed_in_switch_is_stored(app, client):
    user = make_user(Role.inspector)
    user.locale = "en"
    db.session.commit()
    client.post("/lang/zh_CN", data={"next": "/login"})  # this device is set to Chinese
    _form_login(client, user)
    assert services.user_locale(user.id) == "zh_CN"
    client.post("/lang/en", data={"next": "/app"})
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en" and _lang_cookie(client) == "en"


def test_default_is_chinese_and_the_browser_language_counts_only_without_a_choice(client):
    assert "用户名" in client.get("/login").get_data(as_text=True)
    assert "用户名" in client.get("/login", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert "Username" in client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    client.post("/lang/zh_CN")
    assert "用户名" in client.get("/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)


def test_an_unknown_language_is_a_400_and_changes_nothing(client):
    user = make_user(Role.inspector)
    _form_login(client, user)
    resp = client.post("/lang/xx")
    assert resp.status_code == 400
    assert _lang_cookie(client) is None and services.user_locale(user.id) == "zh_CN"


def test_user_locale_defaults_to_chinese(client):
    user = make_user(Role.inspector)
    assert services.user_locale(user.id) == "zh_CN"
    assert services.user_locale(user.id, default="en") == "en"
