"""JSON in and out of the app through orjson, with Flask's output kept (faster under load).

Flask's provider runs the standard library's pure-Python encoder with sort_keys; a checklist of 59
items or a page of 50 tickets spent ~0.15 ms there, orjson ~0.02 ms. What a client sees stays the
same: keys sorted, compact separators, the trailing newline, Flask's conversions for the types JSON
lacks (dates as HTTP dates, Decimal, UUID, dataclasses, ``__html__``). The difference is that text
goes out as UTF-8 instead of ``\\uXXXX`` escapes: the same JSON, smaller for Chinese.

Anything orjson refuses (an integer beyond 64 bits, NaN in a request body) goes through the standard
library as before, so no input that used to be accepted is now refused and error messages keep
their wording.

Bodies coming in are bounded before the work is done (``JsonLimit``): a view declares what its
body may cost on ``@doc(json_limit=...)``, others get ``DEFAULT_JSON_LIMIT``. The size is refused
before a byte is read (Content-Length; a chunked body stops at the limit), the number of values
and keys after parsing and before any schema sees them; anything the server cannot or will not
parse is a 400 that says so.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import orjson
from flask import Flask, Request, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from marshmallow import fields
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import InvalidInput, TooLarge

_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_NON_STR_KEYS
    # Flask's conversions, not orjson's ISO format: the API's dates stay as they were.
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


class OrjsonProvider(DefaultJSONProvider):
    def _fast(self, obj: Any) -> bytes | None:
        try:
            # self.default: Flask's public hook for the types JSON lacks (the same function its own
            # dumps calls), so a subclass or an app that sets it is honoured here too.
            return orjson.dumps(obj, default=self.default, option=_OPTIONS)
        except TypeError:  # e.g. an int beyond 64 bits: the standard library handles it
            return None

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if not kwargs:
            out = self._fast(obj)
            if out is not None:
                return out.decode()
        return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if not kwargs:
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError as exc:
                if "surrogate" in str(exc) or "depth limit" in str(exc):
                    # An unpaired UTF-16 surrogate escape ("\ud800") is no text: the standard library
                    # lets it in, and storing it failed later with a 500 (UTF-8 cannot encode it).
                    # Nesting deeper than orjson's 1024 levels would only send the standard
                    # library's recursive parser into a RecursionError.
                    raise
                # Anything else: the standard library decides, and words the error as before.
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None

    def response(self, *args: Any, **kwargs: Any):
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)  # indented for people reading in debug mode
        out = self._fast(self._prepare_response_obj(args, kwargs))
        if out is None:
            return super().response(*args, **kwargs)
        return self._app.response_class(out + b"\n", mimetype=self.mimetype)


# ---- request bodies ---------------------------------------------------------------------------

@dataclass(frozen=True)
class JsonLimit:
    """What one JSON request body may cost: its bytes, and its values and keys counted together
    (``{"a": [1, 2]}`` is 5: the object, the key, the list and its two numbers)."""

    max_bytes: int
    max_items: int


# For API views that declare nothing: far above any small body the API takes, far below the
# upload limit (MAX_CONTENT_LENGTH), which is for photos and CSV files.
DEFAULT_JSON_LIMIT = JsonLimit(max_bytes=64 * 1024, max_items=2_000)
# A form without files (url-encoded) is parsed whole and in memory, by anyone (the CSRF check reads
# it first): the largest a page sends is a ticket action, two 5,000-character notes, ~90 kB encoded.
FORM_MAX_BYTES = 256 * 1024


def _size(n: int) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{max(1, n // 1024)} KB"


def _too_large(max_bytes: int):

    return TooLarge(_("The request is too large: at most %(size)s may be sent here.", size=_size(max_bytes)),
                    {"max_bytes": max_bytes})


def declared_limit() -> JsonLimit | None:
    """The JSON limit the matched view declares (``@doc(json_limit=...)``), if any."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    meta = getattr(view, "_openapi", None)
    return meta.get("json_limit") if meta else None


def request_limit() -> JsonLimit:
    return declared_limit() or DEFAULT_JSON_LIMIT


