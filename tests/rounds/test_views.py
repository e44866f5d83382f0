"""The rounds pages: the list, the planning form (per role: the school office, a college leader, a
department officer), a round's page with its labs' state, reassignment and its change log (art. 26-30)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import event, select

from app.auth.models import Role
from app.extensions import db
from app.notifications.models import Notification
from app.rounds import nightly, services
from app.rounds.models import InspectionRound, RoundChange, RoundLab
from app.rounds.schemas import RoundInSchema
from app.timeutil import utcnow
from tests.factories import login, make_checklist_version, make_lab, make_user

from .helpers import round_body, security_officer, today, world


def _form(w, *, labs=None, inspectors=None, **kw) -> dict:
    """The planning form as a browser posts it (lists as repeated fields)."""
    t = today()
    form = {"title": "2026秋季校级安全检查", "kind": "school_wide", "checklist_key": w.key,
            "window_from": (t - timedelta(days=1)).isoformat(), "window_to": (t + timedelta(days=6)).isoformat(),
            "labs_mode": "list", "lab_ids": [str(lab.id) for lab in (w.labs if labs is None else labs)],
            "inspector_ids": [str(i.id) for i in ([w.inspector] if inspectors is None else inspectors)],
            "assign": "even"}
    form.update(kw)
    return form


def _planned(resp) -> InspectionRound:
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    round_id = int(re.search(r"/rounds/(\d+)", resp.headers["Location"]).group(1))
    db.session.expire_all()
    return db.session.get(InspectionRound, round_id)


def _plan(w, user=None, **kw):
    data = RoundInSchema().load(round_body(w, **kw))
    return services.create_round(user or w.admin, data, services.plan_facts(data), current_app.config)


def _page(client, path) -> str:
    resp = client.get(path)
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


# ---- planning through the form, per role ---------------------------------------------------------

def test_the_school_office_plans_a_round_of_three_labs_for_an_inspector(app, client):
    w = world()
    login(client, w.admin)
    page = _page(client, "/rounds/new")
    for lab in w.labs:
        assert f'name="lab_ids" value="{lab.id}"' in page
    assert f'name="inspector_ids" value="{w.inspector.id}"' in page
    assert f'name="inspector_ids" value="{w.leader.id}"' in page  # the college's monthly check (art. 28)
    assert 'value="school_wide"' in page and 'value="college_monthly"' in page

    r = _planned(client.post("/rounds/new", data=_form(w)))
    assert (r.kind.value, r.checklist_key, r.owner_college_id) == ("school_wide", w.key, None)
    assigned = db.session.execute(select(RoundLab.lab_id, RoundLab.inspector_id).where(RoundLab.round_id == r.id)).all()
    assert sorted(assigned) == sorted((lab.id, w.inspector.id) for lab in w.labs)

    page = _page(client, f"/rounds/{r.id}")
    assert 'data-done="0" data-planned="3"' in page and "0/3" in page
    assert all(f'data-lab="{lab.id}" data-state="pending"' in page for lab in w.labs)
    assert 'data-what="created"' in page and w.inspector.name in page
    listed = _page(client, "/rounds")
    assert f'data-round="{r.id}"' in listed and "2026秋季校级安全检查" in listed and 'id="plan-round"' in listed


def test_by_hand_leaves_the_labs_unassigned_for_the_rounds_page(app, client):
    w = world()
    login(client, w.admin)
    r = _planned(client.post("/rounds/new", data=_form(w, assign="hand", inspectors=[])))
    assert db.session.scalars(select(RoundLab.inspector_id).where(RoundLab.round_id == r.id)).all() == [None] * 3


def test_a_spot_check_is_drawn_from_the_form_and_redone_on_its_page(app, client):
    w = world()
    login(client, w.admin)
    r = _planned(client.post("/rounds/new", data=_form(w, spot_check="2", seed="42")))
    assert (r.draw_n, r.seed, r.unannounced) == (2, 42, True)
    page = _page(client, f"/rounds/{r.id}")
    assert 'id="draw" data-matches="1"' in page and "<code>42</code>" in page


def test_a_college_leaders_form_is_fixed_to_their_college_and_the_monthly_kind(app, client):
    w = world()
    login(client, w.leader)
    page = _page(client, "/rounds/new")
    assert '<input type="hidden" name="kind" value="college_monthly">' in page
    assert f'<input type="hidden" name="owner_college_id" value="{w.college.id}">' in page
    assert f'name="lab_ids" value="{w.other_lab.id}"' not in page  # another college's lab is not offered
    assert 'value="school_wide"' not in page
    own = dict(_form(w, inspectors=[w.leader], kind="college_monthly", owner_college_id=str(w.college.id)),
               labs_mode="all", lab_ids=[])
    r = _planned(client.post("/rounds/new", data=own))
    assert (r.kind.value, r.owner_college_id) == ("college_monthly", w.college.id)
    # Another college's round, or the school's: 403, whatever the form showed.
    other = dict(own, owner_college_id=str(w.other_college.id), inspector_ids=[])
    assert client.post("/rounds/new", data=other).status_code == 403
    assert client.post("/rounds/new", data=dict(own, kind="school_wide")).status_code == 403
    others = select(InspectionRound.id).where(InspectionRound.owner_college_id == w.other_college.id)
    assert db.session.scalar(others) is None


def test_a_department_officer_plans_the_special_checks_of_its_remit(app, client):
    w = world()
    security, officer, special = security_officer()
    login(client, officer)
    page = _page(client, "/rounds/new")
    assert '<input type="hidden" name="kind" value="special">' in page
    select_ = page.split('name="topic"')[1].split("</select>")[0]
    topics = set(re.findall(r'<option value="(\w+)"[^>]*>[^<]*</option>', select_))
    assert topics == {"fire", "controlled_chemicals"}  # 保卫处 (art. 9(2))
    assert f'value="{special.checklist.key}"' in page and f'value="{w.key}"' not in page
    form = _form(w, kind="special", checklist_key=special.checklist.key)
    r = _planned(client.post("/rounds/new", data=dict(form, topic="fire")))
    assert (r.topic, r.department_id) == ("fire", security.id)
    assert client.post("/rounds/new", data=dict(form, topic="biosafety")).status_code == 403


def test_who_may_open_the_form(app, client):
    w = world()
    for user, status in ((w.inspector, 403), (w.officer, 403), (w.leader, 200), (w.admin, 200)):
        login(client, user)
        assert client.get("/rounds/new").status_code == status
        assert client.get("/rounds").status_code == 200


# ---- refusals: a 4xx with the field's message, nothing written ------------------------------------

def _refusals(w):
    special = make_checklist_version("special")
    t = today()
    return [
        ({"title": ""}, "title", "此项为必填"),
        ({"title": "x" * 201}, "title", None),
        ({"kind": "weekly"}, "kind", None),
        ({"kind": "special"}, "topic", "此项为必填"),
        ({"kind": "special", "topic": "volcanoes"}, "topic", None),
        ({"kind": "college_monthly"}, "owner_college_id", "此项为必填"),
        ({"checklist_key": "nope"}, "checklist_key", "没有该检查表"),
        ({"checklist_key": special.checklist.key}, "checklist_key", "与检查类型不符"),
        ({"window_from": "2026-13-01"}, "window_from", None),
        ({"window_to": "9999-12-31"}, "window_to", None),
        ({"window_to": (t - timedelta(days=5)).isoformat()}, "window_to", "早于开始日期"),
        ({"lab_ids": []}, "lab_ids", "此项为必填"),
        ({"lab_ids": ["abc"]}, "lab_ids", "不是有效的整数"),
        ({"lab_ids": ["99999999999999999999"]}, "lab_ids", None),
        ({"lab_ids": [str(w.labs[0].id + 10_000)]}, "labs", None),
        ({"labs_mode": "everything"}, "labs_mode", None),
        ({"labs_mode": "category", "labs_category": "alchemy"}, "labs_category", None),
        ({"labs_mode": "risk_level", "labs_risk_levels": ["V"]}, "labs_risk_levels", None),
        ({"spot_check": "0"}, "spot_check", None),
        ({"seed": "-1"}, "seed", None),
        ({"inspector_ids": ["123456"]}, "inspector_ids", "没有该检查人员"),
        ({"inspector_ids": [str(w.leader.id)]}, "inspector_ids", None),  # a college leader: not a school check
        ({"assign": "lottery"}, "assign", None),
    ]


def test_every_refusal_is_a_4xx_with_the_fields_message(app, client):
    w = world()
    login(client, w.admin)
    for change, field, words in _refusals(w):
        resp = client.post("/rounds/new", data=_form(w, **change))
        page = resp.get_data(as_text=True)
        assert resp.status_code == 400, (change, resp.status_code)
        message = re.search(rf'<p class="error field-error" id="err-{field}" data-field="{field}">([^<]+)</p>', page)
        assert message, (change, field, re.findall(r'data-field="(\w+)"', page))
        assert words is None or words in message.group(1), (change, message.group(1))
        assert 'role="alert"' in page and f'href="#f-{field}"' in page
        assert "2026秋季校级安全检查" in page or change.get("title") is not None  # what was typed stays
    # A NUL character is refused before any view (PostgreSQL text cannot hold it): a 400 too.
    assert client.post("/rounds/new", data=_form(w, title="a\x00b")).status_code == 400
    assert db.session.scalar(select(InspectionRound.id)) is None


def test_refusals_in_english_too(app, client):
    w = world()
    login(client, w.admin)
    page = client.post("/rounds/new?lang=en", data=_form(w, checklist_key="nope")).get_data(as_text=True)
    assert "No such checklist." in page and "Checklist" in page


# ---- a round's page --------------------------------------------------------------------------------

def test_the_change_log_shows_a_reassignment(app, client):
    w = world()
    r = _plan(w, start=today(), end=today() + timedelta(days=5))
    login(client, w.admin)
    lab = w.labs[0]
    # Lab 1 is the inspector's already: ticked, unchanged, not in the log.
    resp = client.post(f"/rounds/{r.id}/assignments", data={"lab_ids": [str(lab.id), str(w.labs[1].id)],
                                                            "inspector_id": str(w.inspector2.id)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/rounds/{r.id}#labs")
    db.session.expire_all()
    changes = db.session.scalars(select(RoundChange.detail).where(RoundChange.round_id == r.id,
                                                                  RoundChange.what == "assigned")).all()
    assert [c["changes"] for c in changes] == [[
        {"lab_id": lab.id, "from": w.inspector.id, "to": w.inspector2.id},
        {"lab_id": w.labs[1].id, "from": w.inspector.id, "to": w.inspector2.id}]]
    page = _page(client, f"/rounds/{r.id}")
    entry = page.split('data-what="assigned"')[1].split("</li>\n    <li")[0]
    assert "重新指派" in entry and w.admin.name in entry
    assert f"{lab.code} {lab.name}：{w.inspector.name} → {w.inspector2.name}" in entry
    english = _page(client, f"/rounds/{r.id}?lang=en")
    assert "Reassigned" in english and f"{lab.code} {lab.name}: {w.inspector.name} → {w.inspector2.name}" in english


def test_a_refused_reassignment_names_the_lab_and_changes_nothing(app, client):
    w = world()
    r = _plan(w, start=today(), end=today() + timedelta(days=5))
    login(client, w.admin)
    lab = w.labs[2]
    resp = client.post(f"/rounds/{r.id}/assignments", data={"lab_ids": [str(lab.id)], "inspector_id": str(w.leader.id)})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "所指派的检查人员无权以本次检查的级别检查该实验室" in page and f'warn" data-lab="{lab.id}"' in page
    for bad in ({"lab_ids": [str(lab.id)], "inspector_id": "x"}, {"inspector_id": str(w.inspector2.id)},
                {"lab_ids": [str(w.other_lab.id)], "inspector_id": str(w.inspector2.id)}):
        assert client.post(f"/rounds/{r.id}/assignments", data=bad).status_code == 400, bad
    db.session.expire_all()
    kept = select(RoundLab.inspector_id).where(RoundLab.round_id == r.id, RoundLab.lab_id == lab.id)
    assert db.session.scalar(kept) == w.inspector.id
    assert db.session.scalar(select(RoundChange.id).where(RoundChange.what == "assigned")) is None


def test_a_college_leader_cannot_reassign_the_schools_round(app, client):
    w = world()
    r = _plan(w, start=today(), end=today() + timedelta(days=5))
    login(client, w.leader)
    assert client.get(f"/rounds/{r.id}").status_code == 403
    assert client.post(f"/rounds/{r.id}/assignments", data={"lab_ids": [str(w.labs[0].id)]}).status_code == 403


def test_a_lab_officer_sees_only_their_labs_and_an_unannounced_round_once_started(app, client):
    w = world()
    r = _plan(w, start=today(), end=today() + timedelta(days=5))
    hidden = _plan(w, start=today() + timedelta(days=1), end=today() + timedelta(days=5), unannounced=True)
    login(client, w.officer)
    page = _page(client, f"/rounds/{r.id}")
    assert f'data-lab="{w.labs[0].id}"' in page
    assert f'data-lab="{w.labs[1].id}"' not in page and f'data-lab="{w.labs[2].id}"' not in page
    assert 'id="changes"' not in page and 'id="assign-form"' not in page
    assert client.get(f"/rounds/{hidden.id}").status_code == 403
    listed = _page(client, "/rounds")
    assert f'data-round="{r.id}"' in listed and f'data-round="{hidden.id}"' not in listed
    assert 'id="plan-round"' not in listed


def test_the_nightly_jobs_flags_are_in_the_log_and_its_notice_links_the_page(app, client):
    w = world()
    r = _plan(w, start=today() - timedelta(days=9), end=today() - timedelta(days=2))
    end = r.ends_at + timedelta(days=1)
    nightly.flag_late(today() - timedelta(days=1), end, utcnow(), current_app.config)
    db.session.commit()
    links = set(db.session.scalars(select(Notification.link).where(Notification.kind == nightly.ROUND_LATE)))
    assert links == {f"/rounds/{r.id}"}
    login(client, w.admin)
    page = _page(client, f"/rounds/{r.id}")
    entry = page.split('data-what="late"')[1].split("</li>\n    <li")[0]
    assert "夜间任务" in entry and all(lab.code in entry for lab in w.labs)
    assert 'data-late="3"' in page and page.count('data-state="late"') == 3
    # An entry the nightly job writes of a kind this page has no words for yet: its facts, as they are.
    db.session.add(RoundChange(round_id=r.id, by_id=None, what="generated", detail={"rule_id": 7}, at=utcnow()))
    db.session.commit()
    entry = _page(client, f"/rounds/{r.id}").split('data-what="generated"')[1].split("</li>")[0]
    assert "夜间任务" in entry and "rule_id: 7" in entry


def test_the_list_filters_by_kind_and_status(app, client):
    w = world()
    t = today()
    running = _plan(w, start=t - timedelta(days=1), end=t + timedelta(days=3))
    over = _plan(w, start=t - timedelta(days=9), end=t - timedelta(days=2))
    upcoming = _plan(w, w.leader, start=t + timedelta(days=2), end=t + timedelta(days=9), kind="college_monthly",
                     owner_college_id=w.college.id, inspector_ids=[])
    login(client, w.admin)

    def listed(query):
        return {int(i) for i in re.findall(r'data-round="(\d+)"', _page(client, f"/rounds?{query}"))}

    assert listed("") == {running.id, over.id, upcoming.id}
    assert listed("status=running") == {running.id}
    assert listed("status=over") == {over.id}
    assert listed("kind=college_monthly") == {upcoming.id}
    assert listed("kind=school_wide&status=upcoming") == set()
    assert listed("kind=nonsense&status=late") == {running.id, over.id, upcoming.id}  # an old bookmark: all


@pytest.mark.parametrize("path", ["/rounds/999999", "/rounds/99999999999999"])
def test_an_unknown_round_is_a_404(app, client, path):
    login(client, make_user(Role.school_admin))
    assert client.get(path).status_code == 404
    assert client.post(f"{path}/assignments", data={}).status_code == 404


def test_the_api_refuses_a_window_the_calendar_cannot_hold(app, client):
    w = world()
    login(client, w.admin)
    resp = client.post("/api/rounds", json=round_body(w, start=today(), end=today().replace(year=9999)))
    assert resp.status_code == 400 and "window_to" in resp.get_data(as_text=True)


def _statements(client, path) -> int:
    n = {"n": 0}

    def listener(*args):
        n["n"] += 1

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return n["n"]


def test_the_pages_cost_a_fixed_number_of_statements(app, client):
    """Whatever the number of labs, inspectors, rounds, reassignments and late nights."""
    w = world()
    t = today()
    r = _plan(w, start=t - timedelta(days=9), end=t - timedelta(days=2))
    services.set_assignments(w.admin, r, [{"lab_id": w.labs[0].id, "inspector_id": w.inspector2.id}])
    nightly.flag_late(t - timedelta(days=1), r.ends_at, utcnow(), current_app.config)
    db.session.commit()
    login(client, w.admin)
    paths = ("/rounds", "/rounds/new", f"/rounds/{r.id}")
    small = [_statements(client, p) for p in paths]
    w.labs += [make_lab(w.college) for _ in range(20)]
    inspectors = [make_user(Role.inspector) for _ in range(5)] + [make_user(Role.inspector, college=w.college)]
    big = _plan(w, start=t - timedelta(days=9), end=t - timedelta(days=2), inspectors=inspectors[:5])
    for _ in range(5):
        _plan(w, start=t - timedelta(days=9), end=t + timedelta(days=2))
    services.set_assignments(w.admin, big, [{"lab_id": lab.id, "inspector_id": w.inspector.id} for lab in w.labs[:4]])
    nightly.flag_late(t - timedelta(days=1), big.ends_at, utcnow(), current_app.config)
    db.session.commit()
    large = [_statements(client, p) for p in ("/rounds", "/rounds/new", f"/rounds/{big.id}")]
    assert small == large


_FIELDS = ("title", "kind", "topic", "checklist_key", "window_from", "window_to", "owner_college_id", "unannounced",
           "labs_mode", "labs_college_id", "labs_category", "labs_hazard_tag", "labs_risk_levels", "lab_ids",
           "spot_check", "seed", "inspector_ids", "assign")


def test_no_form_input_is_a_server_error(app, client):
    """Any value in any field of the planning form (and the reassignment form): a 2xx/3xx or a 4xx."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    w = world()
    r = _plan(w, start=today(), end=today() + timedelta(days=5))
    login(client, w.admin)
    value = st.one_of(st.text(max_size=30), st.integers().map(str), st.sampled_from(
        ["school_wide", "college_monthly", "special", "fire", "list", "all", "risk_level", "hand", w.key,
         "2026-02-30", "9999-12-31", "0001-01-01", str(w.labs[0].id), str(w.inspector.id), "1e9", "-0", " "]))

    fields = st.one_of(value, st.lists(value, max_size=3))

    @settings(max_examples=30, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.dictionaries(st.sampled_from(_FIELDS), fields, max_size=8),
           st.dictionaries(st.sampled_from(["lab_ids", "inspector_id", "page"]), fields, max_size=3))
    def check(form, assignments):
        form = {k: v for k, v in form.items() if "\x00" not in str(v)}  # refused before any view (a 400)
        assert client.post("/rounds/new", data={**_form(w), **form}).status_code < 500
        assignments = {k: v for k, v in assignments.items() if "\x00" not in str(v)}
        assert client.post(f"/rounds/{r.id}/assignments", data=assignments).status_code < 500

    check()


