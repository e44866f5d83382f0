"""Scores and grades (issue 22): weights, N/A out of the denominator, red lines grade D whatever the
score, a failed major item keeps an inspection out of A, bands are settings, and re-scoring uses each
inspection's own checklist version."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import update

from app.auth.models import Role
from app.extensions import db
from app.inspections import scoring
from app.inspections.models import Inspection
from tests.factories import login, make_college, make_lab, make_user
from tests.factories.checklists import make_checklist
from tests.factories.inspections import inspection_payload

BANDS = {"GRADE_BANDS": (("A", 90.0), ("B", 75.0), ("C", 60.0))}


# ---- the rule, on plain items ----------------------------------------------------------------------

def _items(*specs):
    """{id: item} from (weight, must_pass, severity) tuples, ids 1, 2, ..."""
    return {n: SimpleNamespace(weight=w, must_pass=m, severity=s) for n, (w, m, s) in enumerate(specs, start=1)}


def test_score_is_passed_weight_over_answered_weight():
    items = _items((3, False, "general"), (1, False, "general"), (6, False, "general"))
    assert scoring.score_answers(items, [(1, "pass"), (2, "pass"), (3, "pass")], BANDS) == scoring.Score(100.0, "A")
    assert scoring.score_answers(items, [(1, "fail"), (2, "pass"), (3, "pass")], BANDS).score == 70.0
    assert scoring.score_answers(items, [(1, "pass"), (2, "fail"), (3, "pass")], BANDS) == scoring.Score(90.0, "A")
    assert scoring.score_answers(items, [(1, "pass"), (2, "pass"), (3, "fail")], BANDS) == scoring.Score(40.0, "D")
    # One decimal, rounded half up.
    assert scoring.score_answers(_items(*[(1, False, "general")] * 3), [(1, "pass"), (2, "pass"), (3, "fail")],
                                 BANDS).score == 66.7


def test_na_leaves_the_denominator():
    items = _items((1, False, "general"), (1, False, "general"), (8, False, "general"))
    # Without the N/A item the two others are all there is: 1 of 2.
    assert scoring.score_answers(items, [(1, "pass"), (2, "fail"), (3, "na")], BANDS).score == 50.0
    assert scoring.score_answers(items, [(1, "pass"), (2, "na"), (3, "na")], BANDS) == scoring.Score(100.0, "A")
    # Nothing scorable: no score, no grade.
    assert scoring.score_answers(items, [(1, "na"), (2, "na"), (3, "na")], BANDS) == scoring.Score(None, None)


def test_a_failed_red_line_grades_d_whatever_the_score():
    items = _items((1, True, "major"), *[(1, False, "general")] * 99)
    answers = [(1, "fail")] + [(n, "pass") for n in range(2, 101)]
    result = scoring.score_answers(items, answers, BANDS)
    assert result == scoring.Score(99.0, "D", red_line_failed=True)
    # A red line answered N/A (it does not apply here) is no failure.
    assert scoring.score_answers(items, [(1, "na")] + answers[1:], BANDS).grade == "A"


def test_a_failed_major_item_keeps_an_inspection_out_of_a():
    items = _items((1, False, "major"), *[(1, False, "general")] * 19)
    answers = [(1, "fail")] + [(n, "pass") for n in range(2, 21)]
    assert scoring.score_answers(items, answers, BANDS) == scoring.Score(95.0, "B")


@pytest.mark.parametrize("score, grade", [(100, "A"), (90, "A"), (89.9, "B"), (75, "B"), (74.9, "C"), (60, "C"),
                                          (59.9, "D"), (0, "D")])
def test_bands(score, grade):
    assert scoring.grade_for(score, red_line_failed=False, major_failed=False, config=BANDS) == grade


def test_bands_are_settings_and_bad_bands_are_refused():
    strict = {"GRADE_BANDS": (("A", 95.0), ("B", 85.0))}
    assert scoring.grade_for(90, red_line_failed=False, major_failed=False, config=strict) == "B"
    assert scoring.grade_for(84, red_line_failed=False, major_failed=False, config=strict) == "D"
    for bad in ((("A", 60.0), ("B", 75.0)), (("B", 90.0),), (("A", 90), ("B", 80), ("C", 70), ("D", 60)),
                (("A", 120.0),)):
        with pytest.raises(ValueError, match="GRADE_BANDS"):
            scoring.bands({"GRADE_BANDS": bad})


# ---- end to end: files -> versions -> submit -> API, pages, re-scoring ----------------------------

ITEMS = [
    {"id": "exits", "article": "23(1)", "text": "疏散通道畅通", "severity": "general", "weight": 3},
    {"id": "five-doubles", "article": "16(2)", "text": "剧毒品五双", "hazard_tags": ["highly_toxic"],
     "severity": "major", "must_pass": True, "stars": 3},
    {"id": "tidy", "article": "24(7)", "text": "整洁", "severity": "general"},
    {"id": "labels", "article": "16(2)", "text": "标签完整", "severity": "general", "weight": 5},
]


@pytest.fixture
def world(app, tmp_path):
    college = make_college()
    w = SimpleNamespace(
        lab=make_lab(college, category="chemistry", hazard_tags=["highly_toxic"]),
        inspector=make_user(Role.inspector, college=college),
        dir=tmp_path,
    )
    w.v1 = make_checklist("scored", tmp_path, items=ITEMS)
    return w


def _by_key(version):
    return {i.item_key: i.id for i in version.items}


def _submit(client, w, version, **results_by_key):
    ids = _by_key(version)
    payload = inspection_payload(w.lab, version, results={ids[k]: v for k, v in results_by_key.items()})
    resp = client.post("/api/inspections", json=payload)
    assert resp.status_code == 201, resp.get_json()
    return payload, resp.get_json()


def test_submit_answers_and_stores_score_and_grade_everywhere(client, world):
    login(client, world.inspector)
    # Everything passes but the red line: 9 of 10 points, still D.
    payload, body = _submit(client, world, world.v1, **{"five-doubles": "fail"})
    assert (body["score"], body["grade"]) == (90.0, "D")
    stored = db.session.get(Inspection, body["id"])
    assert (stored.score, stored.grade, stored.checklist_version_id) == (90.0, "D", world.v1.id)
    assert client.post("/api/inspections", json=payload).get_json() == body  # a replay answers the same

    detail = client.get(f"/api/inspections/{body['id']}").get_json()
    assert (detail["score"], detail["grade"]) == (90.0, "D")
    red = [a for a in detail["answers"] if a["must_pass"]]
    assert [a["item_key"] for a in red] == ["five-doubles"] and red[0]["result"] == "fail"
    assert {a["item_key"]: a["weight"] for a in detail["answers"]}["labels"] == 5
    history = client.get(f"/api/labs/{world.lab.id}/inspections").get_json()
    assert [(i["score"], i["grade"]) for i in history] == [(90.0, "D")]

    page = client.get(f"/inspections/{body['id']}?lang=en").get_data(as_text=True)
    assert 'data-grade="D"' in page and "90.0" in page and "Red line" in page
    lab_page = client.get(f"/labs/{world.lab.id}").get_data(as_text=True)
    assert "D · " in lab_page and "90.0" in lab_page


def test_submit_na_and_weights(client, world):
    login(client, world.inspector)
    # N/A leaves the denominator: 4 of 4 points (with tidy counted it would be 4 of 5).
    assert _submit(client, world, world.v1, tidy="na", labels="na")[1]["grade"] == "A"
    # The heavy item failed: 5 of 10.
    assert [_submit(client, world, world.v1, labels="fail")[1][k] for k in ("score", "grade")] == [50.0, "D"]
    assert [_submit(client, world, world.v1, exits="fail")[1][k] for k in ("score", "grade")] == [70.0, "C"]
    assert [_submit(client, world, world.v1, tidy="fail")[1][k] for k in ("score", "grade")] == [90.0, "A"]
    none = _submit(client, world, world.v1, exits="na", tidy="na", labels="na", **{"five-doubles": "na"})[1]
    assert (none["score"], none["grade"]) == (None, None)


def test_rescoring_an_old_inspection_uses_its_own_checklist_version(app, client, runner, world):
    login(client, world.inspector)
    _, old = _submit(client, world, world.v1, labels="fail")  # v1: labels weighs 5 -> 5 of 10
    v2 = make_checklist("scored", world.dir, items=[dict(i, weight=1) for i in ITEMS])  # every item weighs 1
    assert v2.number == 2
    _, new = _submit(client, world, v2, labels="fail")  # v2: 3 of 4
    assert (old["score"], old["grade"], new["score"], new["grade"]) == (50.0, "D", 75.0, "B")

    # As if stored before scoring existed: the CLI gives each its own version's score again.
    db.session.execute(update(Inspection).values(score=None, grade=None))
    db.session.commit()
    result = runner.invoke(args=["inspections", "rescore"])  # by default: those with no grade
    assert result.exit_code == 0, result.output
    assert "2 inspection(s) scored, 2 changed." in result.output
    db.session.expire_all()
    assert (db.session.get(Inspection, old["id"]).score, db.session.get(Inspection, old["id"]).grade) == (50.0, "D")
    assert (db.session.get(Inspection, new["id"]).score, db.session.get(Inspection, new["id"]).grade) == (75.0, "B")

    # New bands: a grade given stays unless --all re-grades on purpose; then only grades move.
    app.config["GRADE_BANDS"] = (("A", 90.0), ("B", 70.0), ("C", 50.0))
    assert "0 inspection(s) scored, 0 changed." in runner.invoke(args=["inspections", "rescore"]).output
    result = runner.invoke(args=["inspections", "rescore", "--all"])
    assert "2 inspection(s) scored, 1 changed." in result.output, result.output
    db.session.expire_all()
    assert (db.session.get(Inspection, old["id"]).score, db.session.get(Inspection, old["id"]).grade) == (50.0, "C")
    assert scoring.rescore(app.config).changed == 0  # idempotent


def test_openapi_documents_score_and_grade(client):
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name in ("SubmitResult", "InspectionSummary", "InspectionOut"):
        props = schemas[name]["properties"]
        assert "score" in props and "grade" in props, name
        assert props["grade"]["enum"] == ["A", "B", "C", "D"] and props["grade"]["nullable"] is True
        assert props["score"]["type"] == "number" and props["score"]["nullable"] is True
    assert {"weight", "must_pass"} <= set(schemas["InspectionAnswer"]["properties"])
    assert {"weight", "must_pass", "stars"} <= set(schemas["ChecklistItem"]["properties"])
    assert {"score", "grade"} <= set(schemas["SubmitResult"].get("required", []))
