"""Inspection services: offline-safe submission and reading (art. 27-29).

Submission is idempotent by the client's UUID: the device may send the same inspection any number
of times (lost signal, retries); the first one is stored, replays return it, and the same UUID with
other content is refused. Plain arguments only: no Flask request here.
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter

import orjson
from flask_babel import gettext as _
from sqlalchemy import ARRAY, Integer, String, Text, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload, undefer

from app.auth.models import User
from app.checklists import services as checklists
from app.checklists.models import Checklist, ChecklistItem, ChecklistVersion
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.org import services as org_services
from app.org.models import Lab, NamedLab
from app.photos import services as photo_services
from app.photos.models import Photo
from app.photos.signatures import signature_png
from app.policy import Action, CheckedOn, may
from app.tickets.lifecycle import open_ticket_for_failed_answer
from app.tickets.models import RectificationTicket
from app.timeutil import school_today, to_utc_naive, utcnow

from . import scoring
from .daily_checks import clear_missed_check
from .models import (
    AnswerPhoto,
    AnswerResult,
    AnswerRow,
    Inspection,
    InspectionAnswer,
    InspectionLevel,
    InspectionRow,
    InspectionSignature,
    SignatureRole,
)

# A phone's clock may run a little ahead of the server's.
DEFAULT_CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class SubmitOutcome:
    id: int
    uuid: str
    created: bool  # False: an identical replay; nothing new was stored
    status: InspectionStatus
    score: float | None = None  # as stored (scoring.py)
    grade: str | None = None

    @property
    def inspection(self) -> Inspection:
        """The stored inspection, loaded on demand (the API answers from id, uuid and status)."""
        return get_inspection(self.id)


@dataclass
class InspectionStatus:
    missing_photos: list[str] = field(default_factory=list)
    ticket_ids: list[int] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing_photos


# ---- the payload's fingerprint --------------------------------------------------------------

def _iso_utc(value: datetime) -> str:
    return to_utc_naive(value).isoformat(timespec="microseconds")


# A result by member or by value (a str-mixin member hashes and compares as its value): dict
# look-ups instead of an Enum call (and .value) per answer. Anything else goes through AnswerResult.
_RESULT_BY_VALUE = {r.value: r for r in AnswerResult}


def _result(value) -> AnswerResult:
    result = _RESULT_BY_VALUE.get(value)
    return result if result is not None else AnswerResult(value)


def _canonical_signatures(signatures: list[dict]) -> list[dict]:
    """The signatures as submitted (they are part of the inspection): the image by its text's SHA-256."""
    return sorted(({
        "role": SignatureRole(s["role"]).value,
        "name": s.get("name") or "",
        "refused": bool(s.get("refused")),
        "reason": s.get("reason") or "",
        "signed_at": _iso_utc(s["signed_at"]) if s.get("signed_at") else None,
        "image": hashlib.sha256(s["image"].encode("utf-8")).hexdigest() if s.get("image") else None,
    } for s in signatures), key=itemgetter("role"))


def payload_hash(data: dict) -> str:
    """SHA-256 of the submission's content, normalised: times in UTC, answers by item id.

    The same inspection re-sent (even with answers in another order or times in another offset)
    has the same hash; any change of content gives another.
    """
    canonical = {
        "uuid": str(data["uuid"]),
        "lab_id": data["lab_id"],
        "checklist_version_id": data["checklist_version_id"],
        "level": InspectionLevel(data["level"]).value,
        "started_at": _iso_utc(data["started_at"]),
        "finished_at": _iso_utc(data["finished_at"]),
        "note": data.get("note") or "",
        **({"round_id": data["round_id"]} if data.get("round_id") is not None else {}),  # absent: hashes as before
        **({"signatures": _canonical_signatures(data["signatures"])} if data.get("signatures") else {}),  # idem
        "answers": sorted(
            (
                {
                    "item_id": a["item_id"],
                    "result": _result(a["result"]).value,
                    "note": a.get("note") or "",
                    "photos": [str(p) for p in photos] if (photos := a.get("photos")) else [],
                }
                for a in data["answers"]
            ),
            key=itemgetter("item_id"),
        ),
    }
    # Stored hashes are compared on replay, so the bytes must stay those of
    # json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":")) encoded as UTF-8.
    # orjson writes the same bytes for these types (ASCII keys, str, int, list; every code point
    # escapes alike, tests/inspections/test_payload_hash.py) in a fraction of the time; what it
    # refuses (a lone surrogate, an int beyond 64 bits) goes the old way, with the old outcome.
    try:
        blob = orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


