"""Accidents (app/accidents): a report body and an accident reported through the service."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app

from app.accidents import services
from app.accidents.schemas import AccidentInSchema


def accident_body(lab, **kw) -> dict:
    """A report as the phone sends it (JSON), an hour ago, one light injury by default."""
    body = {
        "client_uuid": str(uuid.uuid4()), "lab_id": lab.id,
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "place": "通风橱旁", "description": "试剂瓶破裂，一名学生手部轻度灼伤", "deaths": 0, "serious_injuries": 0,
        "light_injuries": 1, "property_loss_yuan": 2000, "environment": "none", "stability": "none",
        "first_measures": "冲洗伤处，送校医院", "photos": [],
    }
    body.update(kw)
    return body


def make_accident(user, lab, **kw):
    """An accident reported by ``user`` through the service (the policy not asked)."""
    data = AccidentInSchema().load(accident_body(lab, **kw))
    accident, _created = services.report_accident(user, lab, data, current_app.config)
    return accident
