"""The one place access is decided: may(user, action, obj) -> bool.

Every view asks this module, by role and scope (lab, college, department, school).
Rules cite the article that gives the role its powers.

Adding an action: add it to ``Action``, give it a rule in ``_RULES``, and add the
route to the access matrix (tests/access/). An action without a rule is refused.

The policy sits below every domain (every domain's views ask it), so it imports none of them: roles
are its own vocabulary (``Role``, stored on auth's RoleAssignment), an object is placed in a lab and
a college by the locator org registers at start-up (``locate_with``), and listings get their WHERE
clauses by handing over the columns that hold the lab, college and department (``lab_clause``,
``ticket_clause``): the rule stays here, written once.
"""
from __future__ import annotations

import enum
import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort
from sqlalchemy import false, or_, true


class Role(str, enum.Enum):
    """Who may do what, with the scope a RoleAssignment gives (art. 9, 10)."""

    inspector = "inspector"  # college_id set: that college; college_id null: school-wide
    lab_officer = "lab_officer"  # lab_id set (art. 10(3))
    college_leader = "college_leader"  # college_id set (art. 10(2))
    college_head = "college_head"  # college_id set, read-only (art. 10(1))
    dept_officer = "dept_officer"  # department_id set (art. 9)
    school_admin = "school_admin"  # everything (art. 9(1))


# A user as the policy reads it: ``is_authenticated``, ``id`` and ``roles`` (each with ``role``,
# ``college_id``, ``lab_id``, ``department_id``): auth's User and Principal both are one.
User = Any


