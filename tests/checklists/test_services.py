"""Who may run which list at which level in a lab (art. 27, 28, 29)."""
from __future__ import annotations

import pytest

from app.auth.models import Role
from app.checklists import services
from app.errors import NotFound
from tests.factories import load_shipped_checklists, make_college, make_department, make_lab, make_user


@pytest.fixture
def world(app):
    load_shipped_checklists()
    a, b = make_college(), make_college()
    lab = make_lab(a, category="chemistry", hazard_tags=["hazardous_chemicals", "highly_toxic"])
    other = make_lab(b, category="biology", hazard_tags=["pathogens"])
    return a, b, lab, other


def _levels(user, lab):
    return {c.checklist.key: c.levels for c in services.checklists_for_user_and_lab(user, lab)}


def test_lab_officer_runs_the_daily_check_of_their_own_lab_only(world):
    a, b, lab, other = world
    officer = make_user(Role.lab_officer, lab=lab)
    assert _levels(officer, lab) == {"daily": ["daily"]}
    assert _levels(officer, other) == {}


def test_college_inspector_and_leader_run_the_monthly_check_in_their_college(world):
    a, b, lab, other = world
    for role in (Role.inspector, Role.college_leader):
        user = make_user(role, college=a)
        assert _levels(user, lab) == {"full": ["college"]}
        assert _levels(user, other) == {}


def test_school_inspector_runs_semester_and_special_checks_everywhere(world):
    a, b, lab, other = world
    inspector = make_user(Role.inspector)
    for target in (lab, other):
        assert _levels(inspector, target) == {"full": ["school"], "fire": ["special"], "hazchem": ["special"]}


def test_admin_runs_every_inspection_level_but_not_the_officers_daily_check(world):
    a, b, lab, other = world
    admin = make_user(Role.school_admin)
    assert _levels(admin, lab) == {"full": ["college", "school"], "fire": ["special"], "hazchem": ["special"]}


def test_readers_without_an_inspecting_role_run_nothing(world):
    a, b, lab, other = world
    assert _levels(make_user(Role.college_head, college=a), lab) == {}
    assert _levels(make_user(Role.dept_officer, department=make_department("security")), lab) == {}


def test_allowed_levels_for_one_list(world):
    a, b, lab, other = world
    full = services.get_checklist("full")
    assert services.allowed_levels(make_user(Role.inspector, college=a), lab, full.kind) == ["college"]
    assert services.allowed_levels(make_user(Role.lab_officer, lab=lab), lab, full.kind) == []


def test_current_version_and_get_version_raise_not_found(world):
    with pytest.raises(NotFound):
        services.current_version("nope")
    with pytest.raises(NotFound):
        services.get_version(999999)


def test_grouped_by_article_orders_articles_numerically(world):
    groups = services.grouped_by_article(services.current_version("full").items)
    articles = [g[0] for g in groups]
    assert articles[0] == "12" and articles[-1] == "24(8)"
    assert articles.index("13(1)") < articles.index("20(1)") < articles.index("20(5)") < articles.index("21(1)")
    assert dict((a, label) for a, label, _ in groups)["16(2)"] == "第十六条（二）"


def test_a_list_with_nothing_for_the_lab_is_not_offered(world):
    a, b, lab, other = world
    computer = make_lab(a, category="general")
    inspector = make_user(Role.inspector)
    assert set(_levels(inspector, computer)) == {"full", "fire"}  # no hazardous chemicals check here
    assert "hazchem" in _levels(inspector, lab)


def test_offered_items_are_the_ones_that_apply(world):
    a, b, lab, other = world
    offered = services.checklists_for_user_and_lab(make_user(Role.inspector), lab)
    full = next(o for o in offered if o.checklist.key == "full")
    assert [i.id for i in full.items] == [i.id for i in services.items_for_lab(full.version, lab)]


def test_many_labs_cost_a_fixed_number_of_queries(world, app):
    from sqlalchemy import event

    from app.extensions import db

    a, b, lab, other = world
    inspector = make_user(Role.inspector)
    few = [lab, other]
    many = few + [make_lab(a, category=c) for c in ("physics", "mechanical", "general", "biology") * 5]

    def count(labs):
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        db.session.expire_all()
        labs = [db.session.get(type(lab), x.id) for x in labs]
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            result = services.checklists_for_user_and_labs(inspector, labs)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert set(result) == {x.id for x in labs}
        return len(seen)

    count(few)  # warm the user's scope: the labs designated to them (art. 29) are read once per user
    assert count(many) == count(few)
