"""Lab risk grades I–IV (MOE 2024 measures, 教科信〔2024〕4号): the rules file, its validation, the
grading itself, and what a grade sets (the college check's default cadence, the lists a check runs,
the nameplate's colour band).

The rules live in ``checklists/risk/risk_grading.toml`` (format: checklists/README.md, "Lab risk
grading"), edited by the safety office like the checklists. The file is read and validated when the
app starts (``init_app``, from org's blueprint registration): a bad file stops the start with every
problem named, so the app never grades by half a rule set.

Grading (the measures: "by the highest hazard source"): every rule whose conditions all hold is a
match; the grade is the highest level among the matches, and the first matching rule of that level,
in file order, is the reason. No match: IV.
"""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .models import HAZARD_TAGS, LabCategory, RiskLevel

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "checklists" / "risk" / "risk_grading.toml"
EXTENSION_KEY = "labsafe_risk_rules"


# What the measures call each level, and the band colour printed on the nameplate.
LEVEL_INFO = {
    RiskLevel.I: {"colour": "red", "colour_zh": "红", "hex": "#d50000", "label": _l("Major risk")},
    RiskLevel.II: {"colour": "orange", "colour_zh": "橙", "hex": "#f57c00", "label": _l("High risk")},
    RiskLevel.III: {"colour": "yellow", "colour_zh": "黄", "hex": "#f9c800", "label": _l("Medium risk")},
    RiskLevel.IV: {"colour": "blue", "colour_zh": "蓝", "hex": "#1565c0", "label": _l("Low risk")},
}
ROMAN = {RiskLevel.I: "Ⅰ", RiskLevel.II: "Ⅱ", RiskLevel.III: "Ⅲ", RiskLevel.IV: "Ⅳ"}
COLOUR_NAMES = {"red": _l("Red"), "orange": _l("Orange"), "yellow": _l("Yellow"), "blue": _l("Blue")}


def level_label(level) -> str:
    """"Ⅰ级 · 红 · 重大风险" / "Level I · red · major risk"."""
    if not level:
        return str(_l("Not graded"))
    level = RiskLevel(getattr(level, "value", level))
    info = LEVEL_INFO[level]
    return str(_l("Level %(roman)s · %(colour)s · %(label)s", roman=ROMAN[level],
                  colour=COLOUR_NAMES[info["colour"]], label=info["label"]))


# The lab list's risk filter: a grade, not yet graded, or re-grading needed (org.services.RISK_FILTERS).
FILTER_LABELS = {
    "I": _l("Level Ⅰ (red)"), "II": _l("Level Ⅱ (orange)"), "III": _l("Level Ⅲ (yellow)"),
    "IV": _l("Level Ⅳ (blue)"), "none": _l("Not graded"), "reassess": _l("Re-grade needed"),
}


# ---- what a grade sets ---------------------------------------------------------------------------

CADENCE_DAYS = {"weekly": 7, "fortnightly": 14, "monthly": 30}
CADENCE_LABELS = {
    "weekly": _l("Weekly college check"),
    "fortnightly": _l("Fortnightly college check"),
    "monthly": _l("Monthly college check"),
}
# Art. 28: every college checks each of its labs at least monthly, graded or not.
UNGRADED_CADENCE = "monthly"


@dataclass(frozen=True)
class Cadence:
    """How often the college checks a lab (art. 28: at least monthly). ``key`` weekly | fortnightly |
    monthly; ``days`` its nominal period (a monthly check is one per calendar month)."""

    key: str
    days: int

    @property
    def label(self) -> str:
        return str(CADENCE_LABELS[self.key])


# ---- the rules file ------------------------------------------------------------------------------

# Articles of the 2017 regulation and how many numbered clauses （一）（二）… each has (0: none).
ARTICLE_CLAUSES = {a: 0 for a in range(1, 41)} | {
    7: 5, 9: 3, 10: 3, 11: 6, 13: 3, 14: 2, 15: 2, 16: 2, 17: 2, 18: 2, 19: 4, 20: 5, 21: 4, 23: 2, 24: 8,
    25: 4, 33: 4, 34: 2,
}
ARTICLE_RE = re.compile(r"^(\d{1,2})(?:\((\d{1,2})\))?$")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
QUESTION_KINDS = ("number", "yes_no", "choice")
CATEGORIES = tuple(c.value for c in LabCategory)


