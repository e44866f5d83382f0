"""A lab's active periods are dated (reports and the nightly job judge each day by them)."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.org import services
from app.org.models import LabActivePeriod
from tests.factories import make_college, make_lab, make_user


def periods(lab):
    db.session.expire_all()
    return [
        (p.start_at is None, p.end_at is None)
        for p in db.session.scalars(
            select(LabActivePeriod).where(LabActivePeriod.lab_id == lab.id).order_by(LabActivePeriod.id)
        )
    ]


def _form(lab, active):
    return {"code": lab.code, "name": lab.name, "phone": lab.phone, "college": lab.college,
            "category": lab.category, "hazard_tags": lab.hazard_tags, "active": active}


def test_deactivating_and_reactivating_dates_the_periods(app):
    from app.auth.models import Role

    lab = make_lab(make_college())
    make_user(Role.lab_officer, lab=lab)
    assert periods(lab) == [(True, True)]  # since its creation, still active
    services.update_lab(lab, _form(lab, False))
    assert periods(lab) == [(True, False)]
    services.update_lab(lab, _form(lab, False))  # no change, no new row
    assert periods(lab) == [(True, False)]
    services.update_lab(lab, _form(lab, True))
    assert periods(lab) == [(True, False), (False, True)]
    first, second = db.session.scalars(
        select(LabActivePeriod).where(LabActivePeriod.lab_id == lab.id).order_by(LabActivePeriod.id)).all()
    assert first.end_at <= second.start_at


def test_a_lab_created_inactive_has_no_period(app):
    lab = make_lab(make_college(), active=False)
    assert periods(lab) == []


def test_labs_active_during(app):
    from datetime import datetime

    college = make_college()
    old, new = make_lab(college), make_lab(college)
    old.created_at, new.created_at = datetime(2026, 1, 1), datetime(2026, 6, 1)
    db.session.commit()
    ids = lambda a, b: set(db.session.scalars(services.labs_active_during(a, b)))  # noqa: E731
    assert ids(datetime(2026, 2, 1), datetime(2026, 3, 1)) == {old.id}
    assert ids(datetime(2026, 5, 1), datetime(2026, 7, 1)) == {old.id, new.id}
