"""Hazard reports (issue 24), through the domain's own service."""
from __future__ import annotations

import uuid

from flask import current_app

from app.hazards import services


def make_report(lab, reporter, text: str = "走廊里的灭火器过期了", photos=(), client_uuid: str | None = None):
    return services.create_report(reporter, lab_id=lab.id, text=text, photos=list(photos),
                                  client_uuid=client_uuid or str(uuid.uuid4()), config=current_app.config).report