class RiskRulesError(Exception):
    """The rules file has problems; ``errors`` names each (the app does not start on a bad file)."""

    def __init__(self, file: str, errors: list[str]):
        super().__init__(f"{file}: " + "; ".join(errors))
        self.file, self.errors = file, errors


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    label: str
    label_en: str | None
    unit: str = ""
    max: float | None = None
    choices: tuple[dict, ...] = ()

    def text(self) -> str:
        return _localised(self.label, self.label_en)

    def choice_text(self, value: str) -> str:
        for c in self.choices:
            if c["value"] == value:
                return _localised(c["label"], c.get("label_en"))
        return value


@dataclass(frozen=True)
class Rule:
    id: str
    level: RiskLevel
    when: tuple[dict, ...]
    reason: str
    reason_en: str | None
    articles: tuple[str, ...]

    def text(self) -> str:
        return _localised(self.reason, self.reason_en)


@dataclass(frozen=True)
class Grade:
    """The outcome of an assessment: the level and the rule that decided it (None: no rule matched)."""

    level: RiskLevel
    rule: Rule | None
    matched: tuple[str, ...]  # every matching rule's id, in file order

    def reason_zh(self) -> str:
        return self.rule.reason if self.rule else NO_RULE_REASON_ZH

    def reason_en(self) -> str | None:
        return self.rule.reason_en if self.rule else NO_RULE_REASON_EN


# Recorded with the assessment in both languages, as a rule's reason is (the file's text, not the UI's).
NO_RULE_REASON_ZH = "无危险源达到中风险判定条件，定为低风险"
NO_RULE_REASON_EN = "No hazard source reaches a medium-risk threshold: low risk"


@dataclass(frozen=True)
class RiskRules:
    source: str
    source_en: str | None
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]
    grades: dict  # RiskLevel -> {"cadence": str, "checklists": tuple[str, ...]}
    content_hash: str
    file: str

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)

    def grade(self, category, hazard_tags, answers: dict) -> Grade:
        category = getattr(category, "value", category)
        tags = set(hazard_tags or ())
        matched = [r for r in self.rules if all(_holds(c, category, tags, answers) for c in r.when)]
        if not matched:
            return Grade(RiskLevel.IV, None, ())
        top = max(r.level.rank for r in matched)
        decisive = next(r for r in matched if r.level.rank == top)
        return Grade(decisive.level, decisive, tuple(r.id for r in matched))

    def clean_answers(self, raw) -> tuple[dict, dict[str, str]]:
        """The answers as the rules read them, and the problems (question id -> message). Every
        question must be answered; unknown keys are refused (a typo would silently lower a grade)."""
        errors: dict[str, str] = {}
        if not isinstance(raw, dict):
            return {}, {"answers": str(_l("The answers must be an object of question ids to answers."))}
        known = {q.id for q in self.questions}
        for key in raw:
            if key not in known:
                errors[str(key)] = str(_l("Unknown question."))
        clean: dict[str, Any] = {}
        for q in self.questions:
            value = raw.get(q.id)
            if value is None or value == "":
                errors[q.id] = str(_l("Answer this question."))
                continue
            if q.kind == "number":
                try:
                    number = float(value) if not isinstance(value, bool) else None
                except (TypeError, ValueError):
                    number = None
                if number is None or number != number or number < 0 or (q.max is not None and number > q.max):
                    errors[q.id] = str(_l("Enter a number from 0 to %(max)s.", max=_number(q.max)))
                    continue
                clean[q.id] = int(number) if number == int(number) else number
            elif q.kind == "yes_no":
                if isinstance(value, bool):
                    clean[q.id] = value
                elif str(value).lower() in ("yes", "true", "1", "on"):
                    clean[q.id] = True
                elif str(value).lower() in ("no", "false", "0", "off"):
                    clean[q.id] = False
                else:
                    errors[q.id] = str(_l("Answer yes or no."))
            else:
                allowed = [c["value"] for c in q.choices]
                if value not in allowed:
                    errors[q.id] = str(_l("Choose one of: %(allowed)s.", allowed=", ".join(allowed)))
                else:
                    clean[q.id] = value
        return clean, errors

    def cadence(self, level) -> Cadence:
        key = self.grades[RiskLevel(level)]["cadence"] if level else UNGRADED_CADENCE
        return Cadence(key, CADENCE_DAYS[key])

    def checklist_keys(self, level) -> tuple[str, ...]:
        return self.grades[RiskLevel(level or RiskLevel.IV)]["checklists"]