class Action(str, enum.Enum):
    # Organisation administration (art. 9(1): the lab management office runs it).
    ADMIN_ORG = "admin.org"  # colleges, departments, labs, users, CSV import, QR re-issue
    MANAGE_CHECKLISTS = "checklists.manage"
    VIEW_CHECKLISTS = "checklists.view"  # the lists quote the regulation: any signed-in user
    # Labs.
    VIEW_LAB = "lab.view"
    INSPECT_LAB = "lab.inspect"  # college monthly (art. 28) / school semester & special (art. 27)
    DAILY_CHECK = "lab.daily_check"  # art. 29: the lab's officer or someone they designate
    DESIGNATE_DAILY_CHECK = "lab.designate_daily_check"  # art. 29: the officer names a designee
    CLOSE_LABS = "lab.close"  # holiday closures: the school office any lab, a college leader the college's
    COLLEGE_INSPECT = "lab.college_inspect"  # the college's own monthly check, art. 28
    SCHOOL_INSPECT = "lab.school_inspect"  # school semester and special checks, art. 27
    ASSESS_LAB_RISK = "lab.assess_risk"  # risk grade I-IV (MOE 2024 measures); its readers: VIEW_LAB
    VIEW_INSPECTION = "inspection.view"
    VIEW_PHOTO = "photo.view"  # display size and thumbnail
    VIEW_ORIGINAL_PHOTO = "photo.view_original"  # evidence originals
    UPLOAD_PHOTO = "photo.upload"
    # Tickets (art. 29, 30).
    VIEW_TICKET = "ticket.view"
    FIX_TICKET = "ticket.fix"  # start fixing, submit a fix, declare cannot-fix
    REVIEW_TICKET = "ticket.review"  # verify or reject a submitted fix
    ESCALATE_TICKET = "ticket.escalate"
    # Reports (art. 27, 28) and nameplates (art. 24(1)).
    VIEW_SCHOOL_REPORT = "report.school"
    VIEW_COLLEGE_REPORT = "report.college"
    PRINT_NAMEPLATES = "nameplate.print"
    # Inspection rounds (art. 26-28): planning them, reading them, one's own work list.
    PLAN_ROUND = "round.plan"  # create a round, change its assignments
    VIEW_ROUND = "round.view"  # a round and its labs' state
    VIEW_WORK_LIST = "round.work_list"  # my rounds and my labs still to do
    # Issued documents (app/documents; art. 28-30): whoever reads what a document records may
    # download it, and the first download issues and files it.
    DOWNLOAD_INSPECTION_DOCUMENT = "document.inspection"  # 检查记录, 整改通知书: readers of the lab
    DOWNLOAD_TICKET_DOCUMENT = "document.ticket"  # 书面报告 (art. 29): readers of the ticket
    DOWNLOAD_SCHOOL_SUMMARY = "document.school_summary"  # the school's monthly summary as PDF
    DOWNLOAD_COLLEGE_SUMMARY = "document.college_summary"  # one college's
    LIST_LAB_DOCUMENTS = "document.lab_list"  # a lab's documents (written reports: only those one may read)
    # Every document of a month or a round as one ZIP (object: a college, or a round's facts): the school
    # office all, a college leader their college's labs' (art. 10(2)), from school rounds too.
    DOWNLOAD_DOCUMENTS_BULK = "document.bulk"
    REISSUE_DOCUMENT = "document.reissue"  # a new document naming the one it replaces (art. 30)
    # Lab access roster (app/roster; 准入, art. 12-13): a lab's readers read its roster; its officers keep
    # it (art. 10(3), 12: the officer trains and admits); inspectors record a person without valid access.
    VIEW_ROSTER = "roster.view"
    MANAGE_ROSTER = "roster.manage"  # add, change, revoke, import, the lab's training requirement
    RECORD_ACCESS_FINDING = "roster.finding"  # art. 13(3): a rectification ticket from the spot
    # One's own account.
    CHANGE_PASSWORD = "account.password"  # one's own only: nobody changes another's (an admin resets it)
    # ---- notifications: mail and messengers (issue 25) ----
    CHOOSE_CHANNELS = "account.channels"  # one's own notice channels and WeCom / DingTalk ids only
    MANAGE_MESSENGERS = "admin.messengers"  # the channels' state, test messages, the outbox, college robots
    # hazard reports (issue 24, art. 30): anyone signed in reports; the lab's officers and the college triage
    REPORT_HAZARD = "hazard.report"
    VIEW_HAZARD_REPORT = "hazard.view"  # its reporter, the lab's officers, the college's oversight, the school
    TRIAGE_HAZARD_REPORT = "hazard.triage"  # open a ticket from it or close it with a reason
    # Monitoring (issue 26, app/monitoring): asked of a probe, not a user (may_probe below).
    PROBE_HEALTH = "ops.health"  # /healthz: the process answers; anyone (a load balancer)
    PROBE_READINESS = "ops.readiness"  # /readyz: database, migrations, photo store; anyone
    SCRAPE_METRICS = "ops.metrics"  # /metrics: the monitoring networks, or the scrape token
    # -- accidents (app/accidents; art. 5, 31-34) --
    REPORT_ACCIDENT = "accident.report"  # object: the lab (None: may this user report some accident)
    VIEW_ACCIDENT = "accident.view"  # an accident, its events, its reports (None: the list, scoped)
    CONFIRM_ACCIDENT_GRADE = "accident.grade"  # art. 33: the school confirms or changes the grade
    FILE_ACCIDENT_UNIT_REPORT = "accident.unit_report"  # art. 31: the unit's written report
    INVESTIGATE_ACCIDENT = "accident.investigate"  # art. 32: the school team's report
    CLOSE_ACCIDENT = "accident.close"


class Scope:
    """What a user's roles reach, computed once per user object."""

    def __init__(self, user: User):
        self.user = user
        roles = list(user.roles) if user is not None else []
        self.admin = any(r.role == Role.school_admin for r in roles)
        self.school_inspector = any(r.role == Role.inspector and r.college_id is None for r in roles)
        self.inspector_colleges = {r.college_id for r in roles if r.role == Role.inspector and r.college_id}
        self.leader_colleges = {r.college_id for r in roles if r.role == Role.college_leader}
        self.head_colleges = {r.college_id for r in roles if r.role == Role.college_head}
        self.officer_labs = {r.lab_id for r in roles if r.role == Role.lab_officer}
        self.departments = {r.department_id for r in roles if r.role == Role.dept_officer}
        self._designated: set[int] | None = None

    @property
    def designated_labs(self) -> set[int]:
        """Labs whose daily check this user was designated to do today (art. 29), read once per user
        object, and only when asked (a lab's own officer never needs it)."""
        if self._designated is None:
            self._designated = set(_designated_labs(self.user.id)) if self.user is not None else set()
        return self._designated

    @property
    def oversight_colleges(self) -> set[int]:
        """Colleges whose every lab this user may see."""
        return self.inspector_colleges | self.leader_colleges | self.head_colleges

    @property
    def school_wide_reader(self) -> bool:
        # Department officers follow their remit school-wide (art. 9).
        return self.admin or self.school_inspector or bool(self.departments)