# ---- submission -----------------------------------------------------------------------------

def _no_rounds(user, round_id: int, lab_id: int) -> None:
    raise InvalidInput(_("No such round."), {"fields": {"round_id": [_("No such round.")]}})


_check_round = _no_rounds


def check_rounds_with(checker) -> None:
    """Register what checks a submit's ``round_id`` (rounds sit above this domain: create_app
    registers ``rounds.services.check_submit_round``); it raises InvalidInput or Forbidden."""
    global _check_round
    _check_round = checker


_ic = Inspection.__table__.c
_BY_UUID = select(_ic.id, _ic.uuid, _ic.payload_hash, _ic.inspector_id, _ic.score, _ic.grade).where(
    _ic.uuid == bindparam("uuid")
)


def _find_by_uuid(uuid: str):
    """The stored inspection's (id, uuid, payload_hash, inspector_id, score, grade) row, or None: the common case is
    a new UUID, and a replay needs no more than these, so no entity is loaded."""
    return db.session.connection().execute(_BY_UUID, {"uuid": uuid}).first()


def _replay_or_conflict(existing, digest: str, user: User) -> SubmitOutcome:
    if existing.inspector_id != user.id:
        # Someone else's inspection: say nothing about it, not its id, not whether its content
        # matches (either would let a guessed or leaked UUID probe another inspector's record).
        raise Conflict(
            _(
                "This inspection UUID is already in use. "
                "To record a new inspection, start a new one."
            ),
            {"uuid": existing.uuid},
        )
    if existing.payload_hash == digest:
        return SubmitOutcome(existing.id, existing.uuid, created=False, status=inspection_status(existing),
                             score=existing.score, grade=existing.grade)
    raise Conflict(
        _(
            "An inspection with this UUID was already submitted with different content. "
            "The stored one was kept; to record a new inspection, start a new one."
        ),
        {"uuid": existing.uuid, "id": existing.id},
    )


def _item_label(item: ChecklistItem) -> str:
    return f"{item.article} {item.text}"


