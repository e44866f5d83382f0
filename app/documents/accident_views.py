"""Accident reports as issued documents (art. 31, 32): the unit's written report and the investigation
team's, filed by app.accidents as frozen rows, are issued as PDFs at their first download and served as
stored afterwards, like the official record's. Here because documents sits above accidents."""
from __future__ import annotations

from flask import Blueprint, current_app
from flask_login import current_user, login_required

from app.accidents import services as accidents
from app.accidents.models import ReportKind
from app.errors import NotFound
from app.language import reader_locale
from app.policy import Action, authorize

from . import services
from .accident_reports import render_accident_report, subject
from .views import _issue

bp = Blueprint("accident_documents", __name__)


def report_kind(kind: str) -> ReportKind:
    try:
        return ReportKind(kind)
    except ValueError:
        raise NotFound("unit or investigation") from None


@bp.get("/accidents/<int:accident_id>/reports/<kind>.pdf")
@login_required
def accident_report_pdf(accident_id: int, kind: str):
    report = report_kind(kind)
    a = accidents.get_accident(accident_id)
    authorize(current_user, Action.VIEW_ACCIDENT, a)
    accidents.get_report(a.id, report.value)  # 404 before it is filed
    language = services.language_of(reader_locale())
    return _issue(subject(a, report), render_accident_report(a, report, current_app.config, language))