def scope_of(user: User | None) -> Scope:
    # Views pass Flask-Login's current_user, a proxy: every attribute read through it costs a
    # context lookup, so take the user object behind it once.
    user = user._get_current_object() if hasattr(user, "_get_current_object") else user
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope(None)  # type: ignore[arg-type]
    cached = getattr(user, "_labsafe_scope", None)
    if cached is None:
        cached = Scope(user)
        try:
            user._labsafe_scope = cached  # per-object cache; a fresh load recomputes
        except AttributeError:  # pragma: no cover
            pass
    return cached


def own_report_college_id(user: User | None) -> int | None:
    """The college whose reports a college leader or head reads as "the" report (art. 10(1), (2)):
    their own; None for anyone else (the school's readers read the school's)."""
    s = scope_of(user)
    mine = sorted(s.leader_colleges | s.head_colleges)
    return mine[0] if mine else None


# ---- resolving an object to the lab / college it belongs to -------------------------------

def _no_locator(obj: Any) -> tuple[int | None, int | None]:
    raise RuntimeError("policy.locate_with was not called (create_app registers org's locator)")


_locate: Callable[[Any], tuple[int | None, int | None]] = _no_locator


def locate_with(locator: Callable[[Any], tuple[int | None, int | None]]) -> None:
    """Register what tells (lab_id, college_id) for a lab, a college or anything carrying a lab
    (org owns labs and colleges; create_app registers ``org.services.lab_and_college``)."""
    global _locate
    _locate = locator


def _lab_and_college(obj: Any) -> tuple[int | None, int | None]:
    return _locate(obj)


def _no_designees(user_id: int, on_day: date | None = None) -> set[int]:
    return set()


_designated_labs: Callable[..., set[int]] = _no_designees


def designees_with(designated_labs: Callable[..., set[int]]) -> None:
    """Register what tells the labs a user is designated to daily-check on a school day, today when
    none is given (art. 29; org keeps the designations: create_app registers a function over
    ``org.designees.designated_lab_ids``)."""
    global _designated_labs
    _designated_labs = designated_labs


@dataclass(frozen=True)
class CheckedOn:
    """A lab's daily check as done on a school day (the phone's finishing day): a check done offline
    by a designee counts if the designation stood that day, whenever it syncs (art. 29)."""

    lab: Any
    day: date


def _can_view_lab(s: Scope, obj: Any) -> bool:
    lab_id, college_id = _lab_and_college(obj)
    if s.school_wide_reader:
        return True
    if college_id is not None and college_id in s.oversight_colleges:
        return True
    return lab_id is not None and lab_id in s.officer_labs


def _can_inspect(s: Scope, obj: Any) -> bool:
    _, college_id = _lab_and_college(obj)
    if s.admin or s.school_inspector:
        return True
    return college_id is not None and college_id in (s.inspector_colleges | s.leader_colleges)


def _can_daily_check(s: Scope, obj: Any) -> bool:
    # Art. 29: the lab's officer, or someone the officer designated (for today, or for the day the
    # check was done: CheckedOn).
    if isinstance(obj, CheckedOn):
        lab_id, _ = _lab_and_college(obj.lab)
        if lab_id is None or lab_id in s.officer_labs:
            return lab_id is not None
        return s.user is not None and lab_id in _designated_labs(s.user.id, obj.day)
    lab_id, _ = _lab_and_college(obj)
    return lab_id is not None and (lab_id in s.officer_labs or lab_id in s.designated_labs)


