"""The reply slip's signatures (整改回执, art. 28): the lab's safety officer signs when submitting the fix,
the reviewer when verifying it; a drawn PNG or a refusal with its reason, as the inspection's own
signatures (the PNG check: app/photos/signatures.py). Optional, as on paper; stored with the event
they sign, in its transaction, and never changed or deleted (art. 30; guards.py, migration 0021)."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import undefer

from app.errors import InvalidInput
from app.extensions import db
from app.photos.signatures import signature_png
from app.timeutil import to_utc_naive

from .labels import _
from .models import SIGNING_ACTIONS, TicketEvent, TicketSignature


def signature_values(action: str, signature: dict | None) -> dict | None:
    """The row to store for ``signature`` (SignatureSchema-loaded) sent with ``action``, without its
    event and ticket; None when nothing was signed. InvalidInput, before anything is written, when the
    action is not one that signs or the image is not a signature's PNG."""
    if not signature:
        return None
    role = SIGNING_ACTIONS.get(action)
    if role is None:
        raise InvalidInput(_("Only submitting a fix and verifying it are signed."),
                           {"fields": {"signature": ["not_signed_here"]}})
    png = None
    if not signature.get("refused"):
        try:
            png = signature_png(signature["image"])
        except ValueError as error:
            raise InvalidInput(str(error), {"fields": {"signature": {"image": [str(error)]}}}) from None
    return {
        "role": role, "name": (signature.get("name") or "").strip(), "png": png,
        "signed_at": to_utc_naive(signature["signed_at"]) if signature.get("signed_at") else None,
        "refused": bool(signature.get("refused")),
        "reason": (signature.get("reason") or "").strip() if signature.get("refused") else "",
    }


def add_signature(event: TicketEvent, values: dict | None) -> None:
    """Store the signature with the event it signs (same flush, same transaction). Does not commit."""
    if values:
        db.session.add(TicketSignature(event=event, ticket_id=event.ticket.id, **values))


def signatures_by_ticket(ticket_ids: Iterable[int]) -> dict[int, list[TicketSignature]]:
    """The reply slips' signatures (with their PNGs) of these tickets, in one query: per ticket, in the
    order given (the fixer's before the verifier's; a fix rejected and submitted again signs again)."""
    ids = {i for i in ticket_ids if i}
    if not ids:
        return {}
    out: dict[int, list[TicketSignature]] = {}
    for s in db.session.scalars(select(TicketSignature).where(TicketSignature.ticket_id.in_(ids))
                                .options(undefer(TicketSignature.png)).order_by(TicketSignature.event_id)):
        out.setdefault(s.ticket_id, []).append(s)
    return out


def signed_events(ticket_id: int) -> dict[int, dict]:
    """What the ticket's history shows of each signed event (no image): by event id."""
    rows = db.session.execute(
        select(TicketSignature.event_id, TicketSignature.role, TicketSignature.name, TicketSignature.signed_at,
               TicketSignature.refused, TicketSignature.reason).where(TicketSignature.ticket_id == ticket_id))
    return {r.event_id: {"role": r.role.value, "name": r.name, "signed_at": r.signed_at, "refused": r.refused,
                         "reason": r.reason} for r in rows}


def latest_by_role(signatures: list[TicketSignature]) -> dict[str, TicketSignature]:
    """The signature in force per role: the last one given (a rejected fix, submitted again, signs again)."""
    return {s.role.value: s for s in signatures}
