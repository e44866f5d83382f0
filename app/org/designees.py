"""Daily-check designees (art. 29: "a daily check by the lab's officer or someone they designate").

The lab's officer names a user, optionally for a date range (school days, inclusive); the designee
may then do the lab's daily check (the policy asks ``designated_lab_ids``, registered by create_app
with ``policy.designees_with``). Revoked, never deleted (art. 30).
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from app.auth.models import RoleAssignment, User
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db

from .models import DailyCheckDesignee, Lab, LabClosure


def _valid_on(day: date):
    D = DailyCheckDesignee
    return (D.revoked_at.is_(None), or_(D.start_date.is_(None), D.start_date <= day),
            or_(D.end_date.is_(None), D.end_date >= day))


def designated_lab_ids(user_id: int, on_day: date) -> set[int]:
    """Labs whose daily check ``user_id`` is designated to do on ``on_day``; one query."""
    D = DailyCheckDesignee
    return set(db.session.scalars(select(D.lab_id).where(D.user_id == user_id, *_valid_on(on_day))))


def day_status(lab_ids, on_day: date) -> dict[int, tuple[date | None, list[dict]]]:
    """{lab id: (the last day of the closure it is in on ``on_day`` or None, its designees standing
    that day: [{id, user_id, name, until}])} for the lab page and card and the offline bundle; one
    statement."""
    if not lab_ids:
        return {}
    D, C = DailyCheckDesignee, LabClosure
    until = (select(func.max(C.end_date))
             .where(C.lab_id == Lab.id, C.start_date <= on_day, C.end_date >= on_day).scalar_subquery())
    standing = and_(D.lab_id == Lab.id, *_valid_on(on_day),
                    D.user_id.in_(select(User.id).where(User.active.is_(True))))
    rows = db.session.execute(
        select(Lab.id, until, D.id, D.user_id, User.name, D.end_date)
        .select_from(Lab).outerjoin(D, standing).outerjoin(User, User.id == D.user_id)
        .where(Lab.id.in_(list(lab_ids))).order_by(Lab.id, User.name, D.id)
    )
    out: dict[int, tuple[date | None, list[dict]]] = {}
    for lab_id, closed_until, did, user_id, name, end in rows:
        entry = out.setdefault(lab_id, (closed_until, []))
        if did is not None:
            entry[1].append({"id": did, "user_id": user_id, "name": name, "until": end.isoformat() if end else None})
    return out


def designations(lab_id: int) -> list[DailyCheckDesignee]:
    """Every designation of a lab, revoked ones too (the record), newest first."""
    D = DailyCheckDesignee
    return list(db.session.scalars(select(D).where(D.lab_id == lab_id).order_by(D.named_at.desc(), D.id.desc())))


def candidates(lab: Lab) -> list[User]:
    """Users a lab's officer may pick from: the active users with a role in the lab's college or one
    of its labs (the form's select; the service accepts any active user)."""
    in_college = select(RoleAssignment.user_id).outerjoin(Lab, Lab.id == RoleAssignment.lab_id).where(
        or_(RoleAssignment.college_id == lab.college_id, Lab.college_id == lab.college_id))
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), User.id.in_(in_college)).order_by(User.name, User.id)))


def designate(lab: Lab, *, user_id: int, start: date | None, end: date | None, by_user_id: int,
              now: datetime) -> DailyCheckDesignee:
    """Name ``user_id`` the lab's daily-check designee (art. 29). Commits."""
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise InvalidInput(_("No such active user."), {"fields": {"user_id": "invalid"}})
    if start is not None and end is not None and end < start:
        raise InvalidInput(_("The designation must end on or after the day it starts."), {"fields": {"to": "invalid"}})
    D = DailyCheckDesignee
    overlapping = [D.lab_id == lab.id, D.user_id == user_id, D.revoked_at.is_(None)]
    if end is not None:
        overlapping.append(or_(D.start_date.is_(None), D.start_date <= end))
    if start is not None:
        overlapping.append(or_(D.end_date.is_(None), D.end_date >= start))
    same = db.session.scalar(select(D.id).where(*overlapping))
    if same is not None:
        raise Conflict(_("This user is already designated for this lab in this period."))
    row = DailyCheckDesignee(lab_id=lab.id, user_id=user_id, start_date=start, end_date=end, named_at=now,
                             named_by_id=by_user_id)
    db.session.add(row)
    db.session.commit()
    return row


def get_designation(designation_id: int) -> DailyCheckDesignee:
    row = db.session.get(DailyCheckDesignee, designation_id)
    if row is None:
        raise NotFound(_("No such designation."))
    return row


def revoke(row: DailyCheckDesignee, *, by_user_id: int, now: datetime) -> DailyCheckDesignee:
    """Revoke a designation (kept, with who and when). Commits."""
    if row.revoked_at is not None:
        raise Conflict(_("This designation was already revoked."))
    row.revoked_at, row.revoked_by_id = now, by_user_id
    db.session.commit()
    return row
