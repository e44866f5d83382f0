"""Holding a read model to its ORM model: every field a read model declares is a column of the ORM
model by the same name, with the same Python type as the column's ``Mapped[...]`` annotation; None
allowed on one side only where the other allows it too. A renamed or retyped column fails here
instead of surfacing as a wrong value on a hot path."""
from __future__ import annotations

import sys
import types
import typing

from sqlalchemy import inspect
from sqlalchemy.orm import Mapped


def _orm_annotation(model, name: str):
    for cls in model.__mro__:
        annotation = cls.__dict__.get("__annotations__", {}).get(name)
        if annotation is not None:
            namespace = {**vars(sys.modules[cls.__module__]), "Mapped": Mapped}
            hint = eval(annotation, namespace) if isinstance(annotation, str) else annotation  # noqa: S307
            assert typing.get_origin(hint) is Mapped, f"{model.__name__}.{name} is not Mapped[...]"
            return typing.get_args(hint)[0]
    raise AssertionError(f"{model.__name__}.{name} has no annotation")


def _split(hint) -> tuple[object, bool]:
    """(the type without None, whether None is allowed)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        assert len(args) == 1, f"{hint}: one type or None"
        return args[0], len(args) < len(typing.get_args(hint))
    return hint, False


def read_model_fields(read_model) -> dict[str, object]:
    """The public fields a read model declares, with their types."""
    return {name: hint for name, hint in typing.get_type_hints(read_model).items()
            if not name.startswith("_") and typing.get_origin(hint) is not typing.ClassVar}


def assert_reads_like(read_model, orm_model, *, except_fields: tuple[str, ...] = ()) -> list[str]:
    """Assert every field of ``read_model`` (but ``except_fields``) is a column of ``orm_model`` with
    a compatible type; answers the fields checked."""
    columns = inspect(orm_model).columns
    checked = []
    for name, hint in read_model_fields(read_model).items():
        if name in except_fields:
            continue
        assert name in columns, f"{read_model.__name__}.{name}: {orm_model.__name__} has no such column"
        ours, ours_nullable = _split(hint)
        theirs, theirs_nullable = _split(_orm_annotation(orm_model, name))
        assert ours == theirs, f"{read_model.__name__}.{name} is {ours}, {orm_model.__name__}.{name} is {theirs}"
        assert ours_nullable == theirs_nullable, (
            f"{read_model.__name__}.{name}: None allowed {ours_nullable}, in {orm_model.__name__} {theirs_nullable}")
        checked.append(name)
    return checked
