"""In-app inbox and e-mail outbox.

Notifications and their e-mails are written in the same transaction as the change that caused
them; the e-mails are *sent* later by a separate step (``flask send-mail``, and at the end of the
nightly job), never inside the request, so a slow or broken mail server cannot block or break it.
When no SMTP host is configured the mail stays in the outbox and the notice shows in-app.
"""
from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from flask_babel import force_locale, lazy_gettext
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    update,
)
from sqlalchemy.orm import aliased

from app.auth.models import Role, RoleAssignment, User
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.language import N_, default_locale, locale_object, pick, translated, user_locale
from app.org.models import Lab
from app.timeutil import utcnow

from . import channels, mail, messengers
from .models import CollegeRobot, Notification, OutboxEmail, OutboxMessage

log = logging.getLogger(__name__)

# Kinds of notice (stored as data; labelled in the reader's language when shown).
NEW_TICKET = "new_ticket"  # a new ticket in my lab
ESCALATED = "escalated"  # a ticket reached my college / the school
FIX_SUBMITTED = "fix_submitted"  # a fix waits for my verification
FIX_REJECTED = "fix_rejected"  # my fix was rejected
TICKET_CLOSED = "ticket_closed"
OVERDUE = "overdue"  # a ticket in my lab passed its deadline
ROUTED = "routed"  # a ticket for my department's remit (art. 9, 29)
CANNOT_FIX = "cannot_fix"
MISSED_CHECK = "missed_check"  # my lab recorded no daily check (art. 29)
MISSED_STREAK = "missed_streak"  # a lab of my college missed N days in a row
MISSED_STREAK_CORRECTED = "missed_streak_corrected"  # a day counted in that run was checked after all (synced late)
ROUND_DUE = "round_due"  # a lab of my round still to do; the window ends soon (app.rounds.nightly)
ROUND_LATE = "round_late"  # a lab of a round I own was not done in its window
DOCUMENT_ISSUED = "document_issued"  # a rectification notice or written report addressed to me (app.documents)
# Hazard reports from the door QR (app.hazards, issue 24, art. 30); titled by the report's lab and text.
HAZARD_REPORTED = "hazard_reported"  # a hazard was reported in my lab / my college
HAZARD_TICKETED = "hazard_ticketed"  # my report became a rectification ticket
HAZARD_CLOSED = "hazard_closed"  # my report was closed, with the reason
ACCESS_EXPIRING = "access_expiring"  # a person's lab access (准入, art. 13) expires soon (app.roster.nightly)
ACCIDENT_REPORTED = "accident_reported"  # an accident in my lab / college / the school (app.accidents, art. 31)
# The unit's written accident report (art. 31), from the nightly job (app.accidents.nightly).
ACCIDENT_REPORT_DUE = "accident_report_due"  # my college's report is due within two days
ACCIDENT_REPORT_OVERDUE = "accident_report_overdue"  # my college's report is past its deadline

KIND_LABELS = {
    NEW_TICKET: lazy_gettext("New hazard ticket in your lab"),
    ESCALATED: lazy_gettext("Ticket escalated"),
    FIX_SUBMITTED: lazy_gettext("Fix waiting for your verification"),
    FIX_REJECTED: lazy_gettext("Fix rejected"),
    TICKET_CLOSED: lazy_gettext("Ticket verified and closed"),
    OVERDUE: lazy_gettext("Ticket overdue"),
    ROUTED: lazy_gettext("Ticket for your department"),
    CANNOT_FIX: lazy_gettext("Lab cannot fix a hazard for now"),
    MISSED_CHECK: lazy_gettext("Missed daily check"),
    MISSED_STREAK: lazy_gettext("Daily checks missed several days in a row"),
    MISSED_STREAK_CORRECTED: lazy_gettext("Correction: a day counted as missed was checked (synced late)"),
    ROUND_DUE: lazy_gettext("Round: a lab still to inspect, the window ends soon"),
    ROUND_LATE: lazy_gettext("Round: a lab was not inspected in the window"),
    DOCUMENT_ISSUED: lazy_gettext("A document was issued to you"),
    HAZARD_REPORTED: lazy_gettext("Hazard reported"),
    HAZARD_TICKETED: lazy_gettext("Your hazard report became a rectification ticket"),
    HAZARD_CLOSED: lazy_gettext("Your hazard report was closed"),
    ACCESS_EXPIRING: lazy_gettext("Lab access expires soon"),
    ACCIDENT_REPORTED: lazy_gettext("Lab accident reported"),  # msgid in app/accidents/translations
    # msgids in app/accidents/translations
    ACCIDENT_REPORT_DUE: lazy_gettext("Accident: the unit's written report is due soon"),
    ACCIDENT_REPORT_OVERDUE: lazy_gettext("Accident: the unit's written report is overdue"),
}

