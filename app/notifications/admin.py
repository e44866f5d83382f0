"""The school admin's page of the notice channels (issue 25): each channel's configuration state (the
settings it misses), its queue, last success and last error; a test message through each; the outbox's
waiting and failed rows with their reasons, sent again on request; the colleges' group robots."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.errors import DomainError
from app.extensions import db
from app.language import reader_locale
from app.policy import Action, authorize
from app.validation_messages import localize

from . import channel_admin, mail, status
from .labels import CHANNEL_LABELS, refusal_text
from .schemas import CollegeRobotForm, RetryForm, TestMessageForm

bp = Blueprint("notifications_admin", __name__, url_prefix="/admin/messengers")


def _admin():
    authorize(current_user, Action.MANAGE_MESSENGERS)


def _errors(err: ValidationError) -> str:
    return refusal_text(localize(err.messages))


@bp.get("")
@login_required
def index():
    _admin()
    return _page()


@bp.post("/test")
@login_required
def test():
    _admin()
    try:
        form = TestMessageForm().load(request.form)
        where = channel_admin.send_test(form["channel"], current_user.id, current_app.config,
                                        college_id=form["college_id"], locale=reader_locale())
    except ValidationError as err:
        return _page_error(_errors(err), 400)
    except DomainError as err:
        db.session.rollback()
        flash(_("The test message was not sent: %(error)s", error=err.message))
    else:
        flash(_("Test message sent (%(where)s).", where=where))
    return redirect(url_for(".index"), 303)


@bp.post("/retry")
@login_required
def retry():
    """Send again at the next run: the failed rows, or the one row the admin chose."""
    _admin()
    try:
        form = RetryForm().load(request.form)
    except ValidationError as err:
        return _page_error(_errors(err), 400)
    if (form["kind"] is None) != (form["id"] is None):
        return _page_error(_("Choose a message to send again, or send every failed one."), 400)
    n = status.retry_failed(int(current_app.config.get("OUTBOX_MAX_ATTEMPTS", 8)), kind=form["kind"],
                            row_id=form["id"])
    db.session.commit()
    if form["id"] is not None:
        if not n:
            return _page_error(_("That message is no longer in the outbox (it was sent meanwhile)."), 404)
        flash(_("The message will be sent again at the next run."))
    else:
        flash(_("%(n)s failed messages will be sent again at the next run.", n=n))
    return redirect(url_for(".index"), 303)


@bp.post("/colleges/<int:college_id>")
@login_required
def college_robot(college_id: int):
    _admin()
    try:
        form = CollegeRobotForm().load(request.form)
        college = channel_admin.save_college_robot(college_id, **form)
    except ValidationError as err:
        return _page_error(_errors(err), 400)
    except DomainError as err:
        db.session.rollback()
        return _page_error(err.message, err.status)
    flash(_("Saved %(name)s.", name=college.name))
    return redirect(url_for(".index"), 303)


def _page(error: str | None = None, code: int = 200):
    config = current_app.config
    return render_template(
        "notifications/admin.html", states=status.channel_states(config), pending=status.pending(),
        robots=channel_admin.college_robots(), labels=CHANNEL_LABELS, college_robots_on=config.get("COLLEGE_ROBOTS"),
        smtp_security=mail.security(config), max_attempts=int(config.get("OUTBOX_MAX_ATTEMPTS", 8)),
        error=error), code


def _page_error(message: str, code: int):
    return _page(message, code)