def _validate(
    user: User, data: dict, config
) -> tuple[NamedLab, checklists.VersionSnapshot, Mapping[int, checklists.ItemSnapshot], set[str]]:
    """Every rule a submission must meet; raises before anything is written.

    Returns the lab, the version, its items by id and the referenced photos already uploaded.
    """
    # A row, not the entity: the policy and art. 22 read a LabRef like a Lab, a ticket the name.
    found = org_services.lab_ref_and_name(data["lab_id"])
    if found is None:
        raise InvalidInput(_("No such lab."), {"fields": {"lab_id": [_("No such lab.")]}})
    lab, lab_name, lab_name_en = found
    level = InspectionLevel(data["level"])
    started, finished = to_utc_naive(data["started_at"]), to_utc_naive(data["finished_at"])
    # Who may run which level is the policy's (art. 27 school, art. 28 college, art. 29 daily). A
    # daily check is judged on the school day the phone finished it: a designee's check done offline
    # while the designation stood still counts when it syncs after the designation ended.
    target = (CheckedOn(lab, school_today(config["SCHOOL_TIMEZONE"], finished))
              if level is InspectionLevel.daily else lab)
    if not may(user, checklists.ACTION_BY_LEVEL[level.value], target):
        raise Forbidden(_("You may not record this kind of inspection in this lab."))
    if data.get("round_id") is not None:
        _check_round(user, data["round_id"], lab.id)

    # The version as immutable data from the per-process cache (versions never change).
    try:
        version = checklists.version_snapshot(data["checklist_version_id"])
    except NotFound:
        raise InvalidInput(
            _("No such checklist version."), {"fields": {"checklist_version_id": [_("No such checklist version.")]}}
        ) from None
    # An older version is accepted: a phone offline for a while answers the list it downloaded.
    if level.value not in checklists.LEVELS_BY_KIND[version.kind]:
        raise InvalidInput(
            _("The checklist “%(title)s” is not used for this level of inspection.", title=version.title),
            {"fields": {"level": [_("Does not match the checklist.")]}},
        )

    skew = timedelta(seconds=int(config.get("INSPECTION_CLOCK_SKEW_SECONDS", DEFAULT_CLOCK_SKEW.total_seconds())))
    if started > finished:
        raise InvalidInput(
            _("The inspection cannot finish before it started."), {"fields": {"finished_at": [_("Before started_at.")]}}
        )
    if finished > utcnow() + skew:
        raise InvalidInput(
            _("The inspection's finishing time is in the future; check the phone's clock."),
            {"fields": {"finished_at": [_("In the future.")]}},
        )

    items = version.by_id
    applicable = checklists.applicable_item_ids(version, lab)
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for index, answer in enumerate(data["answers"]):
        item = items.get(answer["item_id"])
        key = str(index)
        if item is None:
            errors.setdefault(key, []).append(_("This item is not part of the checklist version answered."))
            continue
        if item.id in seen:
            errors.setdefault(key, []).append(_("Item %(item)s is answered twice.", item=_item_label(item)))
        seen.add(item.id)
        if item.id not in applicable:
            errors.setdefault(key, []).append(
                _("Item %(item)s does not apply to this lab (its category and hazards).", item=_item_label(item))
            )
        if (
            _result(answer["result"]) is AnswerResult.failed
            and item.photo_required
            and not answer.get("photos")
        ):
            errors.setdefault(key, []).append(
                _("Item %(item)s failed and needs at least one photo as evidence.", item=_item_label(item))
            )
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidInput(first, {"answers": errors})
    # A real inspection is complete: every item that applies to this lab gets an answer
    # (n/a is an answer); a missing one would silently look like a pass.
    missing = [items[i] for i in sorted(applicable - seen, key=lambda i: items[i].position)]
    if missing:
        raise InvalidInput(
            _("Every item must be answered; missing: %(items)s.", items="; ".join(_item_label(i) for i in missing[:5])),
            {"missing_items": [i.id for i in missing]},
        )

    # A photo already uploaded by someone else cannot be claimed as this inspection's evidence.
    # The same query tells which photos have arrived (the response's missing_photos).
    uuids = {str(p) for a in data["answers"] for p in a.get("photos") or []}
    arrived: set[str] = set()
    if uuids:
        rows = db.session.execute(select(Photo.uuid, Photo.uploaded_by_id).where(Photo.uuid.in_(uuids))).all()
        # As SQL's `uploaded_by_id != :user` did: a photo with no uploader is nobody else's.
        others = [uuid for uuid, by in rows if by is not None and by != user.id]
        if others:
            raise InvalidInput(
                _("Some photos were uploaded by someone else and cannot be used here."), {"photos": sorted(others)}
            )
        arrived = {uuid for uuid, _by in rows}
    return NamedLab(lab.id, lab.college_id, lab_name, lab_name_en), version, items, arrived


_INSPECTION_INSERT = insert(Inspection.__table__).returning(Inspection.__table__.c.id)
_answers = InspectionAnswer.__table__
_ANSWERS_INSERT = insert(_answers).returning(_answers.c.id, _answers.c.item_id)
_PHOTOS_INSERT = insert(AnswerPhoto.__table__)
_ANSWER_COLUMNS = ("item_id", "position", "result", "note")


@functools.cache
def _answers_insert_unnest():
    """PostgreSQL: INSERT INTO inspection_answers (...) SELECT :inspection_id, u.* FROM unnest(:item_id,
    :position, :result, :note) WITH ORDINALITY AS u ORDER BY u.ordinality RETURNING id, item_id.

    One array per column: the statement is the same whatever the number of answers. The multi-row
    VALUES it replaces has 5 parameters a row (~7 kB of SQL for 59 answers), too long for psycopg's
    query cache, which parsed it anew each time (~1 ms of CPU, most of what a submit spent on
    PostgreSQL). ORDER BY the ordinality: the ids follow the answers' order, as the VALUES gave them.
    """
    types = {"item_id": Integer, "position": Integer, "result": String, "note": Text}
    rows = (
        func.unnest(*(bindparam(name, type_=ARRAY(types[name])) for name in _ANSWER_COLUMNS))
        .table_valued(*_ANSWER_COLUMNS, with_ordinality="ordinality")
        .render_derived()
    )
    return insert(_answers).from_select(
        ["inspection_id", *_ANSWER_COLUMNS],
        select(bindparam("inspection_id", type_=Integer), *(rows.c[name] for name in _ANSWER_COLUMNS))
        .order_by(rows.c.ordinality),
    ).returning(_answers.c.id, _answers.c.item_id)


