"""Who sees which round in listings (the policy's round_clause) and on a round's page (_can_view_round):
a college leader only their college's, an inspector only those assigned to them, a lab officer never
an unannounced round before it starts (art. 9, 27, 28)."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.rounds import services
from app.rounds.schemas import RoundInSchema
from tests.factories import login

from .helpers import round_body, security_officer, today, world


def _plan(w, user=None, **kw):
    data = RoundInSchema().load(round_body(w, **kw))
    return services.create_round(user or w.admin, data, services.plan_facts(data), current_app.config).id


def _listed(client, user):
    login(client, user)
    return {r["id"] for r in client.get("/api/rounds").get_json()}


def test_listings_and_pages_follow_the_policy(app, client):
    w = world()
    t = today()
    labs = [lab.id for lab in w.labs]
    school = _plan(w, start=t - timedelta(days=1), end=t + timedelta(days=5))
    college = _plan(w, w.leader, start=t - timedelta(days=1), end=t + timedelta(days=5), kind="college_monthly",
                    owner_college_id=w.college.id, inspector_ids=[])
    other = _plan(w, w.other_leader, start=t - timedelta(days=1), end=t + timedelta(days=5), kind="college_monthly",
                  owner_college_id=w.other_college.id, inspector_ids=[],
                  labs={"mode": "list", "lab_ids": [w.other_lab.id]})
    hidden = _plan(w, start=t + timedelta(days=1), end=t + timedelta(days=5), unannounced=True,
                   inspector_ids=[w.inspector2.id])
    begun = _plan(w, start=t - timedelta(days=1), end=t + timedelta(days=5), unannounced=True,
                  labs={"mode": "list", "lab_ids": labs[:1]}, inspector_ids=[w.inspector2.id])
    everything = {school, college, other, hidden, begun}
    assert _listed(client, w.admin) == everything
    assert _listed(client, w.leader) == {college}
    assert _listed(client, w.other_leader) == {other}
    assert _listed(client, w.inspector) == {school}
    assert _listed(client, w.inspector2) == {hidden, begun}
    assert _listed(client, w.officer) == {school, college, begun}  # not the unannounced one before it starts
    # The pages agree with the listings, round by round.
    for user in (w.admin, w.leader, w.other_leader, w.inspector, w.inspector2, w.officer):
        listed = _listed(client, user)
        for round_id in everything:
            status = client.get(f"/api/rounds/{round_id}/labs").status_code
            assert status == (200 if round_id in listed else 403), (user.name, round_id, status)
    # A lab officer sees their own lab of a round, not the others'.
    login(client, w.officer)
    assert [lab["lab_id"] for lab in client.get(f"/api/rounds/{school}/labs").get_json()["labs"]] == labs[:1]


def test_a_department_plans_special_rounds_of_its_remit_only(app, client):
    w = world()
    _security, officer, special = security_officer()
    login(client, officer)
    body = round_body(w, start=today(), end=today() + timedelta(days=3), kind="special",
                      checklist_key=special.checklist.key)
    assert client.post("/api/rounds", json={**body, "topic": "fire"}).status_code == 201
    assert client.post("/api/rounds", json={**body, "topic": "biosafety"}).status_code == 403
    assert client.post("/api/rounds", json=round_body(w, start=today(), end=today())).status_code == 403
