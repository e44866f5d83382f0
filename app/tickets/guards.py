"""Tickets and their history are never deleted (art. 30: no hiding or delaying a hazard report):
ORM guards on every session, and row triggers that refuse DELETE in the database itself
(app.db.kept; migrations 0003 and 0005 install the same triggers). Importing this module registers
them (app.models imports it, so create_all installs the triggers)."""
from __future__ import annotations

from app.db.kept import keep

from .models import RectificationTicket, TicketEvent, TicketEventPhoto, TicketSignature


class TicketDeletionRefused(RuntimeError):
    """Raised when anything tries to delete a ticket or rewrite its history."""


_APPEND_ONLY = (RectificationTicket, TicketEvent, TicketEventPhoto)


keep(_APPEND_ONLY, unchanged=(TicketEvent, TicketEventPhoto), refused=TicketDeletionRefused)
# A signature of the reply slip is frozen: the database refuses UPDATE too (migration 0021).
keep((TicketSignature,), refused=TicketDeletionRefused, frozen=True)
