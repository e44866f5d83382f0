"""What an accident's written report says as a document (art. 31, 32): its subject and its rendering
from the frozen AccidentReport row (app.accidents)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask_babel import force_locale

from app.accidents import labels as accident_labels
from app.accidents import services as accidents
from app.accidents.models import ReportKind
from app.auth.services import get_user
from app.language import locale_object
from app.org.services import get_lab

from . import services
from .models import DocumentKind

KIND_OF = {ReportKind.unit: DocumentKind.accident_report, ReportKind.investigation: DocumentKind.accident_inquiry}


def subject(accident, kind: ReportKind) -> services.Subject:
    return services.Subject(KIND_OF[kind], lab_id=accident.lab_id, accident_id=accident.id)


def render_accident_report(accident, kind: ReportKind, config, language: str) -> Callable[[str, datetime], bytes]:
    report = accidents.get_report(accident.id, kind.value)

    def render(number: str, issued_at: datetime) -> bytes:
        with force_locale(locale_object(language)):
            lab = get_lab(accident.lab_id)
            ctx = services._frame(number, issued_at, lab, config, str(services.KIND_TITLES[KIND_OF[kind]]))
            ctx.update(a=accident, report=report, labels=accident_labels, reporter=get_user(accident.reported_by_id),
                       filer=get_user(report.filed_by_id),
                       photos=services._with_photos(accidents.photos_of(accident.id), config))
        return services._pdf("documents/accident_report.html", ctx, language, config)
    return render


def report_kind_of(kind: DocumentKind) -> ReportKind:
    return {v: k for k, v in KIND_OF.items()}[kind]
