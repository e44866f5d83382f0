"""A lab's access roster (准入, art. 12-13): listing, checking a person, adding, changing, revoking,
the training requirement, and an inspector's finding on the spot (a rectification ticket through
app.tickets). Plain arguments; the views ask the policy (VIEW_ROSTER, MANAGE_ROSTER,
RECORD_ACCESS_FINDING). Every change writes a RosterEvent in the same transaction (art. 30).

A person's access is *valid* on a school day when the row is not revoked, the school's exam was
passed (art. 13(1)), the lab's own training was done where the lab requires it (art. 13(2)) and the
day is not after ``valid_until``. Otherwise the status names the first reason it is not.
"""
from __future__ import annotations

import calendar
import uuid as uuidlib
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.checklists.models import Severity
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.org.models import Lab
from app.tickets import lifecycle as tickets
from app.timeutil import school_today, utcnow

from .models import RosterEntry, RosterEvent, RosterFinding, RosterLabSetting

MAX_ID = 2**31 - 1
STATUSES = ("valid", "expired", "revoked", "no_exam", "no_training")
FINDING_REASONS = ("not_listed", "expired", "revoked", "no_exam", "no_training")
# The fields an officer edits; the history records each one's before and after.
FIELDS = ("name", "staff_no", "email", "exam_date", "exam_score", "exam_passed", "training_date", "valid_until")
FINDING_ARTICLE = "13(3)"  # 禁止未参加或未通过考试、考核及相关培训的人员进入实验室开展实验

# A finding's ticket title, stored in both languages (the reader's is shown: docs/ARCHITECTURE.md).
_TITLE_ZH = {
    "not_listed": "{name}（{staff_no}）不在本实验室准入名单上却在实验室工作",
    "expired": "{name}（{staff_no}）准入资格已过期仍在实验室工作",
    "revoked": "{name}（{staff_no}）准入资格已撤销仍在实验室工作",
    "no_exam": "{name}（{staff_no}）未通过安全考试仍在实验室工作",
    "no_training": "{name}（{staff_no}）未参加本实验室安全培训仍在实验室工作",
}
_TITLE_EN = {
    "not_listed": "{name} ({staff_no}) working in the lab without being on its access roster",
    "expired": "{name} ({staff_no}) working in the lab with expired access",
    "revoked": "{name} ({staff_no}) working in the lab with revoked access",
    "no_exam": "{name} ({staff_no}) working in the lab without passing the safety exam",
    "no_training": "{name} ({staff_no}) working in the lab without the lab's safety training",
}


def valid_months(config: dict) -> int:
    return int(config.get("ACCESS_VALID_MONTHS") or 12)


def months_after(day: date, n: int) -> date:
    """The same day ``n`` months later, the month's last day when it has fewer days (31 Jan + 1: 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + n
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_valid_until(exam_date: date | None, config: dict) -> date:
    """The school's default expiry: ACCESS_VALID_MONTHS after the exam (after today when undated)."""
    return months_after(exam_date or school_today(config["SCHOOL_TIMEZONE"]), valid_months(config))


def today(config: dict) -> date:
    return school_today(config["SCHOOL_TIMEZONE"])


def status_of(entry, on_day: date, training_required: bool) -> str:
    """Why (or that) a person may work in the lab on ``on_day`` (art. 13)."""
    if entry.revoked_at is not None:
        return "revoked"
    if not entry.exam_passed:
        return "no_exam"
    if training_required and entry.training_date is None:
        return "no_training"
    if entry.valid_until < on_day:
        return "expired"
    return "valid"


# ---- reading -------------------------------------------------------------------------------

def get_lab(lab_id: int) -> Lab:
    lab = db.session.get(Lab, lab_id) if 0 < lab_id <= MAX_ID else None
    if lab is None:
        raise NotFound(_("No such lab."))
    return lab


def training_required(lab_id: int) -> bool:
    return bool(db.session.scalar(select(RosterLabSetting.training_required).where(RosterLabSetting.lab_id == lab_id)))


def get_entry(lab_id: int, entry_id: int) -> RosterEntry:
    entry = db.session.get(RosterEntry, entry_id) if 0 < entry_id <= MAX_ID else None
    if entry is None or entry.lab_id != lab_id:
        raise NotFound(_("No such person on this lab's roster."))
    return entry


@dataclass(frozen=True)
class RosterView:
    lab: Lab
    training_required: bool
    today: date
    entries: list[dict]


def row_of(entry: RosterEntry, on_day: date, training: bool) -> dict:
    return {**{f: getattr(entry, f) for f in FIELDS}, "id": entry.id, "lab_id": entry.lab_id,
            "revoked_at": entry.revoked_at, "version": entry.version,
            "status": status_of(entry, on_day, training)}


