"""A round on the phone (issue 22): the admin plans a round of three labs for an inspector on the
planning page (/rounds/new, in the browser); the inspector's home lists them (saved for offline use),
the inspector inspects one offline, and after the sync the admin's round page shows 1/3 done with the
inspection the phone submitted linked. Waits are on state, never on time."""
from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db
from app.inspections.models import Inspection
from app.rounds.models import InspectionRound, RoundLab
from app.timeutil import school_today
from tests.factories import load_shipped_checklists, make_college, make_lab, make_user

from .test_inspector_flow import _open, _review_and_submit, _until, _wait_offline_ready


def _plan_on_the_page(page, admin, title, labs, inspector, window) -> int:
    """The admin fills the planning form: a school-wide check with the full list, three labs ticked
    in the list, one inspector, spread evenly. Returns the new round's id (from the page it lands on)."""
    _open(page, "/rounds/new", admin)
    page.wait_for_url("**/rounds/new")
    page.wait_for_selector('body[data-round-form-ready="1"]')
    page.locator('input[name="title"]').fill(title)
    page.locator('input[name="kind"][value="school_wide"]').check()
    page.locator('select[name="checklist_key"]').select_option("full")
    page.locator('input[name="window_from"]').fill(window[0].isoformat())
    page.locator('input[name="window_to"]').fill(window[1].isoformat())
    page.locator('input[name="labs_mode"][value="list"]').check()
    for lab in labs:
        page.locator(f'input[name="lab_ids"][value="{lab.id}"]').check()
    page.locator(f'input[name="inspector_ids"][value="{inspector.id}"]').check()
    page.locator("#plan-submit").click()
    page.wait_for_url(re.compile(r".*/rounds/\d+$"))
    return int(re.search(r"/rounds/(\d+)$", page.url).group(1))


def test_the_inspector_works_a_round_offline_and_it_shows_one_of_three_done(phone, live_server, app):
    load_shipped_checklists()
    college = make_college(name="信息学院")
    labs = [make_lab(college, category="general", name=f"计算机实验室 {c}") for c in "ABC"]
    for floor, lab in zip(("5", "2", "3"), labs, strict=True):
        lab.floor = floor
    db.session.commit()
    admin = make_user(Role.school_admin, name="实验室处")
    inspector = make_user(Role.inspector, name="校检查员")

    # The admin plans the round on the planning page, in the browser.
    today = school_today(current_app.config["SCHOOL_TIMEZONE"])
    office = phone().new_page()
    round_id = _plan_on_the_page(office, admin, "秋季校级安全检查", labs, inspector,
                                 (today - timedelta(days=1), today + timedelta(days=6)))
    office.wait_for_selector('#round-figures[data-done="0"][data-planned="3"]')
    db.session.expire_all()
    planned = db.session.get(InspectionRound, round_id)
    assert (planned.title, planned.kind.value, planned.checklist_key) == ("秋季校级安全检查", "school_wide", "full")
    assigned = db.session.execute(select(RoundLab.lab_id, RoundLab.inspector_id).where(RoundLab.round_id == round_id))
    assert sorted(assigned.all()) == sorted((lab.id, inspector.id) for lab in labs)

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

    # Back online: the outbox syncs; the inspection carries the round.
    ctx.set_offline(False)
    page.wait_for_selector('#outbox-badge[data-count="0"]')
    db.session.expire_all()
    stored = db.session.scalars(select(Inspection)).all()
    assert [(i.lab_id, i.round_id) for i in stored] == [(labs[1].id, round_id)]
    page.goto("/app")
    page.wait_for_selector(f'li[data-round="{round_id}"]')
    _until(page, f"document.querySelector('li[data-round=\"{round_id}\"]').textContent.includes('1/3')")
    assert page.locator(f'li[data-round="{round_id}"] a[data-round-lab]').count() == 2

    # The admin's round page: 1/3 done, the inspected lab linked to its inspection, the others pending.
    office.reload()
    office.wait_for_selector('#round-figures[data-done="1"][data-planned="3"]')
    assert "1/3" in office.locator("#round-figures").inner_text()
    states = {int(li.get_attribute("data-lab")): li.get_attribute("data-state")
              for li in office.locator("li[data-lab]").all()}
    assert states == {labs[0].id: "pending", labs[1].id: "done", labs[2].id: "pending"}
    link = office.locator(f'li[data-lab="{labs[1].id}"] a[data-inspection]')
    assert int(link.get_attribute("data-inspection")) == stored[0].id
    link.click()
    office.wait_for_url(f"**/inspections/{stored[0].id}")