def _can_designate(s: Scope, obj: Any) -> bool:
    lab_id, _ = _lab_and_college(obj)
    return s.admin or (lab_id is not None and lab_id in s.officer_labs)


def _can_close_labs(s: Scope, obj: Any) -> bool:
    # The school office closes any lab; a college leader (art. 10(2)) the college's. With no object:
    # may this user close some labs at all (the closures page and list).
    if s.admin:
        return True
    if obj is None:
        return bool(s.leader_colleges)
    _, college_id = _lab_and_college(obj)
    return college_id is not None and college_id in s.leader_colleges


def _can_college_inspect(s: Scope, obj: Any) -> bool:
    # Art. 28: each college checks its own labs monthly (its inspectors and leaders);
    # the school administration may run any level.
    _, college_id = _lab_and_college(obj)
    if s.admin:
        return True
    return college_id is not None and college_id in (s.inspector_colleges | s.leader_colleges)


def _can_view_original(s: Scope, obj: Any) -> bool:
    # Evidence originals (with their metadata) go to those who judge evidence, not to every reader.
    _, college_id = _lab_and_college(obj)
    if s.admin or s.school_inspector or s.departments:
        return True
    return college_id is not None and college_id in s.oversight_colleges


def _can_view_ticket(s: Scope, ticket: Any) -> bool:
    if s.admin or s.school_inspector:
        return True
    if getattr(ticket, "department_id", None) in s.departments:
        return True
    _, college_id = _lab_and_college(ticket)
    if college_id is not None and college_id in s.oversight_colleges:
        return True
    return getattr(ticket, "lab_id", None) in s.officer_labs


def _can_fix_ticket(s: Scope, ticket: Any) -> bool:
    # The lab's safety officer rectifies (art. 10(3), 29).
    return getattr(ticket, "lab_id", None) in s.officer_labs


def _can_review_ticket(s: Scope, ticket: Any) -> bool:
    # College leaders verify (art. 10(2), 28); the school and the routed department follow up (art. 9).
    if s.admin:
        return True
    if getattr(ticket, "department_id", None) in s.departments:
        return True
    _, college_id = _lab_and_college(ticket)
    return college_id is not None and college_id in s.leader_colleges


def _can_view_school_report(s: Scope, obj: Any) -> bool:
    return s.admin or bool(s.departments)


def _can_view_college_report(s: Scope, obj: Any) -> bool:
    if s.admin or s.departments or s.school_inspector:
        return True
    _, college_id = _lab_and_college(obj)
    return college_id is not None and college_id in (s.leader_colleges | s.head_colleges)


def _can_print_nameplates(s: Scope, obj: Any) -> bool:
    if s.admin:
        return True
    _, college_id = _lab_and_college(obj)
    return college_id is not None and college_id in s.leader_colleges


# A round as the policy reads it (app.rounds hands over its RoundFacts): ``kind`` ("school_wide",
# "college_monthly", "special"), ``owner_college_id`` (None: the school's), ``department_id`` (the
# department running a special round), ``inspector_ids`` and ``lab_ids`` (sets), ``unannounced`` and
# ``started`` (its window has begun).

def _can_plan_round(s: Scope, r: Any) -> bool:
    # Art. 9(1), 27: the school office plans the school's rounds; art. 9(2): a department the
    # committee tasks runs the special checks of its remit; art. 28: a college plans its own.
    if s.admin:
        return True
    if r is None:  # may this user plan some round at all (the rounds page's button, the planning form)
        return bool(s.leader_colleges or s.departments)
    kind = getattr(r, "kind", None)
    owner = getattr(r, "owner_college_id", None)
    if owner is None:
        return kind == "special" and getattr(r, "department_id", None) in s.departments
    return kind != "school_wide" and owner in s.leader_colleges


