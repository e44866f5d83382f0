"""Organisation services: labs, their QR tokens and closures."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.errors import Gone, InvalidInput, NotFound
from app.extensions import db
from app.policy import Action, lab_filter
from app.timeutil import utcnow

from .models import College, Lab, LabClosure, RetiredQrToken, new_qr_token


def get_lab(lab_id: int) -> Lab:
    lab = db.session.get(Lab, lab_id)
    if lab is None:
        raise NotFound("No such lab.")
    return lab


def lab_by_token(token: str) -> Lab:
    """The lab whose door QR carries this token. A re-issued token is Gone, never another lab."""
    lab = db.session.scalar(select(Lab).where(Lab.qr_token == token))
    if lab is not None:
        return lab
    if db.session.scalar(select(RetiredQrToken.id).where(RetiredQrToken.token == token)):
        raise Gone(
            "This QR code has been replaced. Please scan the new code on the lab's door, "
            "or ask the lab's safety officer."
        )
    raise NotFound("This QR code does not belong to any lab. Check that the whole code was scanned.")


def reissue_qr_token(lab: Lab, by_user_id: int | None = None) -> str:
    """A leaked or damaged plate gets a new code; the old one stops working at once."""
    db.session.add(RetiredQrToken(token=lab.qr_token, lab_id=lab.id, retired_by_id=by_user_id, retired_at=utcnow()))
    lab.qr_token = new_qr_token()
    db.session.commit()
    return lab.qr_token


def labs_in_scope(user, action: Action = Action.VIEW_LAB, college_id: int | None = None) -> list[Lab]:
    stmt = select(Lab).where(lab_filter(user, action)).order_by(Lab.code)
    if college_id is not None:
        stmt = stmt.where(Lab.college_id == college_id)
    return list(db.session.scalars(stmt))


def colleges() -> list[College]:
    return list(db.session.scalars(select(College).order_by(College.code)))


def is_closed_on(lab: Lab, day: date) -> bool:
    return any(c.start_date <= day <= c.end_date for c in lab.closures)


def add_closure(lab: Lab, start: date, end: date, reason: str = "") -> LabClosure:
    if end < start:
        raise InvalidInput("A closure must end on or after the day it starts.")
    closure = LabClosure(lab_id=lab.id, start_date=start, end_date=end, reason=reason)
    db.session.add(closure)
    db.session.commit()
    return closure
