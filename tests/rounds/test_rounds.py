"""Rounds: planning, a lab counted once by its first qualifying inspection, late syncs, the work list,
spot-check draws redone from their seed (art. 26-28)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.rounds.models import RoundChange
from app.rounds.services import draw
from tests.factories import login

from .helpers import local_noon, round_body, submission, today, world


def _plan(client, w, **kw):
    login(client, w.admin)
    resp = client.post("/api/rounds", json=round_body(w, **kw))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _labs(client, round_id):
    resp = client.get(f"/api/rounds/{round_id}/labs")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_a_lab_is_counted_once_by_its_first_qualifying_inspection(app, client):
    w = world()
    r = _plan(client, w, start=today() - timedelta(days=3), end=today() + timedelta(days=3),
              inspectors=[w.inspector, w.inspector2])
    assert r["planned"] == 3 and r["done"] == 0
    lab = w.labs[0]
    # Which inspector got lab 0 (spread evenly): that one inspects it twice, the second later.
    rows = {row["lab_id"]: row for row in _labs(client, r["id"])["labs"]}
    assert sorted(row["inspector"]["id"] for row in rows.values()).count(w.inspector.id) in (1, 2)
    mine = w.inspector if rows[lab.id]["inspector"]["id"] == w.inspector.id else w.inspector2
    login(client, mine)
    first = submission(w, lab, finished=datetime.now(UTC) - timedelta(hours=2), round_id=r["id"])
    second = submission(w, lab, finished=datetime.now(UTC) - timedelta(hours=1), round_id=r["id"])
    # Submitted in the other order: "first" is by the phone's finishing time, not arrival.
    resp2 = client.post("/api/inspections", json=second)
    resp1 = client.post("/api/inspections", json=first)
    assert resp1.status_code == resp2.status_code == 201
    login(client, w.admin)
    body = _labs(client, r["id"])
    assert body["round"]["planned"] == 3 and body["round"]["done"] == 1
    row = {row["lab_id"]: row for row in body["labs"]}[lab.id]
    assert row["state"] == "done" and row["inspection_id"] == resp1.get_json()["id"]
    assert row["done_by"]["id"] == mine.id
    assert [x["state"] for x in body["labs"]].count("pending") == 2


def test_an_offline_inspection_finished_inside_the_window_counts_when_synced_after_it(app, client):
    w = world()
    r = _plan(client, w, start=today() - timedelta(days=10), end=today() - timedelta(days=5))
    login(client, w.inspector)
    # Finished on the window's last day, reaching the server days after the window closed.
    inside = submission(w, w.labs[1], finished=local_noon(today() - timedelta(days=5)), round_id=r["id"])
    after = submission(w, w.labs[2], finished=local_noon(today() - timedelta(days=4)), round_id=r["id"])
    assert client.post("/api/inspections", json=inside).status_code == 201
    assert client.post("/api/inspections", json=after).status_code == 201  # stored, does not count
    login(client, w.admin)
    states = {row["lab_id"]: row["state"] for row in _labs(client, r["id"])["labs"]}
    assert states == {w.labs[0].id: "late", w.labs[1].id: "done", w.labs[2].id: "late"}


def test_an_inspection_by_someone_not_assigned_or_for_another_round_does_not_count(app, client):
    w = world()
    r = _plan(client, w, start=today() - timedelta(days=3), end=today() + timedelta(days=3))
    login(client, w.inspector2)  # not assigned: refused with the round, stored without (does not count)
    with_round = submission(w, w.labs[0], finished=datetime.now(UTC) - timedelta(hours=1), round_id=r["id"])
    resp = client.post("/api/inspections", json=with_round)
    assert resp.status_code == 403 and resp.get_json()["error"]["message"] == "您未被指派在该检查计划中检查此实验室。"
    without = submission(w, w.labs[0], finished=datetime.now(UTC) - timedelta(hours=1))
    assert client.post("/api/inspections", json=without).status_code == 201
    login(client, w.admin)
    assert _labs(client, r["id"])["round"]["done"] == 0
    # Assigned in another round of the same lab is not assigned in this one.
    _plan(client, w, start=today() - timedelta(days=3), end=today() + timedelta(days=3), inspectors=[w.inspector2])
    assert _labs(client, r["id"])["round"]["done"] == 0


def test_the_submit_refuses_an_unknown_round_and_a_lab_outside_it(app, client):
    w = world()
    r = _plan(client, w, start=today(), end=today() + timedelta(days=3))
    login(client, w.inspector)
    resp = client.post("/api/inspections", json=submission(w, w.labs[0], finished=datetime.now(UTC),
                                                           round_id=r["id"] + 100))
    assert resp.status_code == 400 and resp.get_json()["error"]["message"] == "没有该检查计划。"
    resp = client.post("/api/inspections", json=submission(w, w.other_lab, finished=datetime.now(UTC),
                                                           round_id=r["id"]))
    assert resp.status_code == 400


def test_the_work_list_shows_my_labs_still_to_do_by_building_and_floor(app, client):
    w = world()
    for n, lab in enumerate(w.labs):
        lab.building, lab.floor = "理工楼", str(3 - n)
    db.session.commit()
    r = _plan(client, w, start=today() - timedelta(days=1), end=today() + timedelta(days=3))
    login(client, w.inspector)
    client.post("/api/inspections", json=submission(w, w.labs[1], finished=datetime.now(UTC), round_id=r["id"]))
    mine = client.get("/api/me/rounds").get_json()
    assert [x["id"] for x in mine] == [r["id"]]
    assert [lab["lab_id"] for lab in mine[0]["labs"]] == [w.labs[2].id, w.labs[0].id]  # floor 1, then 3
    assert mine[0]["checklist_version_id"] == w.version.id and mine[0]["level"] == "school"
    login(client, w.inspector2)
    assert client.get("/api/me/rounds").get_json() == []


def test_spread_evenly_and_hand_assignments_are_recorded(app, client):
    w = world()
    r = _plan(client, w, start=today(), end=today() + timedelta(days=3), inspectors=[w.inspector, w.inspector2])
    rows = _labs(client, r["id"])["labs"]
    per = [row["inspector"]["id"] for row in rows]
    assert sorted(per.count(i.id) for i in (w.inspector, w.inspector2)) == [1, 2]
    resp = client.patch(f"/api/rounds/{r['id']}/assignments",
                        json={"assignments": [{"lab_id": lab.id, "inspector_id": w.inspector2.id} for lab in w.labs]})
    assert resp.status_code == 200 and resp.get_json()["changed"] == per.count(w.inspector.id)
    assert {row["inspector"]["id"] for row in _labs(client, r["id"])["labs"]} == {w.inspector2.id}
    changes = db.session.scalars(select(RoundChange).where(RoundChange.round_id == r["id"])).all()
    assert [c.what for c in changes] == ["created", "assigned"]
    # A lab officer cannot be assigned to inspect at the school level.
    resp = client.patch(f"/api/rounds/{r['id']}/assignments",
                        json={"assignments": [{"lab_id": w.labs[0].id, "inspector_id": w.officer.id}]})
    assert resp.status_code == 400


def test_a_spot_check_draw_is_redone_from_its_seed(app, client):
    w = world()
    r = _plan(client, w, start=today(), end=today() + timedelta(days=3), spot_check=2, seed=20260307,
              labs={"mode": "all"})
    assert r["unannounced"] is True and r["seed"] == 20260307 and r["planned"] == 2
    record = client.get(f"/api/rounds/{r['id']}/draw").get_json()
    assert record["matches"] is True and record["redone"] == record["labs"]
    assert record["labs"] == draw(record["population"], 2, 20260307)
    assert record["population"] == sorted([lab.id for lab in w.labs] + [w.other_lab.id])
    # Same seed, same population: the same labs, whoever redoes it and however often.
    assert draw(record["population"], 2, 20260307) == draw(list(record["population"]), 2, 20260307)
    # A round without a draw has none to show.
    plain = _plan(client, w, start=today(), end=today() + timedelta(days=3))
    assert client.get(f"/api/rounds/{plain['id']}/draw").status_code == 404


def test_bad_plans_are_refused_with_a_clear_400(app, client):
    w = world()
    login(client, w.admin)
    bad = [
        round_body(w, start=today(), end=today() - timedelta(days=1)),
        round_body(w, start=today(), end=today(), checklist_key="nope"),
        round_body(w, start=today(), end=today(), kind="special"),  # no topic
        round_body(w, start=today(), end=today(), kind="college_monthly"),  # no college
        round_body(w, start=today(), end=today(), labs={"mode": "list", "lab_ids": [999999]}),
        round_body(w, start=today(), end=today(), labs={"mode": "hazard_tag", "hazard_tag": "lasers"}),
    ]
    for body in [*bad, [1, 2], "x"]:
        resp = client.post("/api/rounds", json=body)
        assert resp.status_code == 400, (body, resp.get_json())
        assert resp.get_json()["error"]["message"]


def test_the_offline_bundle_carries_my_rounds_in_a_fixed_number_of_statements(app, client):
    from sqlalchemy import event

    from app.rounds.services import work_list
    from app.timeutil import utcnow

    w = world()
    _plan(client, w, start=today() - timedelta(days=1), end=today() + timedelta(days=3))
    login(client, w.inspector)
    bundle = client.get("/api/offline/bundle").get_json()
    assert [len(r["labs"]) for r in bundle["rounds"]] == [3]
    assert {lab["lab_id"] for lab in bundle["rounds"][0]["labs"]} <= {lab["id"] for lab in bundle["labs"]}

    def statements():
        n = {"n": 0}

        def count(*args):
            n["n"] += 1

        db.session.expire_all()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            work_list(w.inspector, utcnow())
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return n["n"]

    one = statements()
    for _ in range(4):
        _plan(client, w, start=today() - timedelta(days=1), end=today() + timedelta(days=3))
    assert statements() == one


def test_rounds_are_never_deleted(app, client):
    import pytest

    from app.rounds.models import InspectionRound, RoundDeletionRefused, RoundLab

    w = world()
    r = _plan(client, w, start=today(), end=today() + timedelta(days=3))
    with pytest.raises(RoundDeletionRefused):
        db.session.delete(db.session.get(InspectionRound, r["id"]))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(RoundDeletionRefused):
        db.session.execute(RoundLab.__table__.delete())
    db.session.rollback()
    change = db.session.scalars(select(RoundChange)).first()
    change.what = "rewritten"
    with pytest.raises(RoundDeletionRefused):
        db.session.flush()
    db.session.rollback()


def test_a_round_of_the_red_and_orange_labs_plans_those_graded_i_and_ii(app, client):
    """Issue 22: labs chosen by risk grade (MOE 2024 measures: I red, II orange, ...)."""
    from app.org.models import RiskLevel

    w = world()
    for lab, level in zip(w.labs, (RiskLevel("I"), RiskLevel("II"), RiskLevel("IV")), strict=True):
        lab.risk_level = level
    db.session.commit()
    r = _plan(client, w, start=today(), end=today() + timedelta(days=3),
              labs={"mode": "risk_level", "risk_levels": ["I", "II"]})
    assert sorted(x["lab_id"] for x in _labs(client, r["id"])["labs"]) == sorted([w.labs[0].id, w.labs[1].id])
    for bad in ({"mode": "risk_level"}, {"mode": "risk_level", "risk_levels": ["V"]}):
        resp = client.post("/api/rounds", json=round_body(w, start=today(), end=today(), labs=bad))
        assert resp.status_code == 400 and resp.get_json()["error"]["message"], resp.get_json()