# The notices about one ticket: their title is the ticket's lab, article and title.
TICKET_KINDS = frozenset({NEW_TICKET, ESCALATED, FIX_SUBMITTED, FIX_REJECTED, TICKET_CLOSED, OVERDUE, ROUTED,
                          CANNOT_FIX})
# Translated when read (app/notifications/translations); params: lab, days, day.
STREAK_TITLE = N_("%(lab)s · %(days)s days in a row without a daily check, up to %(day)s")
# params: lab, day (checked after all), streak_day (the run's last day, as its notice said).
# params: at (when it happened, school-local), grade (the proposed one); msgid in app/accidents/translations.
ACCIDENT_TITLE = N_("%(lab)s · accident at %(at)s, proposed grade %(grade)s")
STREAK_CORRECTED_TITLE = N_("%(lab)s · %(day)s was checked after all (counted in the run up to %(streak_day)s)")

def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind


# ---- who hears of what ---------------------------------------------------------------------
# Each rule is a condition on RoleAssignment given its scope: a plain id (one ticket's notices,
# bound as a parameter) or a column (the nightly job's notices, joined row by row). Both paths
# read the same rule; only active users hear of anything (``notify_selected``, ``recipients_of``).

def lab_officers_of(lab_id):
    return and_(RoleAssignment.role == Role.lab_officer, RoleAssignment.lab_id == lab_id)


def college_leaders_of(college_id):
    return and_(RoleAssignment.role == Role.college_leader, RoleAssignment.college_id == college_id)


def college_oversight_of(college_id):
    """Leaders (art. 10(2)) and heads (art. 10(1)) of a college."""
    return and_(RoleAssignment.role.in_([Role.college_leader, Role.college_head]),
                RoleAssignment.college_id == college_id)


def department_officers_of(department_id):
    return and_(RoleAssignment.role == Role.dept_officer, RoleAssignment.department_id == department_id)


def school_admins_of(_scope=None):
    return RoleAssignment.role == Role.school_admin


class Recipient(Protocol):
    """Whom a notice is for: a ``recipients_of`` row (id, name, email, locale) or a User."""

    id: int
    email: str | None
    locale: str | None


def recipients_of(rule, scope=None) -> list[Recipient]:
    """The active users ``rule`` names in ``scope``, as (id, name, email, locale) rows by id; none
    when a scoped rule has no scope (a ticket routed to no department).

    Rows, not User entities: a notice needs the id, the address and the language only.
    """
    if scope is None and rule is not school_admins_of:
        return []
    return list(db.session.execute(_recipients_stmt(rule), {"scope": scope}))


@functools.cache
def _recipients_stmt(rule):
    # One statement per rule, built once with a bind parameter: every opened ticket asks for its
    # lab's officers, and rebuilding the select cost ~0.5 ms a call.
    return (
        select(User.id, User.name, User.email, User.locale)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(rule(bindparam("scope")), User.active)
        .distinct().order_by(User.id)
    )


def lab_officers(lab_id: int) -> list[Recipient]:
    return recipients_of(lab_officers_of, lab_id)


def college_leaders(college_id: int) -> list[Recipient]:
    return recipients_of(college_leaders_of, college_id)


def college_oversight(college_id: int) -> list[Recipient]:
    """Leaders (art. 10(2)) and heads (art. 10(1)) of a college."""
    return recipients_of(college_oversight_of, college_id)


