"""Checklist files -> validated specs -> immutable versions in the database.

The files under ``checklists/`` are edited by the school's safety office (format in
checklists/README.md). Everything is validated before anything is written: one bad file
and nothing is stored, so the app never serves a half-loaded list.
"""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from app.org.models import HAZARD_TAGS, LabCategory

from .models import ChecklistKind, Severity

CATEGORIES = tuple(c.value for c in LabCategory)
DEPARTMENTS = ("lab_management", "security", "assets")  # art. 9
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ITEM_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
ARTICLE_RE = re.compile(r"^(?P<art>\d{1,2})(?:\((?P<sub>\d{1,2})\))?$")

# Chapter 3 (art. 12-24) and how many numbered clauses （一）（二）… each article has in the
# 2017 text; 0 = the article has no numbered clauses, so only the bare article may be cited.
ARTICLE_CLAUSES = {12: 0, 13: 3, 14: 2, 15: 2, 16: 2, 17: 2, 18: 2, 19: 4, 20: 5, 21: 4, 22: 0, 23: 2, 24: 8}
ZH_NUMERALS = "〇一二三四五六七八九"


def _zh_number(n: int) -> str:
    if n < 10:
        return ZH_NUMERALS[n]
    tens, ones = divmod(n, 10)
    return ("十" if tens == 1 else ZH_NUMERALS[tens] + "十") + (ZH_NUMERALS[ones] if ones else "")


def parse_article(value: str) -> tuple[int, int | None]:
    """"16(2)" -> (16, 2); "22" -> (22, None). Raises ValueError with a readable reason."""
    m = ARTICLE_RE.match(value or "")
    if not m:
        raise ValueError(
            f"{value!r} is not an article reference: write the article number, optionally the "
            'clause in ASCII parentheses, e.g. "16(2)" for 第十六条（二） or "22"'
        )
    art = int(m.group("art"))
    sub = int(m.group("sub")) if m.group("sub") else None
    if art not in ARTICLE_CLAUSES:
        raise ValueError(f"article {art} is outside chapter 3: checklist items cite articles 12-24")
    clauses = ARTICLE_CLAUSES[art]
    if sub is not None:
        if clauses == 0:
            raise ValueError(f"article {art} has no numbered clauses: write {art!r}".replace("'", '"'))
        if not 1 <= sub <= clauses:
            raise ValueError(f"article {art} has clauses (1) to ({clauses}); ({sub}) does not exist")
    return art, sub


def article_label(value: str) -> str:
    """"16(2)" -> "第十六条（二）" (as the regulation writes it)."""
    art, sub = parse_article(value)
    label = f"第{_zh_number(art)}条"
    return label + (f"（{_zh_number(sub)}）" if sub else "")


def article_sort_key(value: str) -> tuple[int, int]:
    art, sub = parse_article(value)
    return art, sub or 0


# ---- schemas ---------------------------------------------------------------------------------

class ArticleField(fields.String):
    """`article = 22` (a bare number, no quotes) is read as "22"; anything else must be a string."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Field):
    """TOML's true/false only: "yes" or 1 are more likely typos than intentions."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("must be true or false (without quotes)")
        return value