def _can_view_round(s: Scope, r: Any) -> bool:
    if r is None:  # the rounds list: open to every signed-in user, its rows are round_clause's
        return s.user is not None
    if _can_plan_round(s, r):
        return True
    owner = getattr(r, "owner_college_id", None)
    if owner is not None and owner in s.head_colleges:
        return True
    if s.user is not None and s.user.id in (getattr(r, "inspector_ids", None) or ()):
        return True
    # A lab's officer sees a round of their lab once it is announced; an unannounced round (抽查,
    # art. 28) only once it has started.
    if s.officer_labs & set(getattr(r, "lab_ids", None) or ()):
        return not getattr(r, "unannounced", False) or bool(getattr(r, "started", False))
    return False

def _can_assess_risk(s: Scope, obj: Any) -> bool:
    # The MOE 2024 measures grade each lab I-IV: the school office (art. 9(1)) or the college's leader,
    # the lab's direct management (art. 10(2)). Everyone who sees the lab reads its grade (VIEW_LAB).
    _, college_id = _lab_and_college(obj)
    if s.admin:
        return True
    return college_id is not None and college_id in s.leader_colleges


def _can_download_bulk(s: Scope, obj: Any) -> bool:
    # A college's month: the school office, the college's leader (art. 9(1), 10(2)). A round: its owner
    # college's leader, or any college leader for a school round (they get their own labs' part:
    # lab_clause below); another college's round is refused.
    if s.admin:
        return True
    if hasattr(obj, "owner_college_id") and hasattr(obj, "kind"):
        owner = obj.owner_college_id
        return owner in s.leader_colleges if owner is not None else bool(s.leader_colleges)
    _, college_id = _lab_and_college(obj)
    return college_id is not None and college_id in s.leader_colleges


def _can_reissue(s: Scope, doc: Any) -> bool:
    # The school office any document; a college leader (art. 10(2)) their college's: its labs' records
    # and its own monthly summary. The school's summary is the office's.
    if s.admin:
        return True
    _, college_id = _lab_and_college(doc)
    return college_id is not None and college_id in s.leader_colleges


# ---- hazard reports (issue 24, art. 30) ----
# A report as the policy reads it: ``lab_id`` and ``reporter_id`` (None: reported without an account).
# Nobody hides a hazard: any signed-in user reports one, from any lab's door. Its reporter follows their
# own report; the lab's officers and the college (its leaders triage, its head and inspectors read) and
# the school (the office triages, its inspectors read) see it; another college's people never do.

def _can_view_hazard_report(s: Scope, report: Any) -> bool:
    if s.user is not None and getattr(report, "reporter_id", None) == s.user.id:
        return True
    if s.admin or s.school_inspector:
        return True
    lab_id, college_id = _lab_and_college(report)
    return lab_id in s.officer_labs or (college_id is not None and college_id in s.oversight_colleges)


def _can_triage_hazard_report(s: Scope, report: Any) -> bool:
    # With no report: may this user triage some reports at all (the menu, the page's filters).
    if s.admin:
        return True
    if report is None:
        return bool(s.officer_labs or s.leader_colleges)
    lab_id, college_id = _lab_and_college(report)
    return lab_id in s.officer_labs or (college_id is not None and college_id in s.leader_colleges)
# ---- lab access roster (app/roster; art. 12-13) ----

def _can_manage_roster(s: Scope, obj: Any) -> bool:
    # The lab's safety officer keeps the list (art. 10(3), 12, 13(2)); the school office may correct it (art. 9(1)).
    lab_id, _ = _lab_and_college(obj)
    return s.admin or (lab_id is not None and lab_id in s.officer_labs)


# ---- end of lab access roster ----
# -- accidents (app/accidents; art. 5, 31-34) --
# An accident as the policy reads it: ``lab_id``, ``college_id`` (the unit it happened in) and
# ``reported_by_id``. Its people never see another college's accidents.

def _officer_colleges(s: Scope) -> set[int]:
    """The colleges of the labs this user is an officer of (their role places them in that college)."""
    return {c for c in (_lab_and_college(_LabOnly(lab_id))[1] for lab_id in s.officer_labs) if c is not None}


@dataclass(frozen=True)
class _LabOnly:
    lab_id: int