def department_officers(department_id: int | None) -> list[Recipient]:
    return recipients_of(department_officers_of, department_id or None)


def school_admins() -> list[Recipient]:
    return recipients_of(school_admins_of)


def holders_of(kind: str, dedupe_keys: list[str], among: Iterable[Recipient]) -> dict[str, list[Recipient]]:
    """Which of the users ``among`` hold a notice of ``kind`` under each of ``dedupe_keys``: to send
    them, and only them, a follow-up such as a correction. Keys nobody holds are left out. (Asked
    by user and key, the notices' unique index, rather than by key alone, which has none.)"""
    users = {u.id: u for u in among}
    if not dedupe_keys or not users:
        return {}
    rows = db.session.execute(
        select(Notification.dedupe_key, Notification.user_id)
        .where(Notification.user_id.in_(list(users)), Notification.dedupe_key.in_(dedupe_keys),
               Notification.kind == kind)
        .order_by(Notification.dedupe_key, Notification.user_id)
    )
    out: dict[str, list[Recipient]] = {}
    for key, user_id in rows:
        out.setdefault(key, []).append(users[user_id])
    return out


def _unique(users: Iterable[Recipient]) -> list[Recipient]:
    seen: dict[int, Recipient] = {}
    for u in users:
        seen.setdefault(u.id, u)
    return list(seen.values())


# ---- what a notice says ---------------------------------------------------------------------

@dataclass(frozen=True)
class TitleFacts:
    """What a notice's title is made of: its lab's name and, for a ticket's notice, the ticket's
    article and title in both languages (the checklist item's ``text`` and ``text_en``)."""

    lab: str = ""
    article: str | None = None
    title: str | None = None
    title_en: str | None = None
    lab_en: str | None = None


def notice_title(kind: str, params: dict | None, facts: TitleFacts, stored: str = "",
                 locale: str | None = None) -> str:
    """A notice's title in ``locale`` (default: the reader's). ``params`` None: a notice written before
    titles were rendered per reader, whose ``stored`` title is all there is."""
    if params is None:
        return stored
    if kind == DOCUMENT_ISSUED:  # params: the document's number, its title in Chinese and English
        title = " · ".join(p for p in (pick(facts.lab, facts.lab_en, locale), params.get("number"),
                                        pick(params.get("title") or "", params.get("title_en"), locale)) if p)
    elif kind in TICKET_KINDS and facts.title is not None:
        title = " · ".join(p for p in (pick(facts.lab, facts.lab_en, locale), facts.article,
                                        pick(facts.title, facts.title_en, locale)) if p)
    elif kind == MISSED_STREAK:
        title = translated(STREAK_TITLE, locale, lab=pick(facts.lab, facts.lab_en, locale), days=params.get("days", ""),
                           day=params.get("day", ""))
    elif kind == MISSED_STREAK_CORRECTED:
        title = translated(STREAK_CORRECTED_TITLE, locale, lab=pick(facts.lab, facts.lab_en, locale),
                           day=params.get("day", ""), streak_day=params.get("streak_day", ""))
    elif kind == ACCIDENT_REPORTED:
        title = translated(ACCIDENT_TITLE, locale, lab=pick(facts.lab, facts.lab_en, locale), at=params.get("at", ""),
                           grade=params.get("grade", ""))
    elif kind == MISSED_CHECK:
        title = f"{pick(facts.lab, facts.lab_en, locale)} · {params.get('day', '')}"
    else:
        return stored
    return title[:300]


def _stored_title(kind: str, params: dict, facts: TitleFacts) -> str:
    """The title column of a notice rendered per reader: the school's language's, for the table's readers."""
    return notice_title(kind, params, facts, (facts.title or "")[:300], default_locale())


def email_subject(kind: str, title: str, locale: str) -> str:
    return f"[LabSafe] {_kind_label_in(kind, locale)}: {title}"[:300]


