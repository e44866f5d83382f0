"""The rounds' part of the nightly job (art. 26-28: the programme is followed, not only planned).

For a school-local day processed by app.jobs (``flag_late``), in a fixed number of statements
whatever the number of rounds and labs:

1. flag every round lab not done when its round's window ended (``ends_at`` at or before the end of
   the day): one RoundLateFlag per round and lab, never twice; a catch-up after missed nights flags
   what one run a night would have (a window over is judged by the inspections finished inside it);
2. tell each assigned inspector of their labs still to do when the window ends within
   ROUND_REMIND_DAYS days after the day (one notice per round and lab, dedupe keys);
3. tell the round's owner of the labs flagged tonight: the school admins for the school's rounds
   (and the department running a special one), the college's leaders for a college's round.

A lab done later by an inspection synced late (finished inside the window) shows as done; its flag
stays as the record of what was known that night (art. 30).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, insert, literal, select

from app.auth.models import RoleAssignment
from app.extensions import db
from app.notifications import services as notices
from app.org.models import Lab

from .models import InspectionRound, RoundLab, RoundLateFlag
from .services import is_done

ROUND_DUE, ROUND_LATE = notices.ROUND_DUE, notices.ROUND_LATE


def _remind_days(config: dict) -> int:
    return int(config.get("ROUND_REMIND_DAYS") or 2)


def _user_of(user_id):
    """A recipients rule (notifications.notify_selected): the user named by a column."""
    return RoleAssignment.user_id == user_id


def _rows(*where):
    """A round's labs with their round and lab, for notices (a SELECT without columns)."""
    return (select().select_from(RoundLab).join(InspectionRound, InspectionRound.id == RoundLab.round_id)
            .join(Lab, Lab.id == RoundLab.lab_id).where(*where))


def _title():
    return InspectionRound.title + literal(" · ") + Lab.name


def flag_late(day: date, end: datetime, now: datetime, config: dict) -> dict:
    """See the module docstring. ``end``: the day's end (naive UTC). Returns {"late", "notifications"}."""
    flagged = select(RoundLateFlag.id).where(RoundLateFlag.round_id == RoundLab.round_id,
                                             RoundLateFlag.lab_id == RoundLab.lab_id)
    late = (select(RoundLab.round_id, RoundLab.lab_id, literal(now, type_=db.DateTime))
            .join(InspectionRound, InspectionRound.id == RoundLab.round_id)
            .where(InspectionRound.ends_at <= end, ~is_done(), ~flagged.exists()))
    written = db.session.execute(
        insert(RoundLateFlag.__table__).from_select(["round_id", "lab_id", "flagged_at"], late)
        .execution_options(preserve_rowcount=True)
    ).rowcount or 0

    link = literal("/app")  # the phone's home: "my rounds"
    due = _rows(RoundLab.inspector_id.is_not(None), InspectionRound.window_to > day,
                InspectionRound.window_to <= day + timedelta(days=_remind_days(config)), ~is_done())
    sent = notices.notify_selected(
        ROUND_DUE, due, (_user_of, RoundLab.inspector_id), params={"day": day.isoformat()},
        dedupe_key=notices.text_of("round_due:", RoundLab.round_id, ":", RoundLab.lab_id), link=link,
        lab_id=Lab.id, lab_name=Lab.name, title=_title(), now=now,
    )

    tonight = _rows().join(RoundLateFlag, and_(RoundLateFlag.round_id == RoundLab.round_id,
                                                RoundLateFlag.lab_id == RoundLab.lab_id)).where(
        RoundLateFlag.flagged_at == now)
    owner_link = notices.text_of("/rounds/", RoundLab.round_id)  # the round's page
    for rows, to in (
        (tonight.where(InspectionRound.owner_college_id.is_(None)), (notices.school_admins_of, None)),
        (tonight.where(InspectionRound.department_id.is_not(None)),
         (notices.department_officers_of, InspectionRound.department_id)),
        (tonight.where(InspectionRound.owner_college_id.is_not(None)),
         (notices.college_leaders_of, InspectionRound.owner_college_id)),
    ):
        sent += notices.notify_selected(
            ROUND_LATE, rows, to, params={"day": day.isoformat()},
            dedupe_key=notices.text_of("round_late:", RoundLab.round_id, ":", RoundLab.lab_id), link=owner_link,
            lab_id=Lab.id, lab_name=Lab.name, title=_title(), now=now,
        )
    return {"late": written, "notifications": sent}