@functools.lru_cache(maxsize=64)
def _answers_insert_qmark(rows: int) -> str:
    """SQLite: INSERT INTO inspection_answers (inspection_id, ...) VALUES (?, ?, ?, ?, ?), ... RETURNING
    id, item_id for ``rows`` answers, as SQLAlchemy renders it; sqlite3 keeps it prepared."""
    columns = ", ".join(("inspection_id", *_ANSWER_COLUMNS))
    values = ", ".join(["(?, ?, ?, ?, ?)"] * rows)
    return f"INSERT INTO {_answers.name} ({columns}) VALUES {values} RETURNING id, item_id"


def _insert_answers(answers: list[dict]) -> list:
    """Insert the answers (all of one inspection) in one statement; their (id, item_id) rows."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return connection.execute(_answers_insert_unnest(), {
            "inspection_id": answers[0]["inspection_id"],
            **{name: [a[name] for a in answers] for name in ("item_id", "position", "note")},
            "result": [a["result"].value for a in answers],
        }).all()
    dialect = connection.dialect
    if dialect.paramstyle == "qmark" and 5 * len(answers) <= dialect.insertmanyvalues_max_parameters:
        # The statement SQLAlchemy's insertmanyvalues sends, with the values as its bind processing
        # leaves them (the result's value): SQLAlchemy spent twice SQLite's time on the 59 rows.
        params = []
        for a in answers:
            params += (a["inspection_id"], a["item_id"], a["position"], a["result"].value, a["note"])
        return connection.exec_driver_sql(_answers_insert_qmark(len(answers)), tuple(params)).all()
    return connection.execute(_ANSWERS_INSERT, answers).all()


# ---- signatures ------------------------------------------------------------------------------

# The PNG check and re-encoding: app/photos/signatures.py (shared with the tickets' reply slip).


def _signature_rows(signatures: list[dict] | None) -> list[dict]:
    """The rows to store for the submitted signatures (the inspection id added at insert);
    InvalidInput, before anything is written, for an image that is not a signature's PNG."""
    rows = []
    for index, s in enumerate(signatures or []):
        png = None
        if not s.get("refused"):
            try:
                png = signature_png(s["image"])
            except ValueError as error:
                raise InvalidInput(str(error), {"signatures": {str(index): {"image": [str(error)]}}}) from None
        rows.append({
            "role": SignatureRole(s["role"]), "name": (s.get("name") or "").strip(), "png": png,
            "signed_at": to_utc_naive(s["signed_at"]) if s.get("signed_at") else None,
            "refused": bool(s.get("refused")), "reason": (s.get("reason") or "").strip() if s.get("refused") else "",
        })
    return rows


def signatures_of(inspection_id: int) -> list[InspectionSignature]:
    """An inspection's signatures (with their PNGs), the inspector's first."""
    rows = db.session.scalars(
        select(InspectionSignature).where(InspectionSignature.inspection_id == inspection_id)
        .options(undefer(InspectionSignature.png))
    ).all()
    order = list(SignatureRole)
    return sorted(rows, key=lambda r: order.index(r.role))