class StrictInteger(fields.Integer):
    """A TOML integer only: 2.5 or "2" are refused, not rounded or converted."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationError("must be a whole number (without quotes)")
        return super()._deserialize(value, attr, data, **kwargs)


WEIGHT_MAX = 100


class ItemSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True

    id = fields.String(required=True, validate=validate.Regexp(
        ITEM_ID_RE, error="must be lower-case letters, digits, '-', '_' or '.', at most 64 characters"))
    article = ArticleField(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    text_en = fields.String(load_default=None, validate=validate.Length(max=2000))
    categories = fields.List(fields.String(validate=validate.OneOf(
        CATEGORIES, error="unknown category {input!r}; use one of: " + ", ".join(CATEGORIES))),
        load_default=list)
    hazard_tags = fields.List(fields.String(validate=validate.OneOf(
        HAZARD_TAGS, error="unknown hazard tag {input!r}; use one of: " + ", ".join(HAZARD_TAGS))),
        load_default=list)
    severity = fields.String(required=True, validate=validate.OneOf(
        [s.value for s in Severity], error="must be \"general\" or \"major\", not {input!r}"))
    photo_required = StrictBoolean(load_default=False)
    department = fields.String(load_default=None, validate=validate.OneOf(
        DEPARTMENTS, error="unknown department {input!r}; use one of: " + ", ".join(DEPARTMENTS)))
    # Scoring (README "Scores and grades").
    weight = StrictInteger(load_default=1, validate=validate.Range(
        min=1, max=WEIGHT_MAX, error=f"must be from 1 to {WEIGHT_MAX}, not {{input}}"))
    must_pass = StrictBoolean(load_default=False)
    stars = StrictInteger(load_default=None, validate=validate.Range(
        min=1, max=3, error="must be 1, 2 or 3 (the MOE 2018 ★ levels), not {input}"))

    @validates("article")
    def _article(self, value: str, **kwargs) -> None:
        try:
            parse_article(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    @validates("text")
    def _text(self, value: str, **kwargs) -> None:
        if not value.strip():
            raise ValidationError("must not be blank")

    @validates_schema
    def _red_line_is_major(self, data, **kwargs) -> None:
        # A failure that fails the whole inspection is a major hazard (重大隐患, art. 29) by definition.
        if data.get("must_pass") and data.get("severity") not in (None, Severity.major.value):
            raise ValidationError('a red-line item (must_pass = true) must have severity = "major"', "must_pass")


class ListSchema(Schema):
    """The list's metadata; items are validated one by one so errors can name the item."""

    class Meta:
        unknown = RAISE
        ordered = True

    kind = fields.String(required=True, validate=validate.OneOf(
        [k.value for k in ChecklistKind], error="must be daily, full or special, not {input!r}"))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title_en = fields.String(load_default=None, validate=validate.Length(max=200))
    items = fields.Raw(required=True)

    @validates("title")
    def _title(self, value: str, **kwargs) -> None:
        if not value.strip():
            raise ValidationError("must not be blank")


# ---- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileError:
    """One problem in one file: where (file, item, field) and what."""

    file: str
    message: str
    item: str | None = None  # 'id' or "#index" (1-based) when the id itself is missing/bad
    field: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.item:
            where.append(f"item {self.item}")
        if self.field:
            where.append(f"field '{self.field}'")
        return ": ".join([", ".join(where), self.message])