@functools.lru_cache(maxsize=128)
def _kind_label_in(kind: str, locale: str) -> str:
    # Cached per process: force_locale costs ~1 ms and the catalogues never change while the process
    # runs; a few kinds times the configured languages.
    # The Locale object Flask-Babel is handed (language.locale_object): force_locale("zh_CN") would
    # parse it as zh_Hans_CN and find no catalogue, leaving the label in English.
    with force_locale(locale_object(locale)):
        return kind_label(kind)


def render_email(kind: str, params: dict | None, facts: TitleFacts, *, body: str, link: str | None,
                 config: dict, locale: str | None = None, stored_title: str = "") -> tuple[str, str]:
    """(subject, text) of a notice's e-mail in ``locale``: the recipient's language (``user_locale``);
    by default the school's."""
    locale = locale or config.get("BABEL_DEFAULT_LOCALE", "zh_CN")
    title = notice_title(kind, params, facts, stored_title, locale)
    return email_subject(kind, title, locale), _email_body(title, body, link, config)


_NOTICE_COLUMNS = ("user_id", "kind", "title", "params", "body", "link", "dedupe_key", "ticket_id", "lab_id",
                   "created_at")


@functools.cache
def _notice_insert(dedupe: bool, to_lab_officers: bool = False):
    """INSERT INTO notifications (...) SELECT users.id, :kind, ... FROM users WHERE <recipients>
    [AND no notice of theirs has :dedupe_key] RETURNING id, user_id. Built once per shape.

    The recipients are the ids :user_ids, or with ``to_lab_officers`` the active lab officers of
    :officers_of (``lab_officers``, read inside the INSERT; art. 29), and the RETURNING then adds
    each one's e-mail address and language for the outbox."""
    table = Notification.__table__
    if to_lab_officers:
        officers = select(RoleAssignment.user_id).where(lab_officers_of(bindparam("officers_of")))
        who = (User.active, User.id.in_(officers))
    else:
        who = (User.id.in_(bindparam("user_ids", expanding=True)),)
    values = {name: bindparam(name, type_=table.c[name].type) for name in _NOTICE_COLUMNS[1:]}
    recipients = _notices_of(select().select_from(User).where(*who), User.id, values, dedupe=dedupe)
    returning = [table.c.id, table.c.user_id]
    # The inserted row's user_id, named in full: the compilers render RETURNING's own columns bare.
    user_id = literal_column(f"{table.name}.user_id")
    # Each addressee's messenger ids and chosen channels (app.notifications.channels), and with
    # ``to_lab_officers`` their e-mail address and language too: read here, not by a statement of their own.
    columns = (User.wecom_userid, User.dingtalk_userid, User.notify_channels)
    if to_lab_officers:
        columns = (User.email, User.locale, *columns)
        recipients = recipients.order_by(User.id)
    for column in columns:
        addressee = aliased(User)
        returning.append(select(getattr(addressee, column.key)).where(addressee.id == user_id).scalar_subquery())
    return insert(table).from_select(list(_NOTICE_COLUMNS), recipients).returning(*returning)


def _notices_of(rows, user_id, values: dict, *, dedupe: bool):
    """The one shape of written notices, for ``notify`` (bound values) and ``notify_selected`` (columns):
    SELECT ``user_id``, then ``values`` in the table's column order, over ``rows`` (a SELECT without
    columns), skipping a user who already holds the notice's dedupe key when ``dedupe``."""
    sel = rows.add_columns(user_id, *(values[name] for name in _NOTICE_COLUMNS[1:]))
    return sel.where(_not_notified(user_id, values["dedupe_key"])) if dedupe else sel


def notify_lab_officers(lab_id: int, *, kind: str, facts: TitleFacts, config: dict, params: dict | None = None,
                        body: str = "", link: str | None = None, ticket_id: int | None = None,
                        dedupe_key: str | None = None) -> list[int]:
    """``notify(lab_officers(lab_id), lab_id=lab_id, ...)`` in one statement fewer (every opened ticket
    does it): the officers are read inside the notices' INSERT, which also returns their addresses.
    The same notices, e-mails and return value. Does not commit."""
    now = utcnow()
    params = params or {}
    rows = db.session.execute(
        _notice_insert(bool(dedupe_key), to_lab_officers=True),
        {"officers_of": lab_id, "kind": kind, "title": _stored_title(kind, params, facts),
         "params": params, "body": body, "link": link, "dedupe_key": dedupe_key, "ticket_id": ticket_id,
         "lab_id": lab_id, "created_at": now},
    ).all()
    rows.sort(key=lambda row: row[1])  # by user id, as lab_officers lists them (RETURNING has no order)
    _queue_emails([Addressee(nid, email, locale, *messengers) for nid, _user_id, email, locale, *messengers in rows],
                  kind=kind, params=params, facts=facts, body=body, link=link, config=config, now=now, lab_id=lab_id)
    return [row[0] for row in rows]


