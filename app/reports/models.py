"""Indexes the monthly summary needs on other domains' tables (read-only use; no tables of its own).

Kept here so the reports domain owns them; app/models.py imports this module so the metadata
(create_all, Alembic autogenerate) sees them.
"""
from __future__ import annotations

from sqlalchemy import Index

from app.inspections.models import Inspection
from app.tickets.models import RectificationTicket, TicketEvent

# Inspections in a month by level, and daily checks per day: a covering range scan (no table reads);
# received_at too, since a final month counts only what arrived within the late-sync bound.
ix_inspections_finished_level_lab_received = Index(
    "ix_inspections_finished_level_lab_received", Inspection.finished_at, Inspection.level, Inspection.lab_id,
    Inspection.received_at,
)
# "Was this lab checked on this day?" for each missed-check flag: one short range per flag.
ix_inspections_lab_level_finished = Index(
    "ix_inspections_lab_level_finished", Inspection.lab_id, Inspection.level, Inspection.finished_at,
    Inspection.received_at,
)
# Tickets created / closed in a month.
ix_tickets_created_at = Index("ix_rectification_tickets_created_at", RectificationTicket.created_at)
ix_tickets_closed_at = Index("ix_rectification_tickets_closed_at", RectificationTicket.closed_at)
# Escalations in a month.
ix_ticket_events_created_at = Index("ix_ticket_events_created_at", TicketEvent.created_at)
