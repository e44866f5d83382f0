"""Closures in bulk (寒暑假, issue 22): the school office closes any labs, a college leader the college's,
many at once (by college, building, category or a list), for a date range, with a reason.

One owner for "a lab is closed on a day": LabClosure (models.py). A bulk closure is a LabClosureBatch
and one LabClosure per lab carrying its id, written in one INSERT ... SELECT whatever the number of
labs. Closures are never deleted (art. 30): reopening early moves each closure's end_date to the day
before the reopening and keeps the end first planned (planned_end_date), who reopened it and when.

Readers: ``closed_on(day, lab_id)`` is the SQL condition (the nightly missed-check flags, rounds),
``closed_lab_ids(day)`` the SELECT of the labs closed that day; the lab card's "closed until ..." is
read with its designees (designees.day_status).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from marshmallow import validate
from sqlalchemy import exists, func, insert, literal, select, update

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.policy import Action, lab_clause, may

from .models import College, Lab, LabCategory, LabClosure, LabClosureBatch

# ---- reading: is a lab closed on a day -------------------------------------------------------


def closed_on(day, lab_id=Lab.id):
    """SQL condition: the lab in ``lab_id`` (a column of the enclosing query, or an id) is closed on
    ``day`` (a date or a SQL date expression). A reopened closure ends the day before it reopened."""
    return exists().where(LabClosure.lab_id == lab_id, LabClosure.start_date <= day, LabClosure.end_date >= day)


def closed_lab_ids(on_day):
    """SELECT of the ids of the labs closed on ``on_day``: a subquery (``Lab.id.not_in(...)``), or run
    it (``set(db.session.scalars(closed_lab_ids(day)))``)."""
    return select(LabClosure.lab_id).where(LabClosure.start_date <= on_day, LabClosure.end_date >= on_day)


# ---- closing many labs at once ---------------------------------------------------------------

MAX_LAB_IDS = 5000
# The days a closure, a reopening or a designation may name (the API's and pages' bound).
DAYS = validate.Range(min=date(2000, 1, 1), max=date(2199, 12, 31))


def _check_dates(start: date | None, end: date | None) -> None:
    if start is None or end is None:
        raise InvalidInput(_("A closure needs a first and a last day."), {"fields": {"from": "required"}})
    if end < start:
        raise InvalidInput(_("A closure must end on or after the day it starts."), {"fields": {"to": "invalid"}})


def _selection(user, *, college_id, building, category, lab_ids, everything):
    """The WHERE conditions choosing the labs, and (scope, scope_value) recorded on the batch.
    Refuses a college or a listed lab outside the user's reach (403), unknown ones (404)."""
    conds, kinds, described = [], [], []
    if college_id is not None:
        college = db.session.get(College, college_id)
        if college is None:
            raise NotFound(_("No such college."))
        if not _may_close(user, college):
            raise Forbidden(_("You may close only your own college's labs."))
        conds.append(Lab.college_id == college_id)
        kinds.append("college")
        described.append(college.code)
    if building:
        conds.append(Lab.building == building)
        kinds.append("building")
        described.append(building)
    if category:
        try:
            cat = LabCategory(category)
        except ValueError:
            raise InvalidInput(_("Unknown lab category."), {"fields": {"category": "invalid"}}) from None
        conds.append(Lab.category == cat)
        kinds.append("category")
        described.append(cat.value)
    if lab_ids:
        ids = sorted(set(lab_ids))
        if len(ids) > MAX_LAB_IDS:
            raise InvalidInput(_("Too many labs in one closure."), {"fields": {"lab_ids": "too_many"}})
        known, reachable = db.session.execute(
            select(func.count(), func.count().filter(_scope(user)))
            .select_from(Lab).where(Lab.id.in_(ids))
        ).one()
        if known != len(ids):
            raise NotFound(_("Some of these labs do not exist."))
        if reachable != known:
            raise Forbidden(_("You may close only your own college's labs."))
        conds.append(Lab.id.in_(ids))
        kinds.append("labs")
        described.append(str(len(ids)))
    if not conds:
        if not everything:
            raise InvalidInput(_("Choose the labs to close: a college, a building, a category or a list of labs."),
                               {"fields": {"scope": "required"}})
        kinds.append("all")
    return conds, ",".join(kinds), "; ".join(described)[:200]


