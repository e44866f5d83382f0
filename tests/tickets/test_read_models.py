"""tickets' read model (NewTicket) reads like RectificationTicket: each field a column, same type."""
from __future__ import annotations

import dataclasses

from app.tickets.models import NewTicket, RectificationTicket
from tests.read_models import assert_reads_like


def test_new_ticket_fields_are_columns_of_rectification_ticket():
    assert assert_reads_like(NewTicket, RectificationTicket) == [f.name for f in dataclasses.fields(NewTicket)]