class ChecklistFileError(Exception):
    """Raised by load_directory when any file is bad; nothing was written."""

    def __init__(self, errors: list[FileError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass
class ChecklistSpec:
    key: str
    kind: str
    title: str
    title_en: str | None
    items: list[dict[str, Any]]
    source_file: str
    content_hash: str = ""

    def __post_init__(self) -> None:
        if not self.content_hash:
            self.content_hash = content_hash(self)


@dataclass
class ParseResult:
    specs: list[ChecklistSpec] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)


def _messages(value: Any) -> list[str]:
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out.extend(f"element {k + 1 if isinstance(k, int) else k}: {m}" for m in _messages(v))
        return out
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(_messages(v))
        return out
    return [str(value)]


def _field_errors(file: str, item: str | None, messages: dict) -> list[FileError]:
    errors = []
    for fname, msgs in messages.items():
        for msg in _messages(msgs):
            if msg == "Unknown field.":
                msg = "unknown field (check the spelling; README.md lists the allowed fields)"
            elif msg == "Missing data for required field.":
                msg = "missing (this field is required)"
            errors.append(FileError(file, msg, item=item, field=str(fname)))
    return errors


SCORING_DEFAULTS = {"weight": 1, "must_pass": False, "stars": None}


def normalise_item(data: dict[str, Any]) -> dict[str, Any]:
    """The canonical form of an item: the content that identifies a version."""
    item = {
        "id": data["id"],
        "article": data["article"],
        "text": data["text"].strip(),
        "text_en": (data.get("text_en") or "").strip() or None,
        "categories": sorted(set(data.get("categories") or [])),
        "hazard_tags": sorted(set(data.get("hazard_tags") or [])),
        "severity": data["severity"],
        "photo_required": bool(data.get("photo_required")),
        "department": data.get("department"),
    }
    # Scoring fields only when set away from their default: a file that does not use them hashes
    # as it did before they existed, so loading it again makes no new version.
    for name, default in SCORING_DEFAULTS.items():
        value = data.get(name, default)
        if value is not None and value != default:
            item[name] = value
    return item


def item_scoring(item: dict[str, Any]) -> dict[str, Any]:
    """weight, must_pass and stars of a normalised item, defaults filled in."""
    return {name: item.get(name, default) for name, default in SCORING_DEFAULTS.items()}


def content_hash(spec: ChecklistSpec) -> str:
    canonical = {
        "kind": spec.kind,
        "title": spec.title,
        "title_en": spec.title_en,
        "items": [normalise_item(i) for i in spec.items],
    }
    blob = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def parse_text(text: str, file: str) -> tuple[ChecklistSpec | None, list[FileError]]:
    """Validate one file's text. ``file`` is its name (the stem is the checklist key)."""
    key = Path(file).stem
    errors: list[FileError] = []
    if not KEY_RE.match(key):
        errors.append(FileError(file, "the file name (without .toml) is the list's key: use lower-case "
                                      "letters, digits, '-' or '_'"))
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [FileError(file, f"TOML syntax error: {exc}")]

    try:
        meta = ListSchema().load(raw)
    except ValidationError as exc:
        errors.extend(_field_errors(file, None, exc.messages))
        meta = None

    raw_items = raw.get("items")
    items: list[dict[str, Any]] = []
    if "items" in raw:
        if not isinstance(raw_items, list) or not raw_items or not all(isinstance(i, dict) for i in raw_items):
            errors.append(FileError(file, "must be one or more [[items]] tables", field="items"))
            raw_items = []
        seen: dict[str, int] = {}
        item_schema = ItemSchema()
        for index, raw_item in enumerate(raw_items, start=1):
            rid = raw_item.get("id")
            label = f"'{rid}' (#{index})" if isinstance(rid, str) and rid else f"#{index}"
            try:
                item = item_schema.load(raw_item)
            except ValidationError as exc:
                errors.extend(_field_errors(file, label, exc.messages))
                continue
            if item["id"] in seen:
                errors.append(FileError(
                    file, f"duplicate id: item #{seen[item['id']]} already uses it (ids must be unique in a file)",
                    item=label, field="id"))
                continue
            seen[item["id"]] = index
            items.append(normalise_item(item))

    if errors or meta is None:
        return None, errors
    spec = ChecklistSpec(
        key=key, kind=meta["kind"], title=meta["title"].strip(),
        title_en=(meta.get("title_en") or "").strip() or None, items=items, source_file=file,
    )
    return spec, []


def parse_directory(path: str | Path) -> ParseResult:
    """Validate every ``*.toml`` in the directory (sorted by name)."""
    directory = Path(path)
    result = ParseResult()
    if not directory.is_dir():
        result.errors.append(FileError(str(directory), "no such directory"))
        return result
    files = sorted(directory.glob("*.toml"))
    if not files:
        result.errors.append(FileError(str(directory), "no checklist files (*.toml) found"))
    for file in files:
        try:
            # utf-8-sig: Windows editors (Notepad) may save a byte-order mark.
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            result.errors.append(FileError(file.name, "not UTF-8 text: save the file as UTF-8"))
            continue
        spec, errors = parse_text(text, file.name)
        result.errors.extend(errors)
        if spec is not None:
            result.specs.append(spec)
    return result
