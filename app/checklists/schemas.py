"""Checklist JSON shapes (documented in /api/openapi.json)."""
from __future__ import annotations

from marshmallow import Schema, fields

from .loader import article_label


class ChecklistItemSchema(Schema):
    id = fields.Integer(metadata={"description": "Answer with this id (it names the exact version's item)."})
    item_key = fields.String(metadata={"description": "Stable id of the item across versions."})
    article = fields.String(metadata={"description": '"16(2)" = 第十六条（二）'})
    article_label = fields.Function(lambda i: article_label(i.article), metadata={"description": "第十六条（二）"})
    text = fields.String()
    text_en = fields.String(allow_none=True)
    severity = fields.Function(lambda i: i.severity.value, metadata={"enum": ["general", "major"]})
    photo_required = fields.Boolean()
    weight = fields.Integer(metadata={"description": "The item's share of the inspection's score (default 1)."})
    must_pass = fields.Boolean(metadata={
        "description": "Red line: failing it grades the inspection D whatever its score."})
    stars = fields.Integer(allow_none=True, metadata={"description": "MOE 2018 ★ level, 1-3 (shown only)."})


class AvailableChecklistSchema(Schema):
    """A list this user may run in this lab, and at which inspection levels."""

    key = fields.Function(lambda a: a.checklist.key)
    kind = fields.Function(lambda a: a.checklist.kind.value, metadata={"enum": ["daily", "full", "special"]})
    title = fields.Function(lambda a: a.version.title)
    title_en = fields.Function(lambda a: a.version.title_en, allow_none=True)
    version_id = fields.Function(lambda a: a.version.id)
    levels = fields.List(fields.String(metadata={"enum": ["daily", "college", "school", "special"]}))


class ChecklistVersionSchema(Schema):
    """One version of a list with its items (all of them, or those applying to a lab)."""

    key = fields.Function(lambda v: v.checklist.key)
    kind = fields.Function(lambda v: v.checklist.kind.value, metadata={"enum": ["daily", "full", "special"]})
    title = fields.String()
    title_en = fields.String(allow_none=True)
    version_id = fields.Integer(attribute="id")
    version = fields.Integer(attribute="number", metadata={"description": "1, 2, ... per list"})
    current = fields.Function(lambda v: v.checklist.current_version_id == v.id)
    items = fields.List(fields.Nested(ChecklistItemSchema))


class LabChecklistSchema(ChecklistVersionSchema):
    """The current version of a list as it applies to one lab, with this user's levels there."""

    levels = fields.List(fields.String(metadata={"enum": ["daily", "college", "school", "special"]}),
                         metadata={"description": "Levels at which the current user may run it here (may be empty)."})


def lab_checklist_header(snapshot) -> dict:
    """LabChecklistSchema's fields but items and levels, for the version in service (a VersionSnapshot):
    built directly on the hot path; tests/checklists/test_api.py holds it equal to the schema's dump."""
    return {
        "key": snapshot.key, "kind": snapshot.kind.value, "title": snapshot.title, "title_en": snapshot.title_en,
        "version_id": snapshot.id, "version": snapshot.number, "current": True,
    }