def roster(lab: Lab, config: dict, *, q: str | None = None, include_revoked: bool = True) -> RosterView:
    """A lab's roster, by name; ``q`` finds a person by name or staff number (a part of either)."""
    training = training_required(lab.id)
    on_day = today(config)
    stmt = select(RosterEntry).where(RosterEntry.lab_id == lab.id)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(RosterEntry.name.ilike(like, escape="\\"), RosterEntry.staff_no.ilike(like, escape="\\")))
    if not include_revoked:
        stmt = stmt.where(RosterEntry.revoked_at.is_(None))
    entries = db.session.scalars(stmt.order_by(RosterEntry.name, RosterEntry.staff_no, RosterEntry.id)).all()
    return RosterView(lab, training, on_day, [row_of(e, on_day, training) for e in entries])


def history(lab: Lab, limit: int = 200) -> list[RosterEvent]:
    return list(db.session.scalars(select(RosterEvent).where(RosterEvent.lab_id == lab.id)
                                   .order_by(RosterEvent.id.desc()).limit(limit)))


# ---- changing ------------------------------------------------------------------------------

def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def record_event(lab_id: int, entry_id: int | None, actor_id: int | None, kind: str, changes: dict) -> None:
    db.session.add(RosterEvent(lab_id=lab_id, entry_id=entry_id, actor_id=actor_id, kind=kind, changes=changes,
                               created_at=utcnow()))


def _active_with_staff_no(lab_id: int, staff_no: str, but: int | None = None) -> RosterEntry | None:
    stmt = select(RosterEntry).where(RosterEntry.lab_id == lab_id, RosterEntry.staff_no == staff_no,
                                     RosterEntry.revoked_at.is_(None))
    if but is not None:
        stmt = stmt.where(RosterEntry.id != but)
    return db.session.scalars(stmt.limit(1)).first()


def commit_or_conflict() -> None:
    try:
        db.session.commit()
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        raise Conflict(_("Someone else changed this roster at the same moment; nothing was saved. "
                         "Reload and try again.")) from None


def add_entry(user, lab: Lab, data: dict, config: dict, *, commit: bool = True) -> RosterEntry:
    """Add a person to the lab's roster. A person already on it (staff number, not revoked) is a 409."""
    if _active_with_staff_no(lab.id, data["staff_no"]) is not None:
        raise Conflict(_("%(staff_no)s is already on this lab's roster; change that entry instead.",
                         staff_no=data["staff_no"]))
    now = utcnow()
    values = {f: data.get(f) for f in FIELDS}
    values["email"] = values["email"] or ""
    values["exam_passed"] = bool(values["exam_passed"])
    values["valid_until"] = values["valid_until"] or default_valid_until(values["exam_date"], config)
    entry = RosterEntry(lab_id=lab.id, created_at=now, updated_at=now, **values)
    db.session.add(entry)
    db.session.flush()
    record_event(lab.id, entry.id, user.id if user else None, "added", {f: [None, _plain(values[f])] for f in FIELDS})
    if commit:
        commit_or_conflict()
    return entry


def apply_changes(entry: RosterEntry, data: dict) -> dict:
    changes = {}
    for f in FIELDS:
        if f not in data:
            continue
        value = data[f]
        if f == "email":
            value = value or ""
        if f == "valid_until" and value is None:
            continue  # an expiry is never blanked: keep the one there
        if getattr(entry, f) != value:
            changes[f] = [_plain(getattr(entry, f)), _plain(value)]
            setattr(entry, f, value)
    return changes


def update_entry(user, entry: RosterEntry, data: dict, *, version: int | None = None) -> RosterEntry:
    """Change a person's access (the officer's form, the API's PATCH); recorded field by field."""
    if entry.revoked_at is not None:
        raise Conflict(_("This access was revoked; add the person again for a new access."))
    if version is not None and version != entry.version:
        raise Conflict(_("Someone else changed this entry meanwhile; reload it and try again."))
    if "staff_no" in data and _active_with_staff_no(entry.lab_id, data["staff_no"], but=entry.id) is not None:
        raise Conflict(_("%(staff_no)s is already on this lab's roster; change that entry instead.",
                         staff_no=data["staff_no"]))
    changes = apply_changes(entry, data)
    if changes:
        entry.updated_at = utcnow()
        record_event(entry.lab_id, entry.id, user.id, "changed", changes)
        commit_or_conflict()
    return entry


