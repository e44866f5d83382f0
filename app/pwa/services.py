"""The offline bundle: what an inspector or lab officer needs with no signal.

Built on the other domains' services; a fixed number of queries whatever the number of labs
(checklists: 2 + one per list in service; tickets: 3 states x 3; daily checks: 1).
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.auth.models import Role, RoleAssignment, User
from app.checklists import services as checklists
from app.checklists.schemas import AvailableChecklistSchema, ChecklistItemSchema
from app.extensions import db
from app.inspections.models import Inspection, InspectionLevel
from app.org.designees import day_status
from app.org.models import Lab
from app.org.schemas import LabDetailSchema, LabSchema
from app.org.services import lab_filter
from app.policy import Action, may
from app.rounds.schemas import WorkRoundSchema
from app.rounds.services import work_list
from app.tickets.serialize import tickets_page, tickets_with_more
from app.timeutil import day_bounds_utc, school_today, utcnow

OPEN_STATES = ("open", "fixing", "fix_submitted")


def _labs_for(user) -> list[Lab]:
    """Labs the user may inspect (art. 27, 28) or daily-check (art. 29)."""
    from sqlalchemy import or_

    stmt = (
        select(Lab)
        .where(Lab.active.is_(True), or_(lab_filter(user, Action.INSPECT_LAB), lab_filter(user, Action.DAILY_CHECK)))
        .order_by(Lab.code)
    )
    return list(db.session.scalars(stmt))


def _officers(lab_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {i: [] for i in lab_ids}
    if not lab_ids:
        return out
    rows = db.session.execute(
        select(RoleAssignment.lab_id, User.id, User.name, User.phone)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == Role.lab_officer, RoleAssignment.lab_id.in_(lab_ids), User.active.is_(True))
        .order_by(User.name)
    )
    for lab_id, uid, name, phone in rows:
        out[lab_id].append({"id": uid, "name": name, "phone": phone})
    return out


def _open_tickets(user, lab_ids: set[int]) -> dict[int, list[dict]]:
    # The tickets domain's one-query listing (columns, not entities), filtered to the bundle's labs.
    out: dict[int, list[dict]] = {}
    for state in OPEN_STATES:
        for body in tickets_page(user, state=state, limit=100_000):
            if body["lab_id"] in lab_ids:
                out.setdefault(body["lab_id"], []).append(body)
    for rows in out.values():
        rows.sort(key=lambda r: r.get("deadline") or "")
    return out


def _daily_done_today(lab_ids: list[int], tz_name: str) -> set[int]:
    """Labs with a daily check recorded today, school time (art. 29). Read-only, one query."""
    if not lab_ids:
        return set()
    start, end = day_bounds_utc(school_today(tz_name), tz_name)
    return set(
        db.session.scalars(
            select(Inspection.lab_id).distinct().where(
                Inspection.lab_id.in_(lab_ids), Inspection.level == InspectionLevel.daily,
                Inspection.finished_at >= start, Inspection.finished_at < end,
            )
        )
    )


def offline_bundle(user, config) -> dict:
    labs = _labs_for(user)
    lab_ids = [lab.id for lab in labs]
    in_service = [c for c in checklists.all_checklists() if c.current_version_id is not None]
    versions = {c.key: checklists.get_version(c.current_version_id) for c in in_service}
    officers = _officers(lab_ids)
    tickets = _open_tickets(user, set(lab_ids))
    officer_labs = {lab.id for lab in labs if _may_daily(user, lab)}
    done = _daily_done_today(sorted(officer_labs), config["SCHOOL_TIMEZONE"])
    status = _day_status(lab_ids, config)

    version_bodies: dict[str, dict] = {}
    lab_bodies = []
    for lab in labs:
        body = LabSchema().dump(lab)
        body["qr_token"] = lab.qr_token  # printed on the door; lets /l/<token> open offline
        body["officers"] = officers.get(lab.id, [])
        body["open_tickets"] = tickets.get(lab.id, [])
        body["daily_done_today"] = (lab.id in done) if lab.id in officer_labs else None
        body["closed_until"], body["daily_designees"] = status.get(lab.id, (None, []))
        entries = []
        for checklist in in_service:
            levels = checklists.allowed_levels(user, lab, checklist.kind)
            if not levels:
                continue
            version = versions[checklist.key]
            items = checklists.items_for_lab(version, lab)
            key = str(version.id)
            if key not in version_bodies:
                version_bodies[key] = {
                    "key": checklist.key, "kind": checklist.kind.value, "title": version.title,
                    "title_en": version.title_en, "version_id": version.id,
                    "items": ChecklistItemSchema(many=True).dump(version.items),
                }
            entries.append({
                "key": checklist.key, "kind": checklist.kind.value, "title": version.title,
                "title_en": version.title_en, "version_id": version.id, "levels": levels,
                "item_ids": [i.id for i in items],
            })
        body["checklists"] = entries
        lab_bodies.append(body)
    return {
        "generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "user_id": user.id,
        "user_name": user.name,
        "labs": lab_bodies,
        "checklist_versions": version_bodies,
        # My rounds not over yet with my labs still to do (app.rounds: the phone's "my rounds").
        "rounds": WorkRoundSchema(many=True).dump(work_list(user, utcnow())),
    }


def _day_status(lab_ids, config) -> dict:
    """{lab id: (closed until (ISO day) or None, daily-check designees (art. 29))} today: one query."""
    status = day_status(lab_ids, school_today(config["SCHOOL_TIMEZONE"]))
    return {k: (until.isoformat() if until else None, people) for k, (until, people) in status.items()}


def _may_daily(user, lab) -> bool:
    return may(user, Action.DAILY_CHECK, lab)



# A lab card lists this many open tickets at most (the tickets page pages through the rest).
CARD_TICKETS = 50


def lab_card(user, lab, config) -> dict:
    """What the lab card shows, in one answer: the lab with its officers (art. 24(1)), its open tickets
    that the user may see, the lists the user may run there and, for the lab's officer, whether today's
    daily check is done (art. 29). The rules stay in org, tickets and checklists; a fixed number of
    queries (the tickets listing for one lab is one)."""
    rows, more = tickets_with_more(user, lab_id=lab.id, limit=CARD_TICKETS)
    open_rows = [r for r in rows if r["state"] != "closed"]  # open ones first (listing's order)
    daily = None
    if _may_daily(user, lab):
        daily = lab.id in _daily_done_today([lab.id], config["SCHOOL_TIMEZONE"])
    closed_until, designees = _day_status([lab.id], config).get(lab.id, (None, []))
    return {
        "lab": LabDetailSchema().dump(lab),
        "closed_until": closed_until,
        "daily_designees": designees,
        "open_tickets": open_rows,
        "more_open_tickets": more and len(open_rows) == len(rows),
        "checklists": AvailableChecklistSchema(many=True).dump(checklists.checklists_for_user_and_lab(user, lab)),
        "daily_done_today": daily,
    }
