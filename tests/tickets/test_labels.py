"""Labels sit below the lifecycle, so the kinds of history entry are spelled out there: held together here."""
from app.tickets.labels import EVENT_KINDS
from app.tickets.lifecycle import ACTIONS


def test_event_kinds_are_created_and_every_action():
    assert EVENT_KINDS == ("created", *ACTIONS)
