"""GET /api/labs/<id>/card: the lab card in one answer, the same facts as the three calls it replaces."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from app.auth.models import Role
from app.extensions import db
from app.tickets.models import TicketState
from app.timeutil import utcnow
from tests.factories import (
    load_shipped_checklists,
    login,
    make_college,
    make_daily_check,
    make_lab,
    make_ticket,
    make_user,
)
from tests.pwa import statements_for


def _world():
    load_shipped_checklists()
    a, b = make_college(), make_college()
    lab_a = make_lab(a, category="chemistry", hazard_tags=["hazardous_chemicals"])
    lab_b = make_lab(b, category="biology", hazard_tags=["pathogens"])
    return a, b, lab_a, lab_b


def test_card_holds_what_the_three_calls_held(client):
    a, b, lab_a, lab_b = _world()
    make_ticket(lab_a, title="走廊堆放杂物")
    closed = make_ticket(lab_a, title="已整改")
    closed.state = TicketState.closed
    db.session.commit()
    make_ticket(lab_b, title="other college")
    inspector = make_user(Role.inspector, college=a)
    login(client, inspector)

    resp = client.get(f"/api/labs/{lab_a.id}/card")
    assert resp.status_code == 200
    card = resp.get_json()
    assert card["lab"] == client.get(f"/api/labs/{lab_a.id}").get_json()
    assert card["checklists"] == client.get(f"/api/labs/{lab_a.id}/checklists").get_json()
    listed = client.get(f"/api/labs/{lab_a.id}/tickets").get_json()
    assert card["open_tickets"] == [t for t in listed if t["state"] != "closed"]
    assert [t["title"] for t in card["open_tickets"]] == ["走廊堆放杂物"]
    assert card["more_open_tickets"] is False
    assert card["daily_done_today"] is None  # not this user's lab
    assert {c["key"]: c["levels"] for c in card["checklists"]}.get("full") == ["college"]
    assert resp.headers["Cache-Control"] == "no-store"


def test_card_tells_the_labs_officer_whether_today_is_done(client):
    a, b, lab_a, lab_b = _world()
    officer = make_user(Role.lab_officer, lab=lab_a)
    login(client, officer)
    card = client.get(f"/api/labs/{lab_a.id}/card").get_json()
    assert card["daily_done_today"] is False
    assert [c["levels"] for c in card["checklists"] if c["key"] == "daily"] == [["daily"]]
    make_daily_check(lab_a, officer, utcnow() - timedelta(minutes=1))
    assert client.get(f"/api/labs/{lab_a.id}/card").get_json()["daily_done_today"] is True


def test_card_of_another_colleges_lab_is_refused_and_of_no_lab_is_404(client):
    a, b, lab_a, lab_b = _world()
    login(client, make_user(Role.inspector, college=a))
    assert client.get(f"/api/labs/{lab_b.id}/card").status_code == 403
    resp = client.get("/api/labs/999999/card")
    assert resp.status_code == 404 and resp.get_json()["error"]["message"]


def test_card_needs_a_login(client):
    a, b, lab_a, lab_b = _world()
    resp = client.get(f"/api/labs/{lab_a.id}/card", headers={"Accept": "application/json"})
    assert resp.status_code == 401


def test_card_issues_a_fixed_number_of_queries(client, app):
    a, b, lab_a, lab_b = _world()
    officer = make_user(Role.lab_officer, lab=lab_a)
    make_ticket(lab_a)
    login(client, officer)
    url = f"/api/labs/{lab_a.id}/card"  # read once: the factories' commits expire lab_a

    def count():
        return statements_for(client, app, url)

    count()  # warm the per-process caches (checklist snapshots, listing plans)
    few = count()
    for _ in range(5):
        make_ticket(lab_a)
        make_user(Role.lab_officer, lab=lab_a)
    assert count() == few
    assert few <= 10


def test_card_and_bundle_carry_the_risk_grade(client):
    """The PWA's lab card shows the risk grade (MOE 2024 measures): from the card and from the offline bundle."""
    from app.org.services import assess_risk

    a, b, lab_a, lab_b = _world()
    leader = make_user(Role.college_leader, college=a)
    inspector = make_user(Role.inspector, college=a)
    login(client, inspector)
    assert client.get(f"/api/labs/{lab_a.id}/card").get_json()["lab"]["risk_level"] is None
    assess_risk(lab_a, {"hazchem_amount": 80, "controlled_chemicals": False, "drug_precursors": False,
                        "special_equipment": 0, "gas_cylinders": 0, "biosafety_level": "none", "radiation": "none",
                        "laser_class": "none"}, leader.id)
    assert client.get(f"/api/labs/{lab_a.id}/card").get_json()["lab"]["risk_level"] == "II"
    bundle = client.get("/api/offline/bundle").get_json()
    assert {lab["id"]: lab["risk_level"] for lab in bundle["labs"]}[lab_a.id] == "II"
    page = client.get(f"/app/labs/{lab_a.id}").get_data(as_text=True)
    strings = json.loads(re.search(r'<script type="application/json" id="i18n">(.*?)</script>', page, re.S).group(1))
    assert 'id="lab-risk"' in page and strings["risk_II"] == "Ⅱ级 · 橙 · 高风险"  # lab.js: t(`risk_${level}`)
    assert strings["risk_none"] == "未定级"