def _can_report_accident(s: Scope, lab: Any) -> bool:
    # Art. 31: whoever is there reports at once: anyone with a role in the lab's college, or a school role.
    if s.school_wide_reader:
        return True
    if lab is None:
        return bool(s.oversight_colleges or s.officer_labs)
    lab_id, college_id = _lab_and_college(lab)
    return college_id is not None and (college_id in s.oversight_colleges or lab_id in s.officer_labs
                                       or college_id in _officer_colleges(s))


def _can_view_accident(s: Scope, a: Any) -> bool:
    if a is None:  # the list: open to every signed-in user, its rows are accident_clause's
        return s.user is not None
    # Whoever reads the lab reads its accidents (art. 9, 10); the reporter follows their own (art. 31).
    return _can_view_lab(s, a) or (s.user is not None and getattr(a, "reported_by_id", None) == s.user.id)


def _can_file_unit_report(s: Scope, a: Any) -> bool:
    # Art. 31: the unit where it happened reports in writing: its leader or head (art. 10), or the office.
    return s.admin or getattr(a, "college_id", None) in (s.leader_colleges | s.head_colleges)


_RULES: dict[Action, Callable[[Scope, Any], bool]] = {
    Action.ADMIN_ORG: lambda s, o: s.admin,
    Action.MANAGE_CHECKLISTS: lambda s, o: s.admin,
    Action.VIEW_CHECKLISTS: lambda s, o: s.user is not None,
    Action.VIEW_LAB: _can_view_lab,
    Action.INSPECT_LAB: _can_inspect,
    Action.DAILY_CHECK: _can_daily_check,
    Action.DESIGNATE_DAILY_CHECK: _can_designate,
    Action.CLOSE_LABS: _can_close_labs,
    Action.COLLEGE_INSPECT: _can_college_inspect,
    # Art. 27: semester and special checks are the school's (its inspectors, the admin office).
    Action.SCHOOL_INSPECT: lambda s, o: s.admin or s.school_inspector,
    Action.ASSESS_LAB_RISK: _can_assess_risk,
    Action.VIEW_INSPECTION: _can_view_lab,
    Action.VIEW_PHOTO: _can_view_lab,
    Action.VIEW_ORIGINAL_PHOTO: _can_view_original,
    # Anyone who records evidence uploads photos; what they are attached to is checked there. Anyone
    # signed in may report a hazard with photos (art. 30, issue 24); a photo attached to nothing is
    # seen by its uploader alone and pruned (photos.services.prune_orphans).
    Action.UPLOAD_PHOTO: lambda s, o: s.user is not None,
    Action.VIEW_TICKET: _can_view_ticket,
    Action.FIX_TICKET: _can_fix_ticket,
    Action.REVIEW_TICKET: _can_review_ticket,
    Action.ESCALATE_TICKET: _can_review_ticket,
    Action.VIEW_SCHOOL_REPORT: _can_view_school_report,
    Action.VIEW_COLLEGE_REPORT: _can_view_college_report,
    Action.PRINT_NAMEPLATES: _can_print_nameplates,
    Action.PLAN_ROUND: _can_plan_round,
    Action.VIEW_ROUND: _can_view_round,
    Action.VIEW_WORK_LIST: lambda s, o: s.user is not None,  # one's own list; empty for most
    Action.DOWNLOAD_INSPECTION_DOCUMENT: _can_view_lab,
    Action.DOWNLOAD_TICKET_DOCUMENT: _can_view_ticket,
    Action.DOWNLOAD_SCHOOL_SUMMARY: _can_view_school_report,
    Action.DOWNLOAD_COLLEGE_SUMMARY: _can_view_college_report,
    Action.LIST_LAB_DOCUMENTS: _can_view_lab,
    Action.DOWNLOAD_DOCUMENTS_BULK: _can_download_bulk,
    Action.REISSUE_DOCUMENT: _can_reissue,
    # Lab access roster (app/roster): a college's people never read another college's (VIEW_LAB's scope).
    Action.VIEW_ROSTER: _can_view_lab,
    Action.MANAGE_ROSTER: _can_manage_roster,
    Action.RECORD_ACCESS_FINDING: _can_inspect,  # inspectors of the lab (art. 27, 28) check access on the spot
    Action.CHANGE_PASSWORD: lambda s, o: s.user is not None and getattr(o, "id", None) == s.user.id,
    # ---- notifications: mail and messengers (issue 25) ----
    Action.CHOOSE_CHANNELS: lambda s, o: s.user is not None and getattr(o, "id", None) == s.user.id,
    Action.MANAGE_MESSENGERS: lambda s, o: s.admin,  # the lab management office runs the system (art. 9(1))
    # hazard reports (issue 24, art. 30)
    Action.REPORT_HAZARD: lambda s, o: s.user is not None,
    Action.VIEW_HAZARD_REPORT: _can_view_hazard_report,
    Action.TRIAGE_HAZARD_REPORT: _can_triage_hazard_report,
    # -- accidents (app/accidents; art. 5, 31-34) --
    Action.REPORT_ACCIDENT: _can_report_accident,
    Action.VIEW_ACCIDENT: _can_view_accident,
    Action.CONFIRM_ACCIDENT_GRADE: lambda s, o: s.admin,  # art. 7(3), 9(1): the school decides
    Action.FILE_ACCIDENT_UNIT_REPORT: _can_file_unit_report,
    Action.INVESTIGATE_ACCIDENT: lambda s, o: s.admin,  # art. 32: the school's investigation team
    Action.CLOSE_ACCIDENT: lambda s, o: s.admin,
}


