"""Checklists: loading versions, applicability to a lab, who may run which list at which level.

Other domains (inspections, PWA, tickets) call these functions; keep their names stable.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from app.errors import NotFound
from app.extensions import db
from app.org.models import LabRef
from app.org.services import lab_ref_select
from app.policy import Action, may

from .loader import (
    ChecklistFileError,
    ChecklistSpec,
    FileError,
    article_label,
    article_sort_key,
    item_scoring,
    parse_directory,
)
from .models import Checklist, ChecklistItem, ChecklistKind, ChecklistVersion, Severity
from .schemas import ChecklistItemSchema

# Inspection levels (app.inspections.models.InspectionLevel values) each kind of list serves.
LEVELS_BY_KIND = {
    ChecklistKind.daily: ("daily",),  # art. 29
    ChecklistKind.full: ("college", "school"),  # art. 28 monthly, art. 27 semester
    ChecklistKind.special: ("special",),  # art. 27 专项检查
}
# Who may run an inspection at each level (app/policy.py decides, by article).
ACTION_BY_LEVEL = {
    "daily": Action.DAILY_CHECK,
    "college": Action.COLLEGE_INSPECT,
    "school": Action.SCHOOL_INSPECT,
    "special": Action.SCHOOL_INSPECT,
}
# Controlled chemicals whose purchase is 保卫处's remit (art. 9).
CONTROLLED_CHEMICAL_TAGS = {"highly_toxic", "precursor", "explosive_precursor"}


# ---- loading ---------------------------------------------------------------------------------

@dataclass
class LoadReport:
    created: list[tuple[str, int]] = field(default_factory=list)  # (key, version number)
    restored: list[tuple[str, int]] = field(default_factory=list)  # content went back to an old version
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)  # file gone: no longer served

    @property
    def changed(self) -> bool:
        return bool(self.created or self.restored or self.retired)


def check_directory(path: str | Path) -> list[FileError]:
    """Every problem in every file of the directory; empty when all are valid."""
    return parse_directory(path).errors


def load_directory(path: str | Path, session: Session | None = None, *, retire_missing: bool = True) -> LoadReport:
    """Validate ALL files, then store, in one transaction, a new version of each changed list.

    Raises ChecklistFileError (nothing written) if any file is bad. Unchanged content creates
    nothing, so loading twice is the same as loading once. With ``retire_missing``, a list whose
    file was removed stops being served (its versions stay: inspections point at them).
    """
    session = session or db.session
    parsed = parse_directory(path)
    if parsed.errors:
        raise ChecklistFileError(parsed.errors)
    try:
        report = store_specs(parsed.specs, session, retire_missing=retire_missing)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return report


def store_specs(specs: Iterable[ChecklistSpec], session: Session, *, retire_missing: bool = False) -> LoadReport:
    """Add versions for the given validated specs (no commit: the caller owns the transaction)."""
    specs = list(specs)
    report = LoadReport()
    existing = {
        c.key: c
        for c in session.scalars(select(Checklist).options(selectinload(Checklist.versions)))
    }
    for spec in specs:
        checklist = existing.get(spec.key)
        if checklist is None:
            checklist = Checklist(key=spec.key, kind=ChecklistKind(spec.kind), title=spec.title, title_en=spec.title_en)
            session.add(checklist)
            session.flush()
            existing[spec.key] = checklist
            versions: list[ChecklistVersion] = []
        else:
            versions = list(checklist.versions)
        # The list's own name and kind follow the latest file; each version keeps its own title.
        checklist.kind = ChecklistKind(spec.kind)
        checklist.title = spec.title
        checklist.title_en = spec.title_en
        same = next((v for v in versions if v.content_hash == spec.content_hash), None)
        if same is not None:
            if checklist.current_version_id == same.id:
                report.unchanged.append(spec.key)
            else:
                checklist.current_version = same
                report.restored.append((spec.key, same.number))
            continue
        version = ChecklistVersion(
            checklist_id=checklist.id,
            number=max((v.number for v in versions), default=0) + 1,
            content_hash=spec.content_hash,
            title=spec.title,
            title_en=spec.title_en,
            source_file=spec.source_file,
        )
        session.add(version)
        session.flush()
        session.add_all(
            ChecklistItem(
                version_id=version.id,
                item_key=item["id"],
                position=position,
                article=item["article"],
                text=item["text"],
                text_en=item["text_en"],
                categories=item["categories"],
                hazard_tags=item["hazard_tags"],
                severity=Severity(item["severity"]),
                photo_required=item["photo_required"],
                department_code=item["department"],
                **item_scoring(item),
            )
            for position, item in enumerate(spec.items, start=1)
        )
        checklist.current_version = version
        report.created.append((spec.key, version.number))
    if retire_missing:
        keys = {s.key for s in specs}
        for key, checklist in existing.items():
            if key not in keys and checklist.current_version_id is not None:
                checklist.current_version = None
                report.retired.append(key)
    session.flush()
    return report


# ---- reading ---------------------------------------------------------------------------------

def all_checklists() -> list[Checklist]:
    """Every list with its versions (newest first in the page), by kind then key."""
    order = {ChecklistKind.daily: 0, ChecklistKind.full: 1, ChecklistKind.special: 2}
    rows = db.session.scalars(select(Checklist).options(selectinload(Checklist.versions))).all()
    return sorted(rows, key=lambda c: (order[c.kind], c.key))


_CHECKLIST_BY_KEY = select(Checklist).where(Checklist.key == bindparam("key"))  # built once: hot path


def get_checklist(key: str) -> Checklist:
    checklist = db.session.scalar(_CHECKLIST_BY_KEY, {"key": key})
    if checklist is None:
        raise NotFound(_("No checklist named %(key)s.", key=key))
    return checklist


def current_version(key: str) -> ChecklistVersion:
    """The version currently served for a list; NotFound if unknown or retired."""
    checklist = get_checklist(key)
    if checklist.current_version_id is None:
        raise NotFound(_("Checklist %(key)s is not in service.", key=key))
    return get_version(checklist.current_version_id)


def get_version(version_id: int) -> ChecklistVersion:
    version = db.session.scalar(
        select(ChecklistVersion)
        .where(ChecklistVersion.id == version_id)
        .options(selectinload(ChecklistVersion.items), selectinload(ChecklistVersion.checklist))
    )
    if version is None:
        raise NotFound(_("No such checklist version."))
    return version


# ---- immutable snapshots of versions (hot paths: the lab's list, the inspection submit) -------

@dataclass(frozen=True)
class ItemSnapshot:
    """A checklist item as plain immutable data; duck-types ChecklistItem for reading."""

    id: int
    version_id: int
    item_key: str
    position: int
    article: str
    text: str
    text_en: str | None
    categories: tuple[str, ...]
    hazard_tags: tuple[str, ...]
    severity: Severity
    photo_required: bool
    department_code: str | None
    weight: int = 1
    must_pass: bool = False
    stars: int | None = None


@dataclass(frozen=True)
class VersionSnapshot:
    """A checklist version and its items, in file order. Never an ORM object, so it can outlive
    the session that read it (no detached-instance surprises)."""

    id: int
    checklist_id: int
    number: int
    title: str
    title_en: str | None
    key: str
    kind: ChecklistKind
    items: tuple[ItemSnapshot, ...]
    by_id: Mapping[int, ItemSnapshot]
    # The API's item JSON, built once per version (ChecklistItemSchema; locale-independent).
    # Shared: callers copy a dict before changing it.
    item_json: Mapping[int, dict[str, Any]]
    # Lab profile (category, hazard tags) -> ids of the items that apply (art. 22); filled on use.
    applicable: dict[tuple, frozenset[int]] = field(default_factory=dict, compare=False, repr=False)


VERSION_CACHE_SIZE = 64  # a list keeps a few versions; phones offline a while answer old ones
_cache_lock = threading.Lock()


def _version_cache() -> OrderedDict:
    # Per app object, hence per process (gunicorn workers each build their own) and per test
    # app (a test database's version 1 is not another's). Versions never change once stored
    # (a changed file becomes a new version), so entries are never invalidated, only evicted.
    return current_app.extensions.setdefault("labsafe_checklist_versions", OrderedDict())


def version_snapshot(version_id: int) -> VersionSnapshot:
    """The version as immutable data, cached in process memory (LRU, VERSION_CACHE_SIZE).

    NotFound if there is no such version.
    """
    cache = _version_cache()
    with _cache_lock:
        snapshot = cache.get(version_id)
        if snapshot is not None:
            cache.move_to_end(version_id)
            return snapshot
    snapshot = _read_snapshot(version_id)
    with _cache_lock:
        cache[version_id] = snapshot
        cache.move_to_end(version_id)
        while len(cache) > VERSION_CACHE_SIZE:
            cache.popitem(last=False)
    return snapshot


def _read_snapshot(version_id: int) -> VersionSnapshot:
    row = db.session.execute(
        select(ChecklistVersion.id, ChecklistVersion.checklist_id, ChecklistVersion.number,
               ChecklistVersion.title, ChecklistVersion.title_en, Checklist.key, Checklist.kind)
        .join(Checklist, Checklist.id == ChecklistVersion.checklist_id)
        .where(ChecklistVersion.id == version_id)
    ).first()
    if row is None:
        raise NotFound(_("No such checklist version."))
    columns = (ChecklistItem.id, ChecklistItem.version_id, ChecklistItem.item_key, ChecklistItem.position,
               ChecklistItem.article, ChecklistItem.text, ChecklistItem.text_en, ChecklistItem.categories,
               ChecklistItem.hazard_tags, ChecklistItem.severity, ChecklistItem.photo_required,
               ChecklistItem.department_code, ChecklistItem.weight, ChecklistItem.must_pass, ChecklistItem.stars)
    items = tuple(
        ItemSnapshot(r.id, r.version_id, r.item_key, r.position, r.article, r.text, r.text_en,
                     tuple(r.categories or ()), tuple(r.hazard_tags or ()), r.severity, bool(r.photo_required),
                     r.department_code, r.weight, bool(r.must_pass), r.stars)
        for r in db.session.execute(
            select(*columns).where(ChecklistItem.version_id == version_id).order_by(ChecklistItem.position)
        )
    )
    schema = ChecklistItemSchema()
    return VersionSnapshot(
        id=row.id, checklist_id=row.checklist_id, number=row.number, title=row.title, title_en=row.title_en,
        key=row.key, kind=row.kind, items=items,
        by_id=MappingProxyType({i.id: i for i in items}),
        item_json=MappingProxyType({i.id: schema.dump(i) for i in items}),
    )


_c = Checklist.__table__.c
_lab_and_version_statement = None


def lab_and_current_snapshot(lab_id: int, key: str):
    """The lab (a LabRef) and a function answering the version currently served for the list ``key``,
    read in one statement: org's LabRef select with the list's id and current version as scalar
    subqueries (each round trip costs ~0.2 ms on PostgreSQL; this is the checklist API's hot path).
    NotFound at once for no such lab; the function raises NotFound for an unknown list or one not
    in service, so the caller can ask the policy about the lab first."""
    global _lab_and_version_statement
    if _lab_and_version_statement is None:  # built once (on first use: org imports this module's peers)
        by_key = _c.key == bindparam("key")
        _lab_and_version_statement = lab_ref_select().add_columns(
            select(_c.id).where(by_key).scalar_subquery().label("checklist_id"),
            select(_c.current_version_id).where(by_key).scalar_subquery().label("current_version_id"),
        )
    row = db.session.connection().execute(_lab_and_version_statement, {"lab_id": lab_id, "key": key}).first()
    if row is None:
        raise NotFound(_("No such lab."))

    def snapshot() -> VersionSnapshot:
        if row.checklist_id is None:
            raise NotFound(_("No checklist named %(key)s.", key=key))
        if row.current_version_id is None:
            raise NotFound(_("Checklist %(key)s is not in service.", key=key))
        return version_snapshot(row.current_version_id)

    return LabRef(*row[:4]), snapshot


def snapshot_items_for_lab(snapshot: VersionSnapshot, lab: Any) -> list[ItemSnapshot]:
    """Art. 22: the version's items that apply to this lab, in file order."""
    ids = applicable_item_ids(snapshot, lab)
    return [i for i in snapshot.items if i.id in ids]


def applicable_item_ids(snapshot: VersionSnapshot, lab: Any) -> frozenset[int]:
    """Art. 22: ids of the version's items that apply to this lab, kept on the snapshot per lab
    profile. item_applies reads only the category and the hazard tags, and labs share a handful of
    profiles; a race computes the same set twice."""
    profile = (getattr(lab.category, "value", lab.category), frozenset(lab.hazard_tags or ()))
    ids = snapshot.applicable.get(profile)
    if ids is None:
        ids = snapshot.applicable[profile] = frozenset(i.id for i in snapshot.items if item_applies(i, lab))
    return ids


def items_by_ids(item_ids: Iterable[int]) -> dict[int, ChecklistItem]:
    """Items by id (any version): how an answered inspection shows exactly what was asked."""
    ids = set(item_ids)
    if not ids:
        return {}
    return {i.id: i for i in db.session.scalars(select(ChecklistItem).where(ChecklistItem.id.in_(ids)))}


def item_applies(item: ChecklistItem, lab: Any) -> bool:
    """Art. 22: what a lab must have depends on its category and its hazards.

    No categories = every category; no hazard tags = regardless of hazards; otherwise the lab
    needs one of the item's categories AND at least one of its hazard tags.
    """
    category = getattr(lab.category, "value", lab.category)
    if item.categories and category not in item.categories:
        return False
    if item.hazard_tags and not set(item.hazard_tags) & set(lab.hazard_tags or ()):
        return False
    return True


def items_for_lab(version: ChecklistVersion, lab: Any) -> list[ChecklistItem]:
    return [i for i in version.items if item_applies(i, lab)]


# Words that mark a purchase, a controlled chemical and building works in a hazard's text: what a
# hazard reported by hand has instead of an item's hazard tags and clause (art. 9, 14(2), 16).
_PURCHASE_WORDS = ("购买", "采购", "purchase", "buy")
_CONTROLLED_WORDS = ("剧毒", "易制爆", "易制毒", "highly toxic", "explosive precursor", "explosive-precursor",
                     "precursor")
_CITED_ARTICLE = re.compile(r"\s*(\d{1,3})(?:\s*\((\d{1,2})\))?")
_BUILDING_WORDS = ("装修", "施工", "building work", "renovation", "construction")


def route_hazard(article: str | None, text: str = "", tags: Iterable[str] = (), explicit: str | None = None) -> str:
    """The functional department that follows a hazard (art. 9), as a Department.code: the one rule,
    for checklist items (``department_for``) and hazards reported by hand (tickets.routing).

    An explicit department wins. Otherwise: fire and facilities (art. 22, 23) and the purchase
    (购买/采购) of highly toxic, drug-precursor or explosive-precursor chemicals (by the item's hazard
    tags or the text's words) go to security (保卫处); water and electricity (art. 21) and building
    works (art. 14(2): new, extended or refitted lab spaces; or named in the text: 装修, 施工) to
    assets (资产与后勤管理处); everything else to lab_management (实验室建设与管理处).
    """
    if explicit:
        return explicit
    # Read leniently: a hazard reported by hand may cite a clause the checklists' loader would refuse.
    m = _CITED_ARTICLE.match(article or "")
    art, sub = (int(m[1]), int(m[2]) if m[2] else None) if m else (None, None)
    lowered = (text or "").lower()
    if art in (22, 23):
        return "security"
    if art == 21 or (art, sub) == (14, 2):
        return "assets"
    controlled = bool(set(tags) & CONTROLLED_CHEMICAL_TAGS) or any(w in lowered for w in _CONTROLLED_WORDS)
    if controlled and any(w in lowered for w in _PURCHASE_WORDS):
        return "security"
    if any(w in lowered for w in _BUILDING_WORDS):
        return "assets"
    return "lab_management"


def department_for(item: Any) -> str:
    """Functional department a failed item routes to (``route_hazard``), as a Department.code.
    Accepts a ChecklistItem or a normalised item dict."""
    if isinstance(item, dict):
        text = " ".join(filter(None, (item.get("text"), item.get("text_en"))))
        return route_hazard(item["article"], text, item.get("hazard_tags") or (), item.get("department"))
    text = " ".join(filter(None, (item.text, getattr(item, "text_en", None))))
    return route_hazard(item.article, text, item.hazard_tags or (), item.department_code)


def grouped_by_article(items: Iterable[ChecklistItem]) -> list[tuple[str, str, list[ChecklistItem]]]:
    """[(article, 第X条（Y）, items)] in article order, file order within an article."""
    groups: dict[str, list[ChecklistItem]] = {}
    for item in items:
        groups.setdefault(item.article, []).append(item)
    return [(a, article_label(a), groups[a]) for a in sorted(groups, key=article_sort_key)]


# ---- who may run what here ------------------------------------------------------------------

@dataclass
class AvailableChecklist:
    checklist: Checklist
    version: ChecklistVersion
    levels: list[str]
    items: list[ChecklistItem] = field(default_factory=list)  # the version's items for this lab


def allowed_levels(user: Any, lab: Any, kind: ChecklistKind) -> list[str]:
    """Inspection levels at which this user may run a list of this kind in this lab (policy decides)."""
    return [level for level in LEVELS_BY_KIND[kind] if may(user, ACTION_BY_LEVEL[level], lab)]


def current_versions() -> list[ChecklistVersion]:
    """Every version in service, with its list and items, in a fixed number of queries."""
    versions = db.session.scalars(
        select(ChecklistVersion)
        .join(Checklist, Checklist.current_version_id == ChecklistVersion.id)
        .options(selectinload(ChecklistVersion.items), selectinload(ChecklistVersion.checklist))
    ).all()
    order = {ChecklistKind.daily: 0, ChecklistKind.full: 1, ChecklistKind.special: 2}
    return sorted(versions, key=lambda v: (order[v.checklist.kind], v.checklist.key))


def checklists_for_user_and_labs(user: Any, labs: Iterable[Any]) -> dict[int, list[AvailableChecklist]]:
    """For each lab (by id): the lists this user may run there, at which levels, with the items
    that apply. Set-based (the offline bundle calls it for many labs): the queries do not grow
    with the number of labs. A list with no item for a lab (e.g. the hazardous chemicals special
    check in a computer lab) is left out.
    """
    versions = current_versions()
    out: dict[int, list[AvailableChecklist]] = {}
    # Applicability depends only on (category, hazard tags): labs alike share one computation.
    applicable: dict[tuple, list[ChecklistItem]] = {}
    for lab in labs:
        profile = (getattr(lab.category, "value", lab.category), frozenset(lab.hazard_tags or ()))
        available = []
        for version in versions:
            levels = allowed_levels(user, lab, version.checklist.kind)
            if not levels:
                continue
            key = (version.id, profile)
            if key not in applicable:
                applicable[key] = items_for_lab(version, lab)
            if applicable[key]:
                available.append(AvailableChecklist(version.checklist, version, levels, applicable[key]))
        out[lab.id] = available
    return out


def checklists_for_user_and_lab(user: Any, lab: Any) -> list[AvailableChecklist]:
    """The lists in service this user may run in this lab, with the levels for each."""
    return checklists_for_user_and_labs(user, [lab])[lab.id]
