"""A round on the phone (issue 22): the admin plans a round of three labs for an inspector; the
inspector's home lists them (saved for offline use), the inspector inspects one offline, and after
the sync the round shows 1/3 done, counted by the inspection the phone submitted with the round.
Waits are on state, never on time."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db
from app.inspections.models import Inspection
from app.timeutil import school_today
from tests.factories import load_shipped_checklists, login, make_college, make_lab, make_user

from .test_inspector_flow import _open, _review_and_submit, _until, _wait_offline_ready


def test_the_inspector_works_a_round_offline_and_it_shows_one_of_three_done(phone, live_server, app):
    load_shipped_checklists()
    college = make_college(name="信息学院")
    labs = [make_lab(college, category="general", name=f"计算机实验室 {c}") for c in "ABC"]
    for floor, lab in zip(("5", "2", "3"), labs, strict=True):
        lab.floor = floor
    db.session.commit()
    admin = make_user(Role.school_admin, name="实验室处")
    inspector = make_user(Role.inspector, name="校检查员")
    lab_ids = [lab.id for lab in labs]

    # The admin plans the round through the API.
    today = school_today(current_app.config["SCHOOL_TIMEZONE"])
    api = app.test_client()
    login(api, admin)
    resp = api.post("/api/rounds", json={
        "title": "秋季校级安全检查", "kind": "school_wide", "checklist_key": "full",
        "window_from": (today - timedelta(days=1)).isoformat(), "window_to": (today + timedelta(days=6)).isoformat(),
        "labs": {"mode": "list", "lab_ids": lab_ids}, "inspector_ids": [inspector.id],
    })
    assert resp.status_code == 201, resp.get_json()
    round_id = resp.get_json()["id"]

    # The inspector's home lists the three labs by floor, and keeps them for offline use.
    ctx = phone()
    page = ctx.new_page()
    _open(page, "/app", inspector)
    page.wait_for_url("**/app")
    page.wait_for_selector(f'#rounds-section:not([hidden]) li[data-round="{round_id}"]')
    links = page.locator(f'li[data-round="{round_id}"] a[data-round-lab]')
    _until(page, f"document.querySelectorAll('li[data-round=\"{round_id}\"] a[data-round-lab]').length === 3")
    assert [int(links.nth(i).get_attribute("data-round-lab")) for i in range(3)] == [labs[1].id, labs[2].id, labs[0].id]
    assert "0/3" in page.locator(f'li[data-round="{round_id}"]').inner_text()
    _wait_offline_ready(page)
    _until(page, f"""async () => {{
        const r = await caches.match('/api/offline/bundle');
        const b = r && await r.json();
        return Boolean(b && (b.rounds || []).some((x) => x.id === {round_id} && x.labs.length === 3));
    }}""")

    # Offline: the first lab of the list, from the home's work list.
    ctx.set_offline(True)
    _until(page, "navigator.onLine === false")
    links.nth(0).click()
    page.wait_for_url(f"**/app/labs/{labs[1].id}/inspect/full?level=school&round={round_id}")
    page.wait_for_selector('body[data-inspect-ready="1"]')
    page.locator("#mode-list").click()
    items = page.locator("#items > li")
    for i in range(items.count()):
        items.nth(i).locator(".choice.pass").click()
    _until(page, "document.querySelectorAll('#items > li[data-result=\"\"]').length === 0")
    _review_and_submit(page)
    page.wait_for_selector('#done[data-state="queued"]')
    db.session.expire_all()
    assert db.session.scalar(select(Inspection.id)) is None

    # Back online: the outbox syncs; the inspection carries the round and the round shows 1/3.
    ctx.set_offline(False)
    page.wait_for_selector('#outbox-badge[data-count="0"]')
    db.session.expire_all()
    stored = db.session.scalars(select(Inspection)).all()
    assert [(i.lab_id, i.round_id) for i in stored] == [(labs[1].id, round_id)]
    body = api.get(f"/api/rounds/{round_id}/labs").get_json()
    assert (body["round"]["done"], body["round"]["planned"]) == (1, 3)
    assert {lab["lab_id"]: lab["state"] for lab in body["labs"]} == {
        labs[0].id: "pending", labs[1].id: "done", labs[2].id: "pending"}
    page.goto("/app")
    page.wait_for_selector(f'li[data-round="{round_id}"]')
    _until(page, f"document.querySelector('li[data-round=\"{round_id}\"]').textContent.includes('1/3')")
    assert page.locator(f'li[data-round="{round_id}"] a[data-round-lab]').count() == 2
