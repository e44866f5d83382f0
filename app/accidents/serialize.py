"""An accident as the API and the pages show it."""
from __future__ import annotations

from app.photos.services import urls_for

from . import services
from .schemas import AccidentDetailSchema, AccidentReportSchema


def accident_detail(a) -> dict:
    body = AccidentDetailSchema().dump(a)
    body["photos"] = [{"uuid": u, **urls_for(u)} for u in services.photos_of(a.id)]
    body["overdue"] = services.is_overdue(a)
    body["next_steps"] = services.next_steps(a)
    body["reports"] = AccidentReportSchema(many=True).dump(list(services.reports_of(a.id).values()))
    return body