def revoke_entry(user, entry: RosterEntry, reason: str = "") -> RosterEntry:
    """Revoke a person's access (the row stays, art. 30); revoking twice is a 409."""
    if entry.revoked_at is not None:
        raise Conflict(_("This access was already revoked."))
    now = utcnow()
    entry.revoked_at, entry.revoked_by_id, entry.updated_at = now, user.id, now
    record_event(entry.lab_id, entry.id, user.id, "revoked", {"reason": reason})
    commit_or_conflict()
    return entry


def set_training_required(user, lab: Lab, required: bool) -> bool:
    """Whether the lab requires its own training before access (art. 13(2)); recorded."""
    setting = db.session.get(RosterLabSetting, lab.id)
    before = bool(setting and setting.training_required)
    if before == required:
        return required
    if setting is None:
        setting = RosterLabSetting(lab_id=lab.id)
        db.session.add(setting)
    setting.training_required, setting.updated_at, setting.updated_by_id = required, utcnow(), user.id
    record_event(lab.id, None, user.id, "setting", {"training_required": [before, required]})
    commit_or_conflict()
    return required


# ---- findings on the spot (art. 13(3)) -------------------------------------------------------

def _normalise_uuid(value) -> str:
    try:
        return str(uuidlib.UUID(str(value)))
    except (TypeError, ValueError):
        raise InvalidInput(_("client_uuid must be a UUID."), {"fields": {"client_uuid": [_("Not a valid UUID.")]}}) \
            from None


@dataclass(frozen=True)
class FindingResult:
    finding: RosterFinding
    created: bool


def record_finding(user, lab: Lab, data: dict, config: dict) -> FindingResult:
    """An inspector found a person working without valid access (art. 13(3)): a rectification ticket
    for the lab's officers, through tickets' own entry point (``tickets.lifecycle.create_ticket``).

    ``data``: client_uuid, and either entry_id (a person on the roster whose access is not valid
    today) or name and staff_no (a person not on it); note. The same client_uuid again (the outbox's
    replay) answers the finding already recorded, nothing twice; another user's UUID is a 409."""
    client_uuid = _normalise_uuid(data["client_uuid"])
    existing = db.session.scalar(select(RosterFinding).where(RosterFinding.client_uuid == client_uuid))
    if existing is not None:
        if existing.actor_id != user.id or existing.lab_id != lab.id:
            raise Conflict(_("This finding's identifier was already used for another finding."))
        return FindingResult(existing, False)
    entry = None
    if data.get("entry_id"):
        entry = get_entry(lab.id, data["entry_id"])
        reason = status_of(entry, today(config), training_required(lab.id))
        if reason == "valid":
            raise Conflict(_("%(name)s has valid access to this lab today; no finding was recorded.",
                             name=entry.name))
        name, staff_no = entry.name, entry.staff_no
    else:
        name, staff_no = (data.get("name") or "").strip(), (data.get("staff_no") or "").strip()
        if not name:
            raise InvalidInput(_("Give the person's name."),
                               {"fields": {"name": [_("Missing data for required field.")]}})
        listed = _active_with_staff_no(lab.id, staff_no) if staff_no else None
        if listed is not None and status_of(listed, today(config), training_required(lab.id)) == "valid":
            raise Conflict(_("%(name)s has valid access to this lab today; no finding was recorded.",
                             name=listed.name))
        reason = "not_listed" if listed is None else status_of(listed, today(config), training_required(lab.id))
        entry = listed
    facts = {"name": name, "staff_no": staff_no or "—"}
    note = (data.get("note") or "").strip()
    ticket = tickets.create_ticket(
        lab=lab, article=FINDING_ARTICLE, title=_TITLE_ZH[reason].format(**facts),
        title_en=_TITLE_EN[reason].format(**facts), severity=Severity.general, config=config, actor_id=user.id,
        description=note,
    )
    finding = RosterFinding(client_uuid=client_uuid, lab_id=lab.id, entry_id=entry.id if entry else None,
                            person_name=name, staff_no=staff_no, reason=reason, note=note, ticket_id=ticket.id,
                            actor_id=user.id, created_at=utcnow())
    db.session.add(finding)
    try:
        db.session.commit()
    except IntegrityError:
        # The same UUID sent twice at once: the other request recorded it (and its ticket); ours is undone.
        db.session.rollback()
        existing = db.session.scalar(select(RosterFinding).where(RosterFinding.client_uuid == client_uuid))
        if existing is None or existing.actor_id != user.id:
            raise Conflict(_("This finding's identifier was already used for another finding.")) from None
        return FindingResult(existing, False)
    return FindingResult(finding, True)

