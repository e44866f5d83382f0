"""The accidents' part of the nightly job (art. 31): the unit's written report is not forgotten.

For a school-local day processed by app.jobs (``remind_unit_reports``), over the accidents still waiting
for the unit's written report (state ``reported``):

* due within two days after the day's end (the day the job runs on and the next; not yet past as the
  job runs): the college's leader and head, who file it (art. 10, 31), are reminded
  (ACCIDENT_REPORT_DUE, dedupe key ``accident_report_due:<id>``);
* past due by the day's end: the college's leader and head and the school office (art. 9(1)) are told
  it is overdue (ACCIDENT_REPORT_OVERDUE, dedupe key ``accident_report_overdue:<id>``).

Once per accident: the dedupe keys name the accident, so later nights, a catch-up or a second run
write nothing more; a report filed in time (the state moves on) stops both.

Set-based: two INSERT ... SELECT statements whatever the number of accidents, labs and colleges.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, literal, or_, select

from app.notifications import services as notices
from app.org.models import Lab

from .models import Accident, AccidentState

ACCIDENT_REPORT_DUE = notices.ACCIDENT_REPORT_DUE
ACCIDENT_REPORT_OVERDUE = notices.ACCIDENT_REPORT_OVERDUE


def _waiting():
    return (select().select_from(Accident).join(Lab, Lab.id == Accident.lab_id)
            .where(Accident.state == AccidentState.reported))


def _oversight_and_office(college_id):
    """The college's leader and head (art. 10) and the school office (art. 9(1)), in one rule."""
    return or_(notices.college_oversight_of(college_id), notices.school_admins_of())


def remind_unit_reports(day: date, end: datetime, now: datetime, config: dict) -> dict:
    """See the module docstring. ``end``: the day's end (naive UTC). Returns {"notifications": written}."""
    title = Lab.name + literal(" · ") + func.substr(Accident.description, 1, 120)
    link = notices.text_of("/accidents/", Accident.id)
    common = dict(lab_id=Lab.id, lab_name=Lab.name, title=title, link=link, now=now,
                  params={"day": day.isoformat()})
    due_soon = _waiting().where(Accident.unit_report_due_at >= end,
                                Accident.unit_report_due_at < end + timedelta(days=2),
                                Accident.unit_report_due_at > now)
    sent = notices.notify_selected(
        ACCIDENT_REPORT_DUE, due_soon, (notices.college_oversight_of, Accident.college_id),
        dedupe_key=notices.text_of("accident_report_due:", Accident.id), **common,
    )
    overdue = _waiting().where(Accident.unit_report_due_at < end)
    sent += notices.notify_selected(
        ACCIDENT_REPORT_OVERDUE, overdue, (_oversight_and_office, Accident.college_id),
        dedupe_key=notices.text_of("accident_report_overdue:", Accident.id), **common,
    )
    return {"notifications": sent}