def test_a_rounds_labs_filter_by_state_and_page(app, client, monkeypatch):
    from app.rounds import views

    w = world()
    r = _plan(w, start=today() - timedelta(days=9), end=today() - timedelta(days=2))
    login(client, w.admin)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)

    def shown(query):
        page = _page(client, f"/rounds/{r.id}?{query}")
        return re.findall(r'data-lab="(\d+)" data-state="(\w+)"', page), page

    first, page = shown("")
    assert len(first) == 2 and 'rel="next"' in page and 'rel="prev"' not in page
    assert "已逾期 (3)" in page and "已完成 (0)" in page  # the state filter counts every lab of the round
    second, page = shown("page=2")
    assert len(second) == 1 and 'rel="prev"' in page and {lab for lab, _ in first + second} == {
        str(lab.id) for lab in w.labs}
    assert shown("page=99")[0] == second  # past the end: the last page
    assert shown("state=done")[0] == [] and len(shown("state=late")[0]) == 2
    assert len(shown("state=bogus")[0]) == 2  # an unknown state: all


def test_the_list_shows_the_programmes_figures_to_those_who_read_its_reports(app, client):
    """Issue 22: the school's and a college's dashboard, month over month (the summary's table)."""
    w = world()
    _plan(w, start=today(), end=today() + timedelta(days=3))
    month = today().strftime("%Y-%m")
    login(client, w.admin)
    page = _page(client, "/rounds")
    assert 'id="rounds-by-college"' in page and month in page and w.college.name in page
    assert w.other_college.name in page
    login(client, w.leader)
    page = _page(client, "/rounds")
    assert 'id="rounds-by-college"' in page and w.college.name in page and w.other_college.name not in page
    login(client, w.inspector)
    assert 'id="rounds-by-college"' not in _page(client, "/rounds")