def _scope(user):
    return lab_clause(user, Action.CLOSE_LABS, lab_id=Lab.id, college_id=Lab.college_id)


def _may_close(user, obj) -> bool:
    return may(user, Action.CLOSE_LABS, obj)


def close_labs(user, *, start: date, end: date, reason: str, now: datetime, college_id: int | None = None,
               building: str | None = None, category: str | None = None, lab_ids: list[int] | None = None,
               everything: bool = False) -> tuple[LabClosureBatch, int]:
    """Close the active labs chosen (the filters combine; each within the user's reach) from ``start``
    to ``end`` inclusive. A lab already closed for the whole range is left as it is. Returns the batch
    (``lab_count``: labs closed now) and how many chosen labs were already closed. Commits.

    A fixed number of statements whatever the number of labs: the count, the batch, one
    INSERT ... SELECT, the batch's count."""
    _check_dates(start, end)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the closure."), {"fields": {"reason": "required"}})
    if len(reason) > 200:
        raise InvalidInput(_("The reason is too long (200 characters at most)."), {"fields": {"reason": "too_long"}})
    building = (building or "").strip() or None
    conds, scope, described = _selection(user, college_id=college_id, building=building, category=category,
                                         lab_ids=lab_ids, everything=everything)
    covered = exists().where(LabClosure.lab_id == Lab.id, LabClosure.start_date <= start, LabClosure.end_date >= end)
    chosen = select(Lab.id).where(Lab.active.is_(True), _scope(user), *conds)
    matched = db.session.scalar(select(func.count()).select_from(chosen.subquery()))
    if not matched:
        raise InvalidInput(_("No active lab you may close matches this choice."), {"fields": {"scope": "empty"}})
    batch = LabClosureBatch(scope=scope, scope_value=described, college_id=college_id, start_date=start,
                            end_date=end, reason=reason, lab_count=0, created_at=now, created_by_id=user.id)
    db.session.add(batch)
    db.session.flush()
    rows = chosen.where(~covered).with_only_columns(
        Lab.id, literal(start, type_=db.Date), literal(end, type_=db.Date), literal(reason, type_=db.String),
        literal(batch.id, type_=db.Integer), literal(now, type_=db.DateTime), literal(user.id, type_=db.Integer),
    )
    closed = db.session.execute(
        insert(LabClosure.__table__).from_select(
            ["lab_id", "start_date", "end_date", "reason", "batch_id", "created_at", "created_by_id"], rows)
        .execution_options(preserve_rowcount=True)
    ).rowcount or 0
    batch.lab_count = closed
    db.session.commit()
    return batch, matched - closed


# ---- listing and reopening --------------------------------------------------------------------

def _batch_in_reach(user):
    """Batches with a lab in the user's reach."""
    return exists().where(LabClosure.batch_id == LabClosureBatch.id, Lab.id == LabClosure.lab_id, _scope(user))


def batches(user, *, current_on: date | None = None, limit: int = 200) -> list[LabClosureBatch]:
    """Bulk closures with a lab in the user's reach, newest first; ``current_on``: only those not over
    by that day (and not reopened before it)."""
    stmt = select(LabClosureBatch).where(_batch_in_reach(user))
    if current_on is not None:
        stmt = stmt.where(LabClosureBatch.end_date >= current_on,
                          (LabClosureBatch.reopened_on.is_(None)) | (LabClosureBatch.reopened_on > current_on))
    return list(db.session.scalars(stmt.order_by(LabClosureBatch.start_date.desc(), LabClosureBatch.id.desc())
                                   .limit(limit)))