class Addressee(NamedTuple):
    """A written notice's addressee as the outbox needs them (channels.py)."""

    notification_id: int
    email: str | None
    locale: str | None
    wecom_userid: str | None = None
    dingtalk_userid: str | None = None
    notify_channels: str | None = None


def _queue_emails(addressees: list[Addressee], *, kind: str, params: dict, facts: TitleFacts,
                  body: str, link: str | None, config: dict, now, attachment_document_id: int | None = None,
                  lab_id: int | None = None) -> None:
    """The outbox of one event's notices: an e-mail per addressee with an address who takes e-mail, an app
    message per WeCom / DingTalk id where chosen and configured (each in the recipient's language), and the
    group robots' messages (the school's language). One multi-row INSERT per table, none when empty."""
    if not addressees:
        return
    rendered: dict[str, tuple[str, str]] = {}

    def render(locale: str) -> tuple[str, str]:
        if locale not in rendered:
            rendered[locale] = render_email(kind, params, facts, body=body, link=link, config=config, locale=locale)
        return rendered[locale]

    mails, messages = [], []
    for a in addressees:
        subject, text = render(user_locale(a.locale, config))
        if a.email and channels.wants_email(a.notify_channels, config):
            mails.append({"notification_id": a.notification_id, "to_address": a.email, "subject": subject,
                          "body": text, "created_at": now, "attempts": 0,
                          "attachment_document_id": attachment_document_id})
        messages += channels.messenger_rows(a.notification_id, wecom_userid=a.wecom_userid,
                                            dingtalk_userid=a.dingtalk_userid, stored_choice=a.notify_channels,
                                            text=channels.message_text(subject, text), config=config, now=now)
    robots = channels.college_robots_of_lab(lab_id, config)
    messages += channels.robot_rows(addressees[0].notification_id, robots,
                                    channels.message_text(*render(default_locale())), config, now)
    if mails:
        db.session.execute(insert(OutboxEmail.__table__), mails)
    channels.insert_messages(messages)


def notify(
    users: Iterable[Recipient],
    *,
    kind: str,
    facts: TitleFacts,
    config: dict,
    params: dict | None = None,
    body: str = "",
    link: str | None = None,
    ticket_id: int | None = None,
    lab_id: int | None = None,
    dedupe_key: str | None = None,
    exclude_user_id: int | None = None,
    attachment_document_id: int | None = None,
) -> list[int]:
    """One notice per user (and an outbox e-mail, in the user's language, when the user has an address).
    Does not commit. The title is rendered for each reader from ``facts`` and ``params``.

    With a ``dedupe_key`` a user who already has that notice gets no second one. Returns the ids
    of the notices written.
    """
    users = [u for u in _unique(users) if u.id != exclude_user_id]
    if not users:
        return []
    now = utcnow()
    params = params or {}
    # Set-based, two statements whatever the number of users: one INSERT ... SELECT ... RETURNING
    # writes the notices (the dedupe check inside it), one multi-row INSERT queues their e-mails.
    rows = db.session.execute(
        _notice_insert(bool(dedupe_key)),
        {"user_ids": [u.id for u in users], "kind": kind,
         "title": _stored_title(kind, params, facts), "params": params, "body": body,
         "link": link, "dedupe_key": dedupe_key, "ticket_id": ticket_id, "lab_id": lab_id, "created_at": now},
    )
    written = {user_id: (notification_id, *messengers) for notification_id, user_id, *messengers in rows}
    _queue_emails([Addressee(written[u.id][0], u.email, getattr(u, "locale", None), *written[u.id][1:])
                   for u in users if u.id in written],
                  kind=kind, params=params, facts=facts, body=body, link=link, config=config, now=now,
                  attachment_document_id=attachment_document_id, lab_id=lab_id)
    return [written[u.id][0] for u in users if u.id in written]


