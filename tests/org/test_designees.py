"""Daily-check designees (art. 29: "by the lab's officer or someone they designate"): named by the
lab's officer, recorded, revocable; the designee may do the daily check, an unrelated user may not."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.org import closures
from app.org.models import DailyCheckDesignee
from app.policy import Action, may
from app.timeutil import school_today
from tests.factories import login, make_user
from tests.factories.inspections import inspection_payload, make_small_world


@pytest.fixture
def w(app):
    w = make_small_world()
    w.student = make_user(name="值日学生")  # no role at all
    w.stranger = make_user(name="路人")
    return w


def fresh(user):
    """The user as a new request loads it (the policy's scope is cached per user object)."""
    user = db.session.get(User, user.id)
    user._labsafe_scope = None
    return user


def daily(client, w):
    return client.post("/api/inspections", json=inspection_payload(w.lab_a, w.daily, level="daily"))


def test_the_officer_names_a_designee_who_may_then_do_the_daily_check(client, w, app):
    login(client, w.officer_a)
    resp = client.post(f"/api/labs/{w.lab_a.id}/designate", json={"user_id": w.student.id})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    designation = resp.json
    assert designation["named_by_id"] == w.officer_a.id and designation["revoked_at"] is None
    assert client.post(f"/api/labs/{w.lab_a.id}/designate", json={"user_id": w.student.id}).status_code == 409
    assert client.post(f"/api/labs/{w.lab_a.id}/designate", json={"user_id": 999999}).status_code == 400
    # The card shows who is designated.
    card = client.get(f"/api/labs/{w.lab_a.id}/card")
    assert [d["name"] for d in card.json["daily_designees"]] == ["值日学生"]

    assert may(fresh(w.student), Action.DAILY_CHECK, w.lab_a)
    assert not may(fresh(w.student), Action.DAILY_CHECK, w.lab_b)
    assert not may(fresh(w.stranger), Action.DAILY_CHECK, w.lab_a)

    designee = app.test_client()
    login(designee, w.student)
    assert daily(designee, w).status_code == 201
    bundle = designee.get("/api/offline/bundle").json
    assert [lab["id"] for lab in bundle["labs"]] == [w.lab_a.id]
    stranger = app.test_client()
    login(stranger, w.stranger)
    assert daily(stranger, w).status_code == 403

    # Revoked: recorded, and the designee may no longer do the check.
    resp = client.post(f"/api/designees/{designation['id']}/revoke")
    assert resp.status_code == 200 and resp.json["revoked_by_id"] == w.officer_a.id
    assert client.post(f"/api/designees/{designation['id']}/revoke").status_code == 409
    assert db.session.scalar(select(DailyCheckDesignee.revoked_at).where(DailyCheckDesignee.id == designation["id"]))
    assert not may(fresh(w.student), Action.DAILY_CHECK, w.lab_a)
    history = client.get(f"/api/labs/{w.lab_a.id}/designees").json
    assert [(h["user_id"], h["revoked_at"] is not None) for h in history] == [(w.student.id, True)]


def test_a_designation_holds_only_within_its_dates(client, w):
    today = school_today(current_app.config["SCHOOL_TIMEZONE"])
    login(client, w.officer_a)
    past = {"user_id": w.student.id, "from": (today - timedelta(days=10)).isoformat(),
            "to": (today - timedelta(days=1)).isoformat()}
    assert client.post(f"/api/labs/{w.lab_a.id}/designate", json=past).status_code == 201
    assert not may(fresh(w.student), Action.DAILY_CHECK, w.lab_a)
    backwards = {"user_id": w.student.id, "from": "2027-02-01", "to": "2027-01-01"}
    assert client.post(f"/api/labs/{w.lab_a.id}/designate", json=backwards).status_code == 400
    current = {"user_id": w.student.id, "from": today.isoformat(), "to": (today + timedelta(days=7)).isoformat()}
    assert client.post(f"/api/labs/{w.lab_a.id}/designate", json=current).status_code == 201
    assert may(fresh(w.student), Action.DAILY_CHECK, w.lab_a)


def test_only_the_labs_officer_designates(client, w):
    for user in (w.leader_a, w.inspector_a, w.officer_b, w.student):
        c = client.application.test_client()
        login(c, user)
        assert c.post(f"/api/labs/{w.lab_a.id}/designate", json={"user_id": w.student.id}).status_code == 403


def test_the_lab_page_form_and_closed_until_on_the_card(client, w):
    login(client, w.officer_a)
    page = client.get(f"/labs/{w.lab_a.id}").get_data(as_text=True)
    assert "日常检查指定人员" in page and f'value="{w.leader_a.id}"' in page  # a user of the lab's college
    assert client.post(f"/labs/{w.lab_a.id}/designees", data={"user_id": w.leader_a.id}).status_code == 302
    assert client.post(f"/labs/{w.lab_a.id}/designees", data={"user_id": "x"}).status_code == 400
    designation = db.session.scalar(select(DailyCheckDesignee).where(DailyCheckDesignee.user_id == w.leader_a.id))
    assert client.post(f"/designees/{designation.id}/revoke").status_code == 302
    today = school_today(current_app.config["SCHOOL_TIMEZONE"])
    closures.close_labs(w.admin, lab_ids=[w.lab_a.id], start=today, end=today + timedelta(days=30), reason="寒假",
                        now=datetime(2026, 12, 1))
    card = client.get(f"/api/labs/{w.lab_a.id}/card").json
    assert card["closed_until"] == (today + timedelta(days=30)).isoformat()
    bundle = client.get("/api/offline/bundle").json
    assert bundle["labs"][0]["closed_until"] == card["closed_until"]
    assert "关闭至" in client.get(f"/labs/{w.lab_a.id}").get_data(as_text=True)
    assert date.fromisoformat(card["closed_until"]) > today


def test_a_check_done_while_designated_counts_when_it_syncs_after_the_designation_ended(client, w, app):
    """Art. 29: judged on the school day the phone finished the check, not the day it synced."""
    tz = current_app.config["SCHOOL_TIMEZONE"]
    today = school_today(tz)
    login(client, w.officer_a)
    yesterday_only = {"user_id": w.student.id, "from": (today - timedelta(days=3)).isoformat(),
                      "to": (today - timedelta(days=1)).isoformat()}
    assert client.post(f"/api/labs/{w.lab_a.id}/designate", json=yesterday_only).status_code == 201
    designee = app.test_client()
    login(designee, w.student)

    # Finished yesterday (school time) while offline, synced today: stored.
    finished = datetime.combine(today, datetime.min.time()) - timedelta(hours=12)  # naive school-local noon
    finished_utc = finished.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
    late = inspection_payload(w.lab_a, w.daily, level="daily")
    late["finished_at"] = finished_utc.isoformat().replace("+00:00", "Z")
    late["started_at"] = (finished_utc - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    resp = designee.post("/api/inspections", json=late)
    assert resp.status_code == 201, resp.get_data(as_text=True)

    # Finished today, after the designation ended: refused, with a message.
    resp = daily(designee, w)
    assert resp.status_code == 403
    # The lab's own officer is never judged by a designation.
    assert daily(client, w).status_code == 201
