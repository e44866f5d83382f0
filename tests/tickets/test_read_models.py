"""Read models stand in for ORM rows: each field must stay a column of its model, of a compatible
type, so renaming or retyping a column breaks here rather than in a notice."""
from __future__ import annotations

import dataclasses
import types
import typing

from sqlalchemy.orm import Mapped

from app.tickets import models
from app.tickets.models import NewTicket, RectificationTicket


def _types(hint) -> set:
    """The types a hint admits: {int, NoneType} for ``int | None``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return set(typing.get_args(hint))
    return {hint}


def test_new_ticket_fields_are_columns_of_rectification_ticket():
    columns = RectificationTicket.__mapper__.columns
    # The model's own annotations only (its base's refer to names of another module).
    mapped = {name: eval(hint, vars(models)) for name, hint in RectificationTicket.__annotations__.items()}
    read = typing.get_type_hints(NewTicket, vars(models))
    for field in dataclasses.fields(NewTicket):
        assert field.name in columns, f"NewTicket.{field.name} is no column of rectification_tickets"
        column_hint = mapped[field.name]
        assert typing.get_origin(column_hint) is Mapped
        column_types = _types(typing.get_args(column_hint)[0])
        assert _types(read[field.name]) <= column_types, (
            f"NewTicket.{field.name}: {read[field.name]} does not fit the column's {column_types}"
        )