def text_of(*parts):
    """Parts joined into a dedupe key or a link: a str when every part is a plain value (one ticket's
    notice), else the same text as SQL (a column per row: the nightly job's notices). One spelling
    for both paths."""
    if all(isinstance(p, (str, int)) for p in parts):
        return "".join(str(p) for p in parts)
    expr = None
    for p in parts:
        p = literal(str(p)) if isinstance(p, (str, int)) else cast(p, String)
        expr = p if expr is None else expr + p
    return expr


def _not_notified(user_id, dedupe_key):
    """The dedupe rule: a user holds at most one notice per key (the table's unique index)."""
    return ~exists().where(Notification.user_id == user_id, Notification.dedupe_key == dedupe_key)


def _active(user_id):
    # A correlated primary-key probe rather than a join: a join on users.active lets SQLite's
    # planner scan every user per ticket (measured: 2 s at 5,000 labs), this stays one lookup per row.
    return exists().where(User.id == user_id, User.active.is_(True))


_MARKS = {"lab": "\x01", "article": "\x02", "title": "\x03"}


def _stored_title_sql(kind: str, params: dict, lab_name, article=None, title=None):
    """``_stored_title`` as SQL over the rows' facts: the title is rendered once with a mark for each
    fact, and each mark replaced by its column, so both paths store the same text."""
    marks = TitleFacts(lab=_MARKS["lab"], article=_MARKS["article"] if article is not None else None,
                       title=_MARKS["title"] if title is not None else None)
    columns = {_MARKS["lab"]: lab_name, _MARKS["article"]: article, _MARKS["title"]: title}
    expr = literal("")
    for piece in re.split("([\x01-\x03])", _stored_title(kind, params, marks)):
        if piece:
            expr = expr + (columns[piece] if piece in columns else literal(piece))
    return func.substr(expr, 1, 300)


def notify_selected(kind: str, rows, to, *, dedupe_key, link, lab_id, lab_name, now: datetime,
                    params: dict | None = None, ticket_id=None, article=None, title=None, body: str = "") -> int:
    """``notify`` for many notices in one INSERT ... SELECT: for each row of ``rows`` (a SELECT without
    columns: its FROM, joins and WHERE), one notice to each active user of ``to`` = (a recipients rule
    such as ``lab_officers_of``, its scope column; or None and a users.id column of ``rows``),
    unless the user already holds ``dedupe_key``. The
    other arguments are columns of ``rows`` or plain values; the title is stored from ``lab_name``
    (and a ticket's ``article`` and ``title``) as ``notify`` stores it. Their e-mails:
    ``queue_emails_written_at(now)``. Returns how many notices were written."""
    rule, scope = to
    if rule is None:  # the rows name the user themselves (``scope``: a users.id column of ``rows``)
        user_id = scope
    else:
        user_id = RoleAssignment.user_id
        rows = rows.join(RoleAssignment, rule(scope))
    table = Notification.__table__
    params = params or {}
    values = {
        "kind": literal(kind), "title": _stored_title_sql(kind, params, lab_name, article, title),
        "params": literal(params, type_=table.c.params.type), "body": literal(body), "link": link,
        "dedupe_key": dedupe_key,
        "ticket_id": ticket_id if ticket_id is not None else literal(None, type_=table.c.ticket_id.type),
        "lab_id": lab_id, "created_at": literal(now, type_=table.c.created_at.type),
    }
    sel = _notices_of(rows, user_id, values, dedupe=True).where(_active(user_id)).distinct()
    stmt = insert(table).from_select(list(_NOTICE_COLUMNS), sel)
    return db.session.execute(stmt.execution_options(preserve_rowcount=True)).rowcount or 0