def _number(value) -> str:
    return str(int(value)) if value is not None and value == int(value) else str(value)


def _localised(zh: str, en: str | None) -> str:
    try:
        lang = str(get_locale() or "zh_CN")
    except Exception:  # noqa: BLE001  (outside a request: the school's default language)
        lang = "zh_CN"
    return en if lang.startswith("en") and en else zh


def _holds(cond: dict, category: str, tags: set[str], answers: dict) -> bool:
    if "hazard_tags_any" in cond:
        return bool(tags & set(cond["hazard_tags_any"]))
    if "categories" in cond:
        return category in cond["categories"]
    value = answers.get(cond["answer"])
    if value is None:
        return False
    if "is" in cond:
        return value is cond["is"]
    if "at_least" in cond:
        return value >= cond["at_least"]
    if "more_than" in cond:
        return value > cond["more_than"]
    return value in cond["in"]


# ---- parsing and validation ---------------------------------------------------------------------

def _check_article(value) -> str | None:
    m = ARTICLE_RE.match(str(value)) if isinstance(value, str) else None
    if not m:
        return f'{value!r} is not an article reference: write e.g. "16(2)" or "22"'
    art, sub = int(m.group(1)), m.group(2)
    if art not in ARTICLE_CLAUSES:
        return f"article {art} does not exist (the regulation has articles 1-40)"
    if sub is not None:
        clauses = ARTICLE_CLAUSES[art]
        if not 1 <= int(sub) <= clauses:
            return f"article {art} has no clause ({sub})" + (f": it has (1) to ({clauses})" if clauses else "")
    return None


def _text(data: dict, key: str, where: str, errors: list[str], required: bool = True) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            errors.append(f"{where}: '{key}' is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{where}: '{key}' must be non-blank text")
        return None
    return value.strip()


def _unknown(data: dict, allowed: set[str], where: str, errors: list[str]) -> None:
    for key in data:
        if key not in allowed:
            errors.append(f"{where}: unknown field '{key}' (README.md lists the allowed fields)")


def _parse_question(raw, index: int, errors: list[str]) -> Question | None:
    where = f"question #{index}"
    if not isinstance(raw, dict):
        errors.append(f"{where}: must be a [[questions]] table")
        return None
    _unknown(raw, {"id", "kind", "label", "label_en", "unit", "max", "choices"}, where, errors)
    qid = raw.get("id")
    if not isinstance(qid, str) or not ID_RE.match(qid):
        errors.append(f"{where}: 'id' must be lower-case letters, digits, '_', '.' or '-'")
        return None
    where = f"question '{qid}'"
    kind = raw.get("kind")
    if kind not in QUESTION_KINDS:
        errors.append(f"{where}: 'kind' must be one of {', '.join(QUESTION_KINDS)}, not {kind!r}")
        return None
    before = len(errors)
    label = _text(raw, "label", where, errors)
    label_en = _text(raw, "label_en", where, errors, required=False)
    maximum = raw.get("max")
    if maximum is not None and (isinstance(maximum, bool) or not isinstance(maximum, (int, float)) or maximum <= 0):
        errors.append(f"{where}: 'max' must be a positive number")
    choices: list[dict] = []
    if kind == "choice":
        raw_choices = raw.get("choices")
        if not isinstance(raw_choices, list) or len(raw_choices) < 2:
            errors.append(f"{where}: a choice question needs 'choices', at least two")
        else:
            for c in raw_choices:
                if not (isinstance(c, dict) and isinstance(c.get("value"), str) and isinstance(c.get("label"), str)):
                    errors.append(f"{where}: each choice is {{ value = \"...\", label = \"...\", label_en = \"...\" }}")
                    continue
                _unknown(c, {"value", "label", "label_en"}, f"{where}, choice {c['value']!r}", errors)
                choices.append({"value": c["value"], "label": c["label"], "label_en": c.get("label_en")})
            values = [c["value"] for c in choices]
            if len(set(values)) != len(values):
                errors.append(f"{where}: choice values must be unique")
    elif "choices" in raw:
        errors.append(f"{where}: only a choice question has 'choices'")
    if len(errors) > before:
        return None
    return Question(qid, kind, label, label_en, str(raw.get("unit") or ""), maximum, tuple(choices))