def submit_inspection(user: User, data: dict, config) -> SubmitOutcome:
    """Store one inspection and open a ticket for each failed item, in one transaction; a daily
    check also clears the nightly job's flag of its day, if it arrived late (daily_checks.clear_missed_check).

    ``data`` is InspectionInSchema-loaded. Same UUID + same content: the stored inspection
    (created=False); same UUID + other content: Conflict. Concurrent duplicates are settled by
    the unique UUID: the loser rolls back and answers as a replay.
    """
    uuid = str(data["uuid"])
    digest = payload_hash(data)
    existing = _find_by_uuid(uuid)
    if existing is not None:
        return _replay_or_conflict(existing, digest, user)

    lab, version, items, arrived = _validate(user, data, config)
    signatures = _signature_rows(data.get("signatures"))
    user_id = user.id  # read now: the commit expires the user
    # Scored with the version answered (its weights and red lines), stored with the inspection.
    scored = scoring.score_answers(items, ((a["item_id"], a["result"]) for a in data["answers"]), config)
    values = {
        "uuid": uuid,
        "payload_hash": digest,
        "lab_id": lab.id,
        "checklist_version_id": version.id,
        "level": InspectionLevel(data["level"]),
        "inspector_id": user_id,
        "started_at": to_utc_naive(data["started_at"]),
        "finished_at": to_utc_naive(data["finished_at"]),
        "received_at": utcnow(),
        "note": data.get("note") or "",
        "score": scored.score,
        "grade": scored.grade,
        "round_id": data.get("round_id"),
    }
    ordered = sorted(data["answers"], key=lambda a: items[a["item_id"]].position)
    ticket_ids: list[int] = []
    try:
        # Core INSERTs, not ORM objects: the rows are known here, nothing needs them in the session.
        # One for the inspection (the unique UUID speaks here if a twin got in first), one
        # INSERT ... RETURNING for the answers (_insert_answers), one for their photos.
        connection = db.session.connection()  # Core statements: no ORM execution around them
        inspection = InspectionRow(id=connection.execute(_INSPECTION_INSERT, values).scalar_one(), **values)
        answers = [
            {
                "inspection_id": inspection.id,
                "item_id": a["item_id"],
                "position": items[a["item_id"]].position,
                "result": _result(a["result"]),
                "note": a.get("note") or "",
            }
            for a in ordered
        ]
        answer_ids = {item_id: answer_id for answer_id, item_id in _insert_answers(answers)}  # item_id: unique
        photos = [
            {"answer_id": answer_ids[a["item_id"]], "photo_uuid": str(p), "position": n}
            for a in ordered
            for n, p in enumerate(a.get("photos") or [])
        ]
        if photos:
            connection.execute(_PHOTOS_INSERT, photos)
        if signatures:
            connection.execute(insert(InspectionSignature.__table__),
                               [{"inspection_id": inspection.id, **row} for row in signatures])
        # Every failed item becomes a rectification ticket for the lab's officers (art. 29).
        for answer in answers:
            if answer["result"] is AnswerResult.failed:
                ticket_ids.append(open_ticket_for_failed_answer(
                    inspection=inspection,
                    answer=AnswerRow(id=answer_ids[answer["item_id"]], **answer),
                    item=items[answer["item_id"]],
                    actor_id=user_id,
                    config=config,
                    answer_is_new=True,  # inserted just above: no ticket yet, no lookup needed
                    lab=lab,  # read by _validate: its name titles the ticket
                ))
        if values["level"] is InspectionLevel.daily:
            # A daily check synced after the nightly job flagged its day clears that flag (art. 29);
            # the rule is daily_checks' (README "Late daily checks").
            clear_missed_check(
                lab_id=lab.id, college_id=lab.college_id, lab_name=lab.name, lab_name_en=lab.name_en,
                inspection_id=inspection.id, finished_at=values["finished_at"], received_at=values["received_at"],
                config=config,
            )
        db.session.commit()  # the inspection, its answers, its tickets and a cleared flag land together
    except IntegrityError:
        db.session.rollback()
        existing = _find_by_uuid(uuid)
        if existing is None:
            raise
        return _replay_or_conflict(existing, digest, user)
    except BaseException:
        db.session.rollback()
        raise
    # What inspection_status would read back is known already: the photos not yet uploaded (in
    # answer and photo order, each once) and the tickets just opened (the inspection is new).
    missing: dict[str, None] = {}
    for photo in photos:
        if photo["photo_uuid"] not in arrived:
            missing.setdefault(photo["photo_uuid"])
    if missing:
        # A photo whose upload committed after the validation read above is not missing (it is the
        # failed item's evidence, art. 29): asked again only when some were, so the common submit
        # pays nothing.
        late = photo_services.photos_by_uuid(missing)
        missing = {uuid: None for uuid in missing if uuid not in late}
    return SubmitOutcome(
        inspection.id, uuid, created=True, status=InspectionStatus(list(missing), sorted(ticket_ids)),
        score=scored.score, grade=scored.grade,
    )