def _email_body(title: str, body: str, link: str | None, config: dict) -> str:
    parts = [title]
    if body:
        parts.append(body)
    if link:
        base = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
        parts.append(f"{base}{link}")
    return "\n\n".join(parts)


# ---- the facts a notice's title is read with --------------------------------------------
# The lab's name is org's (below this domain); a ticket's article and titles are the tickets
# domain's, above it: tickets hands its columns over at start-up (``read_ticket_facts_from``, in
# create_app), so the inbox stays one query without this domain importing tickets.

@dataclass(frozen=True)
class TicketFactColumns:
    """The columns of a ticket's notice title: its id (what ``Notification.ticket_id`` names), article,
    title and English title."""

    id: ColumnElement
    article: ColumnElement
    title: ColumnElement
    title_en: ColumnElement


_ticket_facts: TicketFactColumns | None = None


def read_ticket_facts_from(columns: TicketFactColumns) -> None:
    global _ticket_facts
    _ticket_facts = columns


def _with_facts(*columns):
    """SELECT ``columns``, lab name, article, title, title_en, lab English name FROM notifications with
    the notice's lab and ticket (outer joins: most notices have neither)."""
    return _with_facts_of(_ticket_facts, columns)


@functools.lru_cache(maxsize=8)
def _with_facts_of(t: TicketFactColumns | None, columns: tuple):
    # Built once per shape (the inbox asks on every page), as the module-level select it replaces was.
    ticket = (t.article, t.title, t.title_en) if t is not None else (null(), null(), null())
    stmt = select(*columns, Lab.name, *ticket, Lab.name_en).select_from(Notification.__table__)
    stmt = stmt.outerjoin(Lab, Lab.id == Notification.lab_id)
    if t is not None:
        stmt = stmt.outerjoin(t.id.table, t.id == Notification.ticket_id)
    return stmt


def _facts(lab_name, article, title, title_en, lab_name_en=None) -> TitleFacts:
    return TitleFacts(lab=lab_name or "", article=article, title=title, title_en=title_en, lab_en=lab_name_en)


def queue_emails_written_at(now: datetime, config: dict) -> int:
    """The outbox of the notices written at ``now`` without one yet (the nightly job's notices, written
    set-based): an e-mail for each addressee with an address who takes e-mail, their WeCom / DingTalk app
    messages (``channels``), each in its recipient's language, and one group-robot message per event (kind,
    lab, ticket, facts). At most three statements whatever the number: one SELECT of the notices with their
    facts, one multi-row INSERT per outbox table. Returns the e-mails queued."""
    robots = channels.college_robot_columns(config)
    stmt = (
        _with_facts(Notification.id, Notification.kind, Notification.params, Notification.title, Notification.body,
                    Notification.link, Notification.lab_id, Notification.ticket_id, User.email, User.locale,
                    User.wecom_userid, User.dingtalk_userid, User.notify_channels,
                    *(robots or ()))
        .join(User, User.id == Notification.user_id)
        .where(Notification.created_at == now,
               ~exists().where(OutboxEmail.notification_id == Notification.id),
               ~exists().where(OutboxMessage.notification_id == Notification.id))
        .order_by(Notification.id)
    )
    if robots is not None:
        stmt = stmt.outerjoin(CollegeRobot, CollegeRobot.college_id == Lab.college_id)
    rows = db.session.execute(stmt).all()
    mails, messages, events = [], [], set()
    default = default_locale()
    for row in rows:
        (nid, kind, params, stored, body, link, lab_id, ticket_id, email, chosen, wecom, dingtalk, choice) = row[:13]
        robot = tuple(row[13:16]) if robots is not None else None
        lab_name, article, title, title_en, lab_en = row[-5:]
        facts = _facts(lab_name, article, title, title_en, lab_en)

        def render(locale, kind=kind, params=params, facts=facts, body=body, link=link, stored=stored):
            return render_email(kind, params, facts, body=body or "", link=link, config=config, locale=locale,
                                stored_title=stored)

        subject, text = render(user_locale(chosen, config))
        if email and channels.wants_email(choice, config):
            mails.append({"notification_id": nid, "to_address": email, "subject": subject, "body": text,
                          "created_at": now, "attempts": 0})
        messages += channels.messenger_rows(nid, wecom_userid=wecom, dingtalk_userid=dingtalk, stored_choice=choice,
                                            text=channels.message_text(subject, text), config=config, now=now)
        event = (kind, lab_id, ticket_id, repr(sorted((params or {}).items())))
        if event not in events:  # one robot message per event, however many heard of it
            events.add(event)
            messages += channels.robot_rows(nid, robot if robot and robot[0] is not None else None,
                                            channels.message_text(*render(default)), config, now)
    if mails:
        db.session.execute(insert(OutboxEmail.__table__), mails)
    channels.insert_messages(messages)
    return len(mails)