def _parse_condition(cond, where: str, questions: dict[str, Question], errors: list[str]) -> dict | None:
    if not isinstance(cond, dict):
        errors.append(f"{where}: each condition is an inline table, e.g. {{ answer = \"x\", at_least = 1 }}")
        return None
    if "hazard_tags_any" in cond or "categories" in cond:
        key, allowed = ("hazard_tags_any", HAZARD_TAGS) if "hazard_tags_any" in cond else ("categories", CATEGORIES)
        values = cond[key]
        if len(cond) != 1:
            errors.append(f"{where}: '{key}' stands alone in its condition")
        elif not isinstance(values, list) or not values or any(v not in allowed for v in values):
            errors.append(f"{where}: '{key}' must list some of: {', '.join(allowed)}")
        else:
            return {key: tuple(values)}
        return None
    qid = cond.get("answer")
    question = questions.get(qid)
    if question is None:
        errors.append(f"{where}: 'answer' must name a question ({', '.join(questions)}), not {qid!r}")
        return None
    tests = [k for k in cond if k != "answer"]
    by_kind = {"number": ("at_least", "more_than"), "yes_no": ("is",), "choice": ("in",)}[question.kind]
    if len(tests) != 1 or tests[0] not in by_kind:
        errors.append(f"{where}: a {question.kind} question is tested with one of: {', '.join(by_kind)}")
        return None
    test, value = tests[0], cond[tests[0]]
    if test == "is" and not isinstance(value, bool):
        errors.append(f"{where}: 'is' must be true or false (without quotes)")
        return None
    if test in ("at_least", "more_than") and (isinstance(value, bool) or not isinstance(value, (int, float))):
        errors.append(f"{where}: '{test}' must be a number")
        return None
    if test == "in":
        allowed = [c["value"] for c in question.choices]
        if not isinstance(value, list) or not value or any(v not in allowed for v in value):
            errors.append(f"{where}: 'in' must list some of: {', '.join(allowed)}")
            return None
        value = tuple(value)
    return {"answer": qid, test: value}


def _parse_rule(raw, index: int, questions: dict[str, Question], errors: list[str]) -> Rule | None:
    where = f"rule #{index}"
    if not isinstance(raw, dict):
        errors.append(f"{where}: must be a [[rules]] table")
        return None
    _unknown(raw, {"id", "level", "when", "reason", "reason_en", "articles"}, where, errors)
    rid = raw.get("id")
    if not isinstance(rid, str) or not ID_RE.match(rid):
        errors.append(f"{where}: 'id' must be lower-case letters, digits, '_', '.' or '-'")
        return None
    where = f"rule '{rid}'"
    before = len(errors)
    try:
        level = RiskLevel(raw.get("level"))
    except ValueError:
        errors.append(f"{where}: 'level' must be one of I, II, III, IV, not {raw.get('level')!r}")
        level = None
    when = raw.get("when")
    conditions = []
    if not isinstance(when, list) or not when:
        errors.append(f"{where}: 'when' must list one or more conditions")
    else:
        for cond in when:
            parsed = _parse_condition(cond, where, questions, errors)
            if parsed is not None:
                conditions.append(parsed)
    reason = _text(raw, "reason", where, errors)
    reason_en = _text(raw, "reason_en", where, errors, required=False)
    articles = raw.get("articles")
    if not isinstance(articles, list) or not articles:
        errors.append(f"{where}: 'articles' must cite one or more articles of the regulation, e.g. [\"16(2)\"]")
    else:
        for art in articles:
            problem = _check_article(art)
            if problem:
                errors.append(f"{where}: {problem}")
    if len(errors) > before:
        return None
    return Rule(rid, level, tuple(conditions), reason, reason_en, tuple(articles))


def _parse_tables(raw: dict, name: str, parse, errors: list[str]) -> list:
    """The file's [[questions]] or [[rules]], each parsed by ``parse(table, index)``; ids unique."""
    tables = raw.get(name)
    if not isinstance(tables, list) or not tables:
        errors.append(f"file: one or more [[{name}]] are needed")
        return []
    parsed: list = []
    for index, table in enumerate(tables, start=1):
        item = parse(table, index)
        if item is None:
            continue
        if any(other.id == item.id for other in parsed):
            errors.append(f"{name[:-1]} '{item.id}': duplicate id")
            continue
        parsed.append(item)
    return parsed