def _refuse_oversized_body():
    """Before anything reads the body (the CSRF check reads forms): a view that declares a JSON
    limit reads at most that many bytes whatever the body's type, a JSON body elsewhere at most the
    default, a url-encoded form FORM_MAX_BYTES. Multipart bodies (photos, CSV files) keep
    MAX_CONTENT_LENGTH; werkzeug bounds their fields (MAX_FORM_PARTS, MAX_FORM_MEMORY_SIZE)."""
    if request.routing_exception is not None:
        return None  # 404/405: nobody reads the body
    limit = declared_limit()
    if limit is not None or request.is_json:
        max_bytes = (limit or DEFAULT_JSON_LIMIT).max_bytes
    elif request.mimetype == "application/x-www-form-urlencoded":
        max_bytes = FORM_MAX_BYTES
    else:
        return None
    if request.content_length is not None and request.content_length > max_bytes:
        raise _too_large(max_bytes)
    # A body without Content-Length (chunked) is read up to one byte past the limit, which
    # JsonRequest.get_json then refuses (werkzeug's stream stops there without a word; a form
    # parser raises 413 on reading past the limit).
    request.max_content_length = max_bytes + 1
    return None


def _items_at_most(raw: bytes) -> int:
    """An upper bound of a JSON text's values and keys from its bytes alone: every value but the
    outermost is the first in its container or follows a comma, every key precedes a colon.
    Brackets, commas and colons inside strings only make the bound larger."""
    return 1 + raw.count(b"[") + raw.count(b"{") + raw.count(b",") + raw.count(b":")


def _checked(value: Any, limit: JsonLimit, nul_possible: bool) -> None:
    """Count values and keys and look for NUL characters, without recursion (orjson parses up to
    1,024 levels); stops at the first breach, counting a container's children before visiting them."""

    count = 1
    stack = [value]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is dict:
            count += 2 * len(node)  # its keys and its values
            if nul_possible and any("\0" in key for key in node):
                raise _nul_refused()
            children = node.values()
        elif kind is list:
            count += len(node)
            children = node
        else:
            if nul_possible and kind is str and "\0" in node:
                raise _nul_refused()
            continue
        if count > limit.max_items:
            raise TooLarge(
                _("The request holds too many values: at most %(count)d may be sent here.", count=limit.max_items),
                {"max_items": limit.max_items},
            )
        if nul_possible:
            stack.extend(children)
        else:
            stack.extend(c for c in children if type(c) is dict or type(c) is list)


def _nul_refused():

    # PostgreSQL's text columns cannot hold a NUL, and no person types one.
    return InvalidInput(_("The request contains a NUL character (\\0), which no field accepts."))


class JsonRequest(Request):
    """Flask's request, whose ``get_json`` parses within the view's ``JsonLimit``: a body the server
    cannot or will not parse raises a 400 or 413 with a message (``silent`` only silences a body
    that is not JSON at all, which the views then refuse through their schema)."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any | None:
        if not (force or self.is_json):
            return None if silent else self.on_json_loading_failed(None)
        cached = getattr(self, "_labsafe_json", Ellipsis)
        if cached is not Ellipsis:
            return cached

        limit = request_limit()
        try:
            raw = self.get_data(cache=True)
        except RequestEntityTooLarge:
            raise _too_large(limit.max_bytes) from None
        if len(raw) > limit.max_bytes:  # a chunked body, cut one byte past the limit
            raise _too_large(limit.max_bytes)
        try:
            value = current_app.json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                _("The request is not valid JSON; nothing was saved."), {"reason": str(exc)[:200]}
            ) from None
        nul_possible = b"\\u0000" in raw
        if nul_possible or _items_at_most(raw) > limit.max_items:
            _checked(value, limit, nul_possible)
        if cache:
            self._labsafe_json = value
        return value


def init_app(app: Flask) -> None:
    app.request_class = JsonRequest
    # First of all hooks: nothing may read an oversized body before it is refused.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_oversized_body)


class UtcDateTime(fields.DateTime):
    """Naive UTC from the database, written ISO 8601 with a Z."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