# ---- reading the inbox ---------------------------------------------------------------------

@dataclass(frozen=True)
class InboxEntry:
    """A notice as its reader reads it: the stored row's fields, the title in the reader's language."""

    id: int
    kind: str
    title: str
    body: str
    link: str | None
    ticket_id: int | None
    lab_id: int | None
    created_at: datetime
    read_at: datetime | None


def _entry(n: Notification, lab_name, article, title, title_en, lab_name_en, locale: str | None) -> InboxEntry:
    return InboxEntry(
        id=n.id, kind=n.kind,
        title=notice_title(n.kind, n.params, _facts(lab_name, article, title, title_en, lab_name_en), n.title, locale),
        body=n.body or "", link=n.link, ticket_id=n.ticket_id, lab_id=n.lab_id, created_at=n.created_at,
        read_at=n.read_at,
    )


def inbox(user: User, *, unread_only: bool = False, limit: int = 100, locale: str | None = None) -> list[InboxEntry]:
    """The user's notices, newest first, titled in ``locale`` (default: the reader's); one query."""
    stmt = _with_facts(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows = db.session.execute(stmt.order_by(Notification.id.desc()).limit(limit)).all()
    return [_entry(*row, locale) for row in rows]


def inbox_entry(notification_id: int, locale: str | None = None) -> InboxEntry:
    """One notice as ``inbox`` shows it (the caller has checked it is the reader's)."""
    row = db.session.execute(_with_facts(Notification).where(Notification.id == notification_id)).one()
    return _entry(*row, locale)


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    ) or 0


def mark_read(user: User, notification_id: int) -> Notification:
    """Only the addressee may mark a notice read; someone else's id is refused."""
    n = db.session.get(Notification, notification_id) if 0 < notification_id <= 2**31 - 1 else None
    if n is None:
        raise NotFound("No such notification.")
    if n.user_id != user.id:
        raise Forbidden("This notification belongs to someone else.")
    if n.read_at is None:
        n.read_at = utcnow()
        db.session.commit()
    return n


def outbox_state(user: User) -> dict[int, OutboxEmail]:
    """The outbox e-mail of each of this user's notices (sent or waiting), for the inbox page."""
    rows = db.session.execute(
        select(OutboxEmail).join(Notification, OutboxEmail.notification_id == Notification.id)
        .where(Notification.user_id == user.id)
    ).scalars()
    return {o.notification_id: o for o in rows}


# ---- sending the outbox (a separate step) --------------------------------------------------

def _no_attachments(document_id: int):
    return None


# (file name, media type, bytes) of an issued document, or None: create_app registers the documents
# domain's reader (it sits above this one).
_read_attachment: Callable[[int], tuple[str, str, bytes] | None] = _no_attachments


def read_attachments_with(reader: Callable[[int], tuple[str, str, bytes] | None]) -> None:
    global _read_attachment
    _read_attachment = reader


def send_outbox(config: dict, *, limit: int = 500) -> dict:
    """Send what waits in the outbox: the e-mails through SMTP (``mail.send``: without SMTP_HOST they stay
    and show in-app), then the WeCom and DingTalk messages (``messengers.send``), under "messengers"."""
    result = mail.send(config, lambda document_id: _read_attachment(document_id), limit=limit)
    result["messengers"] = messengers.send(config, limit=limit)
    return result


def pending_outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.sent_at.is_(None))) or 0


def mark_all_read(user: User) -> int:
    res = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return res.rowcount or 0