def parse_rules(text: str, file: str = "risk_grading.toml") -> RiskRules:
    """Validate the rules file's text; raises RiskRulesError naming every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RiskRulesError(file, [f"TOML syntax error: {exc}"]) from None
    errors: list[str] = []
    _unknown(raw, {"source", "source_en", "questions", "rules", "grades"}, "file", errors)
    source = _text(raw, "source", "file", errors)
    source_en = _text(raw, "source_en", "file", errors, required=False)
    if source and "2024" not in source:
        errors.append("file: 'source' must cite the MOE 2024 measures (教科信〔2024〕4号)")

    questions = _parse_tables(raw, "questions", lambda t, i: _parse_question(t, i, errors), errors)
    by_id = {q.id: q for q in questions}
    rules = _parse_tables(raw, "rules", lambda t, i: _parse_rule(t, i, by_id, errors), errors)

    grades: dict = {}
    raw_grades = raw.get("grades")
    if not isinstance(raw_grades, dict):
        errors.append("file: [grades.I] to [grades.IV] are needed")
        raw_grades = {}
    for key in raw_grades:
        if key not in RiskLevel.__members__:
            errors.append(f"grades: unknown grade {key!r} (I, II, III, IV)")
    for level in RiskLevel:
        g = raw_grades.get(level.value)
        where = f"grades.{level.value}"
        if not isinstance(g, dict):
            errors.append(f"{where}: missing")
            continue
        _unknown(g, {"cadence", "checklists"}, where, errors)
        cadence = g.get("cadence")
        if cadence not in CADENCE_DAYS:
            errors.append(f"{where}: 'cadence' must be one of {', '.join(CADENCE_DAYS)}, not {cadence!r}")
        lists = g.get("checklists")
        if not isinstance(lists, list) or not lists or not all(isinstance(k, str) and KEY_RE.match(k) for k in lists):
            errors.append(f"{where}: 'checklists' must list checklist keys (file names in checklists/ without .toml)")
            lists = []
        grades[level] = {"cadence": cadence, "checklists": tuple(lists)}
    if errors:
        raise RiskRulesError(file, errors)
    digest = hashlib.sha256(json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()
    return RiskRules(source, source_en, tuple(questions), tuple(rules), grades, digest, file)


def load_rules(path: str | Path) -> RiskRules:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RiskRulesError(str(path), ["no such file"]) from None
    except UnicodeDecodeError:
        raise RiskRulesError(str(path), ["not UTF-8 text: save the file as UTF-8"]) from None
    return parse_rules(text, path.name)


def init_app(app) -> None:
    """Read and validate the rules file at start (config RISK_GRADING_FILE, default the shipped one)."""
    app.extensions[EXTENSION_KEY] = load_rules(app.config.get("RISK_GRADING_FILE") or DEFAULT_FILE)


def rules() -> RiskRules:
    """The running app's rules (loaded at start)."""
    loaded = current_app.extensions.get(EXTENSION_KEY)
    if loaded is None:  # an app built without org's blueprints (a script): read the file now
        init_app(current_app)
        loaded = current_app.extensions[EXTENSION_KEY]
    return loaded


# ---- what other domains call ----------------------------------------------------------------------

def default_cadence(risk_level) -> Cadence:
    """The college check's default cadence for a lab of this grade (I weekly, II fortnightly, III and
    IV monthly as shipped; see the rules file). Not graded (None): monthly, as art. 28 asks of every lab."""
    return rules().cadence(risk_level)


def checklist_keys(risk_level) -> tuple[str, ...]:
    """The checklist keys a college or school check of a lab of this grade runs (I–II: full plus the
    hazard-specific lists; III–IV: full, as shipped). Not graded: as IV."""
    return rules().checklist_keys(risk_level)


def nameplate_band(risk_level) -> dict | None:
    """The nameplate's colour band for a graded lab, None when not graded: level, roman numeral,
    colour (red/orange/yellow/blue), its Chinese name (红/橙/黄/蓝), hex and the level's label."""
    if not risk_level:
        return None
    level = RiskLevel(getattr(risk_level, "value", risk_level))
    info = LEVEL_INFO[level]
    return {"level": level.value, "roman": ROMAN[level], "colour": info["colour"], "colour_zh": info["colour_zh"],
            "hex": info["hex"], "label": str(info["label"])}
