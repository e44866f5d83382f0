"""Hazard report pages: the triage list and a report's page (officers, the college, the school; a reporter
their own), and the door's public pages for reports without an account (when the school allows them)."""
from __future__ import annotations

import logging
import math
import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from limits import parse
from marshmallow import ValidationError

from app.errors import DomainError
from app.org.services import get_lab, lab_ref_by_token
from app.policy import Action, authorize, may

from . import labels, services
from .models import ReportState
from .schemas import CloseReportSchema, OpenTicketSchema, ReportQuerySchema
from .serialize import report_detail, reports_list

bp = Blueprint("hazards", __name__)
log = logging.getLogger(__name__)


@bp.app_template_global("hazard_origin")
def hazard_origin(ticket_id: int) -> dict | None:
    """For the ticket's page: the hazard report it was opened from, if the reader may see it."""
    report = services.origin_of_ticket(ticket_id)
    if report is None or not may(current_user, Action.VIEW_HAZARD_REPORT, report):
        return None
    return {"id": report.id, "url": url_for("hazards.report_page", report_id=report.id)}


@bp.get("/hazards")
@login_required
def index():
    try:
        q = ReportQuerySchema().load(request.args)
    except ValidationError:
        q = ReportQuerySchema().load({})
    reports = reports_list(services.list_reports(current_user, **q), current_user)
    return render_template("hazards/list.html", reports=reports, q=q, states=labels.STATE_LABELS,
                           can_triage=may(current_user, Action.TRIAGE_HAZARD_REPORT))


@bp.get("/hazards/<int:report_id>")
@login_required
def report_page(report_id: int):
    report = services.get_report(report_id)
    authorize(current_user, Action.VIEW_HAZARD_REPORT, report)
    return render_template("hazards/report.html", r=report_detail(report, current_user),
                           outcome=labels.outcome(report), event_label=labels.event_label)


def _act(report_id: int, schema, act):
    report = services.get_report(report_id)
    authorize(current_user, Action.VIEW_HAZARD_REPORT, report)
    authorize(current_user, Action.TRIAGE_HAZARD_REPORT, report)
    try:
        act(schema.load({k: v for k, v in request.form.items() if k != "csrf_token"}))
    except ValidationError as err:
        flash(_("Check the form: %(fields)s", fields=", ".join(sorted(err.messages))))
    except DomainError as err:
        flash(err.message)
    return redirect(url_for("hazards.report_page", report_id=report_id))


@bp.post("/hazards/<int:report_id>/open-ticket")
@login_required
def open_ticket(report_id: int):
    def act(data):
        r = services.open_ticket(current_user, report_id, article=data["article"], severity=data["severity"].value,
                                 title=data["title"], config=current_app.config)
        flash(_("Ticket #%(id)s opened; the reporter was told.", id=r.ticket_id))
    return _act(report_id, OpenTicketSchema(), act)


@bp.post("/hazards/<int:report_id>/close")
@login_required
def close(report_id: int):
    def act(data):
        services.close_report(current_user, report_id, reason=data["reason"], config=current_app.config)
        flash(_("Report closed; the reporter was told."))
    return _act(report_id, CloseReportSchema(), act)


# ---- at the door, without an account (HAZARD_ANONYMOUS_REPORTS) ---------------------------------

def _anonymous_allowed_or_login(token: str):
    if current_user.is_authenticated:
        # Signed in: the lab's page in the app, with its own report form (offline too).
        lab = lab_ref_by_token(token)
        return redirect(url_for("pwa.lab_card", lab_id=lab.id) + "#report-hazard")
    if not current_app.config.get("HAZARD_ANONYMOUS_REPORTS"):
        return redirect(url_for("auth.login", next=url_for("org.lab_by_qr", token=token)))
    return None


def _rate_limited() -> int | None:
    """Seconds to wait when this address sent too many reports without an account (the API rate limit's
    counters: memory or Redis, shared by the workers)."""
    counters = current_app.extensions["labsafe_api_rate_limits"]
    item = parse(current_app.config["HAZARD_ANONYMOUS_RATE_LIMIT"])
    key = f"ip:{request.remote_addr}"
    try:
        if counters.hit(item, "labsafe-hazard-anonymous", key):
            return None
        reset = counters.get_window_stats(item, "labsafe-hazard-anonymous", key).reset_time
    except Exception:  # noqa: BLE001  (the storage's own errors: redis down...)
        # As the API limit does (app.security): a brake on abuse, not an access rule; the report is
        # still bounded in size, and a hazard is not left unreported because Redis is down.
        log.exception("hazard report rate limit storage unavailable; report taken without counting")
        return None
    return max(1, math.ceil(reset - time.time()))


@bp.route("/hazards/door/<token>", methods=["GET", "POST"])
def door_report(token: str):
    """A report from someone at the door without an account: the QR token names the lab."""
    try:
        lab = lab_ref_by_token(token)
    except DomainError as err:
        return render_template("org/qr_invalid.html", message=err.message, status=err.status), err.status
    elsewhere = _anonymous_allowed_or_login(token)
    if elsewhere is not None:
        return elsewhere
    lab_name = get_lab(lab.id).name
    form = {"text": "", "client_uuid": services.new_receipt_uuid()}
    if request.method == "GET":
        return render_template("hazards/door.html", lab_name=lab_name, form=form, token=token)
    form = {"text": request.form.get("text", ""), "client_uuid": request.form.get("client_uuid", "")}
    wait = _rate_limited()
    if wait is not None:
        resp = current_app.make_response((render_template(
            "hazards/door.html", lab_name=lab_name, form=form, token=token,
            error=_("Too many reports from this network; please wait a while, or log in to report.")), 429))
        resp.headers["Retry-After"] = str(wait)
        return resp
    cap = current_app.config["HAZARD_ANONYMOUS_PHOTO_BYTES"] + 1  # read no more than is allowed, plus one
    files = [f.stream.read(cap) for f in request.files.getlist("photos") if f and f.filename]
    try:
        _recorded, receipt = services.create_anonymous_report(
            qr_token=token, text=form["text"], photo_files=files, client_uuid=form["client_uuid"],
            config=current_app.config)
    except DomainError as err:
        return render_template("hazards/door.html", lab_name=lab_name, form=form, token=token,
                               error=err.message), err.status
    return redirect(url_for("hazards.receipt", receipt=receipt))


@bp.get("/hazards/receipt/<receipt>")
def receipt(receipt: str):
    """What became of one report made without an account: its state and outcome, nothing else."""
    if len(receipt) > 64:
        abort(404)
    try:
        report = services.report_by_receipt(receipt)
    except DomainError as err:
        return render_template("hazards/receipt.html", error=err.message), err.status
    return render_template("hazards/receipt.html", state=labels.state_label(report.state),
                           outcome=labels.outcome(report), created_at=report.created_at,
                           receipt_url=url_for("hazards.receipt", receipt=receipt, _external=True),
                           done=report.state != ReportState.open)
