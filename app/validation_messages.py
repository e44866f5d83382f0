"""marshmallow's own messages (a required field, not a valid integer, a length, one of...) in the
request's language.

marshmallow writes its messages in English from class attributes: each field's
``default_error_messages`` and each validator's ``message_*`` / ``default_message``. ``install`` makes
each of them a ``Translatable``: still a ``str`` (marshmallow formats it with ``.format``), but one
whose ``.format`` looks the English message up in the catalogues (app/translations) first, in the
request's language. Fields copy their messages when they are built, so ``install`` runs before any
schema is defined (app/__init__.py). The few messages marshmallow stores without formatting them
(a schema's "Unknown field.") are translated by ``localize`` where errors are rendered.
"""
from __future__ import annotations

import inspect
from typing import Any

from flask import has_request_context
from flask_babel import gettext
from marshmallow import Schema, fields, validate

from app.language import N_


class Translatable(str):
    """An English marshmallow message that formats in the request's language (as itself outside a request:
    the CLI's checklist loader keeps its English)."""

    __slots__ = ()

    # Immutable like str: schemas deep-copy their fields (and so these messages) on every Schema(),
    # which for a str subclass would otherwise rebuild each one.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def format(self, *args, **kwargs) -> str:
        if "{{" in self:
            # A template formatted in two steps (validate.Range puts its "greater than" words in first,
            # when built): the first step's English result is the message to translate.
            return Translatable(str.format(self, *args, **kwargs))
        template = gettext(str(self)) if has_request_context() else str(self)
        return template.format(*args, **kwargs)

    def translated(self) -> str:
        return self.format() if "{" not in self else str(self)


def _wrap(messages: dict) -> dict:
    return {k: Translatable(v) if isinstance(v, str) and not isinstance(v, Translatable) else v
            for k, v in messages.items()}


def install() -> None:
    """Make marshmallow's built-in messages Translatable (idempotent)."""
    for _name, cls in inspect.getmembers(fields, inspect.isclass):
        if issubclass(cls, fields.Field) and "default_error_messages" in cls.__dict__:
            cls.default_error_messages = _wrap(cls.__dict__["default_error_messages"])
    for _name, cls in inspect.getmembers(validate, inspect.isclass):
        if not issubclass(cls, validate.Validator):
            continue
        for attr, value in list(cls.__dict__.items()):
            if (attr.startswith("message") or attr == "default_message") and isinstance(value, str) \
                    and not isinstance(value, Translatable):
                setattr(cls, attr, Translatable(value))
    Schema._default_error_messages = _wrap(Schema._default_error_messages)


def localize(messages: Any) -> Any:
    """A ValidationError's messages with the ones marshmallow stored unformatted translated too."""
    if isinstance(messages, dict):
        return {k: localize(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [localize(v) for v in messages]
    if isinstance(messages, Translatable):
        return messages.translated()
    return messages


def _catalogue_entries():  # pragma: no cover - never called: the messages, for pybabel extract

    return [
        N_("Missing data for required field."), N_("Field may not be null."), N_("Invalid value."),
        N_("Not a valid boolean."), N_("Not a valid date."), N_('"{input}" cannot be formatted as a date.'),
        N_("Special numeric values (nan or infinity) are not permitted."), N_("Not a valid email address."),
        N_("Must be one of: {choices}."), N_("Not a valid integer."), N_("Not a valid list."),
        N_("Not a valid mapping type."), N_("Invalid type."), N_("Not a valid number."), N_("Number too large."),
        N_("Not a valid string."), N_("Not a valid utf-8 string."), N_("Not a valid period of time."),
        N_("{input!r} cannot be formatted as a timedelta."), N_("Not a valid tuple."), N_("Not a valid URL."),
        N_("Not a valid UUID."), N_("Not a valid {obj_type}."), N_("Not a valid {awareness} {obj_type}."),
        N_('"{input}" cannot be formatted as a {obj_type}.'), N_("Not a valid IP address."),
        N_("Not a valid IPv4 address."), N_("Not a valid IPv6 address."), N_("Not a valid IP interface."),
        N_("Not a valid IPv4 interface."), N_("Not a valid IPv6 interface."),
        N_("Shorter than minimum length {min}."), N_("Longer than maximum length {max}."),
        N_("Length must be between {min} and {max}."), N_("Length must be {equal}."),
        N_("Must be equal to {other}."), N_("String does not match expected pattern."), N_("Invalid input."),
        N_("One or more of the choices you made was not in: {choices}."),
        N_("One or more of the choices you made was in: {values}."),
        N_("Must be greater than or equal to {min}."), N_("Must be greater than {min}."),
        N_("Must be less than or equal to {max}."), N_("Must be less than {max}."),
        N_("Must be greater than or equal to {min} and less than or equal to {max}."),
        N_("Must be greater than {min} and less than or equal to {max}."),
        N_("Must be greater than or equal to {min} and less than {max}."),
        N_("Must be greater than {min} and less than {max}."),
        N_("Unknown field."), N_("Invalid input type."),
    ]