def get_batch(user, batch_id: int) -> LabClosureBatch:
    batch = db.session.get(LabClosureBatch, batch_id)
    if batch is None:
        raise NotFound(_("No such closure."))
    if not db.session.scalar(select(_batch_in_reach(user)).where(LabClosureBatch.id == batch_id)):
        raise Forbidden(_("This closure has none of the labs you may close."))
    return batch


def reopen(user, batch_id: int, *, on_day: date, now: datetime) -> int:
    """Reopen a bulk closure from ``on_day`` (the first day open again; before its first day: it
    never happens). Each of its closures still running then ends the day before; the end first
    planned, who and when are kept. Only whoever may close every one of its labs reopens it.
    Returns how many lab closures were shortened. Commits."""
    batch = get_batch(user, batch_id)
    if batch.reopened_on is not None:
        raise Conflict(_("This closure was already reopened."))
    if on_day > batch.end_date:
        raise Conflict(_("This closure is already over."))
    outside = db.session.scalar(
        select(func.count()).select_from(LabClosure).join(Lab, Lab.id == LabClosure.lab_id)
        .where(LabClosure.batch_id == batch_id, ~_scope(user))
    )
    if outside:
        raise Forbidden(_("This closure includes labs of other colleges; the school office reopens it."))
    shortened = _shorten(LabClosure.__table__.c.batch_id == batch_id, on_day, user.id, now)
    batch.reopened_on, batch.reopened_at, batch.reopened_by_id = on_day, now, user.id
    db.session.commit()
    return shortened


def _shorten(which, on_day: date, by_user_id: int | None, now: datetime) -> int:
    """The closures ``which`` selects that are still running on ``on_day`` end the day before (one
    starting later: it never happens); the end first planned, who and when are kept."""
    c = LabClosure.__table__.c
    return db.session.execute(
        update(LabClosure.__table__)
        .where(which, c.end_date >= on_day)
        .values(planned_end_date=func.coalesce(c.planned_end_date, c.end_date), end_date=on_day - timedelta(days=1),
                reopened_at=now, reopened_by_id=by_user_id)
        .execution_options(preserve_rowcount=True)
    ).rowcount or 0


def reopen_lab_closure(lab: Lab, closure_id: int, *, on_day: date, by_user_id: int | None, now: datetime) -> None:
    """One lab's closure (the admin's lab page) reopened from ``on_day``, recorded as a bulk one is:
    never deleted (art. 30). Commits."""
    closure = db.session.get(LabClosure, closure_id)
    if closure is None or closure.lab_id != lab.id:
        raise NotFound(_("This lab has no such closure."))
    if closure.end_date < on_day:
        raise Conflict(_("This closure is already over."))
    _shorten(LabClosure.__table__.c.id == closure_id, on_day, by_user_id, now)
    db.session.commit()


def batch_labs(batch_id: int) -> list[tuple]:
    """A batch's labs: (code, name, start, end, planned_end) by code."""
    return list(db.session.execute(
        select(Lab.code, Lab.name, LabClosure.start_date, LabClosure.end_date, LabClosure.planned_end_date)
        .join(Lab, Lab.id == LabClosure.lab_id).where(LabClosure.batch_id == batch_id).order_by(Lab.code)
    ))


def lab_ids_by_codes(codes: list[str]) -> list[int]:
    """The ids of the labs with these codes (the page's list); unknown codes refused (404)."""
    codes = sorted({c for c in codes if c})
    if not codes:
        return []
    found = dict(db.session.execute(select(Lab.code, Lab.id).where(Lab.code.in_(codes))).all())
    missing = [c for c in codes if c not in found]
    if missing:
        raise NotFound(_("No lab with the code %(codes)s.", codes=", ".join(missing[:10])))
    return list(found.values())


def colleges_in_reach(user) -> list[College]:
    """Colleges whose labs the user may close (the page's select)."""
    stmt = select(College).where(College.active.is_(True)).order_by(College.code)
    colleges = list(db.session.scalars(stmt))
    return [c for c in colleges if _may_close(user, c)]