# ---- reading --------------------------------------------------------------------------------

def get_inspection(inspection_id: int) -> Inspection:
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None:
        raise NotFound(_("No such inspection."))
    return inspection


def _statuses(inspection_ids: list[int]) -> dict[int, InspectionStatus]:
    """Missing photos and ticket ids for many inspections in two queries."""
    out = {i: InspectionStatus() for i in inspection_ids}
    if not inspection_ids:
        return out
    rows = db.session.execute(
        select(InspectionAnswer.inspection_id, AnswerPhoto.photo_uuid)
        .join(AnswerPhoto, AnswerPhoto.answer_id == InspectionAnswer.id)
        .outerjoin(Photo, Photo.uuid == AnswerPhoto.photo_uuid)
        .where(InspectionAnswer.inspection_id.in_(inspection_ids), Photo.id.is_(None))
        .order_by(InspectionAnswer.inspection_id, InspectionAnswer.position, AnswerPhoto.position)
    )
    for inspection_id, photo_uuid in rows:
        if photo_uuid not in out[inspection_id].missing_photos:
            out[inspection_id].missing_photos.append(photo_uuid)
    tickets = db.session.execute(
        select(RectificationTicket.inspection_id, RectificationTicket.id)
        .where(RectificationTicket.inspection_id.in_(inspection_ids))
        .order_by(RectificationTicket.id)
    )
    for inspection_id, ticket_id in tickets:
        out[inspection_id].ticket_ids.append(ticket_id)
    return out


def inspection_status(inspection: Inspection) -> InspectionStatus:
    return _statuses([inspection.id])[inspection.id]


def _utc(value: datetime | None):
    return value.replace(tzinfo=UTC) if value else None


def _summary(inspection: Inspection, version: ChecklistVersion, checklist: Checklist, inspector: User,
             counts: dict[str, int], status: InspectionStatus) -> dict:
    return {
        "id": inspection.id,
        "uuid": inspection.uuid,
        "lab_id": inspection.lab_id,
        "level": inspection.level.value,
        "checklist_key": checklist.key,
        "checklist_title": version.title,
        "checklist_title_en": version.title_en,
        "checklist_version_id": version.id,
        "checklist_version": version.number,
        "inspector": {"id": inspector.id, "name": inspector.name},
        "started_at": _utc(inspection.started_at),
        "finished_at": _utc(inspection.finished_at),
        "received_at": _utc(inspection.received_at),
        "note": inspection.note,
        "score": inspection.score,
        "grade": inspection.grade,
        "counts": {r.value: counts.get(r.value, 0) for r in AnswerResult},
        "complete": status.complete,
        "missing_photos": status.missing_photos,
        "ticket_ids": status.ticket_ids,
        "url": f"/inspections/{inspection.id}",
    }


def lab_inspections(lab_id: int, limit: int = 50) -> list[dict]:
    """A lab's inspections, most recent first, with counts and completeness: four queries."""
    rows = db.session.execute(
        select(Inspection, ChecklistVersion, Checklist, User)
        .join(ChecklistVersion, ChecklistVersion.id == Inspection.checklist_version_id)
        .join(Checklist, Checklist.id == ChecklistVersion.checklist_id)
        .join(User, User.id == Inspection.inspector_id)
        .where(Inspection.lab_id == lab_id)
        .order_by(Inspection.finished_at.desc(), Inspection.id.desc())
        .limit(limit)
    ).all()
    ids = [r[0].id for r in rows]
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        for inspection_id, result, n in db.session.execute(
            select(InspectionAnswer.inspection_id, InspectionAnswer.result, func.count())
            .where(InspectionAnswer.inspection_id.in_(ids))
            .group_by(InspectionAnswer.inspection_id, InspectionAnswer.result)
        ):
            counts[inspection_id][AnswerResult(result).value] = n
    statuses = _statuses(ids)
    return [_summary(i, v, c, u, counts[i.id], statuses[i.id]) for i, v, c, u in rows]