def may(user: User | None, action: Action, obj: Any = None) -> bool:
    """May this user do this action to this object? Unknown actions are refused."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    rule = _RULES.get(Action(action))
    if rule is None:
        return False
    return bool(rule(scope_of(user), obj))


def authorize(user: User | None, action: Action, obj: Any = None) -> None:
    """For views: abort with 403 and a readable message when ``may`` says no."""
    if not may(user, action, obj):
        abort(403)


# ---- monitoring (issue 26): probes and scrapes, decided by where they come from, not by a user ----

# A probe as the policy reads it (app.monitoring builds it): ``address`` (the client's, after the
# trusted proxies), ``networks`` (ip_network objects: METRICS_NETWORKS), ``token`` (the bearer token
# presented, or None) and ``expected_token`` (METRICS_TOKEN, or None: no token works).
def _can_scrape(probe: Any) -> bool:
    try:
        address = ipaddress.ip_address(probe.address or "")
    except ValueError:
        address = None
    if address is not None and any(address in net for net in probe.networks):
        return True
    expected, token = probe.expected_token, probe.token
    return bool(expected and token and hmac.compare_digest(token.encode(), expected.encode()))


_PROBE_RULES: dict[Action, Callable[[Any], bool]] = {
    Action.PROBE_HEALTH: lambda p: True,  # says only "this process answers"
    Action.PROBE_READINESS: lambda p: True,  # a load balancer asks it; the answer names no data
    Action.SCRAPE_METRICS: _can_scrape,  # counts of the school's tickets and photos: not for the world
}


def may_probe(action: Action, probe: Any = None) -> bool:
    """May this probe (no user: a load balancer, Prometheus) be answered? Unknown actions are refused."""
    rule = _PROBE_RULES.get(Action(action))
    return bool(rule and rule(probe))


# ---- set-based scope for listings -----------------------------------------------------------

def lab_clause(user: User | None, action: Action, *, lab_id, college_id):
    """A WHERE clause selecting the labs this user may see (or inspect, or daily-check), over the
    columns given (a lab's id and its college's id): the rules above, in SQL, for listings whose one
    query returns exactly the in-scope rows whatever the number of labs."""
    s = scope_of(user)
    if user is None:
        return false()
    if action == Action.INSPECT_LAB:  # _can_inspect: the school everywhere (art. 27), a college its own (art. 28)
        if s.admin or s.school_inspector:
            return true()
        colleges = s.inspector_colleges | s.leader_colleges
        return college_id.in_(colleges) if colleges else false()
    if action == Action.DAILY_CHECK:  # _can_daily_check: the lab's own officers and designees (art. 10(3), 29)
        labs = s.officer_labs | s.designated_labs
        return lab_id.in_(labs) if labs else false()
    if action in (Action.CLOSE_LABS, Action.DOWNLOAD_DOCUMENTS_BULK):
        # _can_close_labs, _can_download_bulk: the school office any lab, a college leader the college's
        if s.admin:
            return true()
        return college_id.in_(s.leader_colleges) if s.leader_colleges else false()
    # _can_view_lab: school-wide readers (art. 9), a college's oversight, a lab's officers (art. 10)
    if s.school_wide_reader:
        return true()
    clauses = []
    if s.oversight_colleges:
        clauses.append(college_id.in_(s.oversight_colleges))
    if s.officer_labs:
        clauses.append(lab_id.in_(s.officer_labs))
    # Accidents (issue 24): _can_report_accident also lets a lab's officer report in the lab's college.
    if action == Action.REPORT_ACCIDENT and s.officer_labs:
        clauses.append(college_id.in_(_officer_colleges(s)))
    return or_(*clauses) if clauses else false()


def ticket_clause(user: User | None, *, lab_id, college_id, department_id):
    """A WHERE clause selecting the tickets a user may see (``_can_view_ticket`` in SQL), over the
    columns holding a ticket's lab, its lab's college and its routed department."""
    s = scope_of(user)
    if user is None:
        return false()
    if s.admin or s.school_inspector:
        return true()
    clauses = []
    if s.departments:
        clauses.append(department_id.in_(s.departments))
    if s.oversight_colleges:
        clauses.append(college_id.in_(s.oversight_colleges))
    if s.officer_labs:
        clauses.append(lab_id.in_(s.officer_labs))
    return or_(*clauses) if clauses else false()


def round_clause(user: User | None, *, owner_college_id, department_id, is_school_wide, is_special, started,
                 unannounced, assigned_to: Callable[[int], Any], has_lab_in: Callable[[set], Any]):
    """A WHERE clause selecting the rounds a user may see (``_can_view_round`` in SQL), over a round's
    columns (owner college, department, kind tests, started and unannounced as conditions) and two
    builders: ``assigned_to(user_id)`` (the user is assigned a lab of the round) and ``has_lab_in(ids)``
    (the round includes one of these labs)."""
    s = scope_of(user)
    if user is None or s.user is None:
        return false()
    if s.admin:
        return true()
    clauses = [assigned_to(s.user.id)]
    if s.departments:
        clauses.append(owner_college_id.is_(None) & is_special & department_id.in_(s.departments))
    if s.leader_colleges:
        clauses.append(owner_college_id.in_(s.leader_colleges) & ~is_school_wide)
    if s.head_colleges:
        clauses.append(owner_college_id.in_(s.head_colleges))
    if s.officer_labs:
        clauses.append(has_lab_in(s.officer_labs) & (~unannounced | started))
    return or_(*clauses)


# ---- hazard reports (issue 24, art. 30) ----

def hazard_report_clause(user: User | None, *, reporter_id, lab_id, college_id):
    """A WHERE clause selecting the hazard reports a user may see (``_can_view_hazard_report`` in SQL),
    over the columns holding a report's reporter, its lab and its lab's college."""
    s = scope_of(user)
    if user is None or s.user is None:
        return false()
    if s.admin or s.school_inspector:
        return true()
    clauses = [reporter_id == s.user.id]
    if s.oversight_colleges:
        clauses.append(college_id.in_(s.oversight_colleges))
    if s.officer_labs:
        clauses.append(lab_id.in_(s.officer_labs))
    return or_(*clauses)


# -- accidents (app/accidents; art. 5, 31-34) --
def accident_clause(user: User | None, *, lab_id, college_id, reported_by_id):
    """A WHERE clause selecting the accidents a user may see (``_can_view_accident`` in SQL): the lab's
    readers (lab_clause's VIEW_LAB) and the reporter."""
    s = scope_of(user)
    if user is None or s.user is None:
        return false()
    return or_(reported_by_id == s.user.id, lab_clause(user, Action.VIEW_LAB, lab_id=lab_id, college_id=college_id))
