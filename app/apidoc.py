"""OpenAPI document generated from the marshmallow schemas (served at /api/openapi.json).

API views declare what they take and return with ``@doc(...)``; the document is built from the
app's URL map, so a route and its documentation cannot drift apart.
"""
from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app, jsonify

from app.jsonio import DEFAULT_JSON_LIMIT

_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+):)?(?P<name>\w+)>")
_TYPES = {"int": "integer", "float": "number", "string": "string", "uuid": "string", "path": "string", None: "string"}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}


def doc(
    summary: str,
    *,
    request: Any = None,
    response: Any = None,
    status: int = 200,
    responses: dict[int, Any] | None = None,
    query: Any = None,
    multipart: dict | None = None,
    tags: list[str] | None = None,
    many: bool = False,
    auth: bool = True,
    json_limit: Any = None,
):
    """Attach OpenAPI metadata to a view function.

    request/response/query: marshmallow schema classes or instances. ``responses`` maps extra
    status codes to a description. ``multipart`` is a raw JSON-schema for multipart bodies.
    ``json_limit``: the ``jsonio.JsonLimit`` of the body (bytes, values), enforced before the view
    runs; without one a JSON body gets ``jsonio.DEFAULT_JSON_LIMIT``.
    """

    def wrap(fn):
        fn._openapi = dict(
            summary=summary,
            request=request,
            response=response,
            status=status,
            responses=responses or {},
            query=query,
            multipart=multipart,
            tags=tags,
            many=many,
            auth=auth,
            json_limit=json_limit,
        )
        return fn

    return wrap


def _schema_ref(spec: APISpec, schema: Any, many: bool = False):
    ma = spec.plugins[0]
    resolved = ma.resolver.resolve_schema_dict(schema)
    return {"type": "array", "items": resolved} if many else resolved


def build_spec(app: Flask) -> dict:
    spec = APISpec(
        title="LabSafe API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Lab safety inspections: labs, checklists, inspections, photos, tickets."},
    )
    spec.components.schema("Error", ERROR_SCHEMA)
    spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": app.config["SESSION_COOKIE_NAME"]}
    )
    ma = spec.plugins[0]
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        meta = getattr(view, "_openapi", None)
        if meta is None:
            continue
        params = []
        for m in _CONVERTER.finditer(rule.rule):
            schema = {"type": _TYPES.get(m.group("conv"), "string")}
            if m.group("conv") == "uuid":
                schema["format"] = "uuid"
            if m.group("conv") == "int":  # the bounded int converter (app/security.py): else 404
                schema.update(minimum=0, maximum=2**31 - 1)
            params.append({"in": "path", "name": m.group("name"), "required": True, "schema": schema})
        path = _CONVERTER.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
        if meta["query"] is not None:
            params.extend(ma.converter.schema2parameters(meta["query"], location="query"))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {"summary": meta["summary"], "operationId": f"{rule.endpoint}.{method.lower()}"}
            if meta["tags"]:
                op["tags"] = meta["tags"]
            elif "." in rule.endpoint:
                op["tags"] = [rule.endpoint.split(".")[0]]
            if params:
                op["parameters"] = params
            if meta["request"] is not None and method in ("POST", "PUT", "PATCH"):
                limit = meta["json_limit"] or DEFAULT_JSON_LIMIT
                op["requestBody"] = {
                    "required": True,
                    "description": f"JSON of at most {limit.max_bytes} bytes and {limit.max_items} values and keys",
                    "content": {"application/json": {"schema": _schema_ref(spec, meta["request"])}},
                }
            if meta["multipart"] is not None and method in ("POST", "PUT"):
                op["requestBody"] = {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": meta["multipart"]}},
                }
            ok: dict[str, Any] = {"description": "OK"}
            if meta["response"] is not None:
                ok["content"] = {"application/json": {"schema": _schema_ref(spec, meta["response"], meta["many"])}}
            responses = {str(meta["status"]): ok}
            err = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            defaults = {400: "Invalid input", 404: "Not found"}
            if meta["auth"]:
                defaults.update({401: "Not logged in", 403: "Not allowed"})
            if app.config.get("API_RATE_LIMIT"):
                defaults[429] = "Too many requests; see Retry-After"
            if method != "GET":
                defaults[400] = "Invalid input or missing CSRF token"
                defaults[503] = "The database stayed busy; nothing was saved, see Retry-After"
                if meta["request"] is not None:
                    defaults[413] = "The body is larger, or holds more values, than this endpoint takes"
            for code, desc in {**defaults, **meta["responses"]}.items():
                # A second success code (e.g. 200 for an idempotent replay of a 201) has the OK body.
                body = ({"content": ok["content"]} if "content" in ok else {}) if int(code) < 400 else err
                responses[str(code)] = {"description": desc, **body}
            op["responses"] = responses
            if meta["auth"]:
                op["security"] = [{"session": []}]
            paths.setdefault(path, {})[method.lower()] = op
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    return spec.to_dict()


bp = Blueprint("openapi", __name__)


@bp.get("/api/openapi.json")
def openapi_json():
    spec = current_app.extensions.get("labsafe_openapi")
    if spec is None:
        spec = current_app.extensions["labsafe_openapi"] = build_spec(current_app)
    return jsonify(spec)