def inspection_detail(inspection: Inspection, user: User) -> dict:
    """Every answer with the article and text of the version it was answered against."""
    version = checklists.get_version(inspection.checklist_version_id)
    inspector = db.session.get(User, inspection.inspector_id)
    lab = db.session.get(Lab, inspection.lab_id)
    answers = db.session.scalars(
        select(InspectionAnswer)
        .where(InspectionAnswer.inspection_id == inspection.id)
        .options(selectinload(InspectionAnswer.photo_refs))
        .order_by(InspectionAnswer.position, InspectionAnswer.id)
    ).all()
    items = {i.id: i for i in version.items}
    uuids = [ref.photo_uuid for a in answers for ref in a.photo_refs]
    arrived = photo_services.photos_by_uuid(uuids)
    tickets = dict(
        db.session.execute(
            select(RectificationTicket.answer_id, RectificationTicket.id).where(
                RectificationTicket.inspection_id == inspection.id
            )
        ).all()
    )
    originals = may(user, Action.VIEW_ORIGINAL_PHOTO, lab)
    counts: dict[str, int] = {}
    out_answers = []
    for a in answers:
        item = items.get(a.item_id)
        counts[a.result.value] = counts.get(a.result.value, 0) + 1
        refs = []
        for ref in a.photo_refs:
            got = ref.photo_uuid in arrived
            urls = photo_services.urls_for(ref.photo_uuid) if got else {}
            refs.append(
                {
                    "uuid": ref.photo_uuid,
                    "arrived": got,
                    "received": got,  # the same; its first name, kept for clients that read it
                    "thumb_url": urls.get("thumb_url"),
                    "display_url": urls.get("display_url"),
                    "original_url": urls.get("original_url") if originals else None,
                    "camera_original_url": photo_services.camera_original_url(arrived.get(ref.photo_uuid))
                    if originals else None,
                }
            )
        out_answers.append(
            {
                "item_id": a.item_id,
                "item_key": item.item_key if item else "",
                "article": item.article if item else "",
                "article_label": checklists.article_label(item.article) if item else "",
                "text": item.text if item else "",
                "text_en": item.text_en if item else None,
                "severity": item.severity.value if item else "",
                "photo_required": bool(item and item.photo_required),
                "weight": item.weight if item else 1,
                "must_pass": bool(item and item.must_pass),
                "result": a.result.value,
                "note": a.note,
                "ticket_id": tickets.get(a.id),
                "photos": refs,
            }
        )
    body = _summary(inspection, version, version.checklist, inspector, counts, inspection_status(inspection))
    body["lab_name"] = lab.name
    body["answers"] = out_answers
    body["signatures"] = [
        {"role": role.value, "name": name, "signed_at": _utc(signed_at), "refused": refused, "reason": reason}
        for role, name, signed_at, refused, reason in db.session.execute(
            select(InspectionSignature.role, InspectionSignature.name, InspectionSignature.signed_at,
                   InspectionSignature.refused, InspectionSignature.reason)
            .where(InspectionSignature.inspection_id == inspection.id).order_by(InspectionSignature.role))
    ]
    return body


def answer_photo_uuids(answer_id: int) -> list[str]:
    """The photos attached to one answer, in order (a ticket's evidence: tickets.events.read_evidence_with)."""
    return list(db.session.scalars(
        select(AnswerPhoto.photo_uuid).where(AnswerPhoto.answer_id == answer_id).order_by(AnswerPhoto.position)
    ))


# ---- the photos answers refer to (registered with photos by create_app) ------------------------

def _of_answers_showing(column, photo_uuid: str):
    return (
        select(column)
        .join(InspectionAnswer, InspectionAnswer.inspection_id == Inspection.id)
        .join(AnswerPhoto, AnswerPhoto.answer_id == InspectionAnswer.id)
        .where(AnswerPhoto.photo_uuid == photo_uuid)
    )


def labs_of_answer_photo(photo: Photo):
    """The labs whose inspections have an answer showing this photo (a SELECT of lab ids)."""
    return _of_answers_showing(Inspection.lab_id, photo.uuid)


def inspectors_of_answer_photo(photo_uuid: str):
    """The inspectors whose answers already refer to this photo UUID (a SELECT of user ids)."""
    return _of_answers_showing(Inspection.inspector_id, photo_uuid)
