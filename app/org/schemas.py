from marshmallow import Schema, fields

from app.auth.services import lab_officer_contacts

from . import risk


class OfficerSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)


_OFFICERS = OfficerSchema(many=True)


class LabSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    building = fields.String()
    floor = fields.String()
    room = fields.String()
    college_id = fields.Integer()
    college_name = fields.Function(lambda lab: lab.college.name, metadata={"type": "string"})
    category = fields.Function(lambda lab: lab.category.value, metadata={"type": "string"})
    hazard_tags = fields.List(fields.String())
    phone = fields.String()
    active = fields.Boolean()
    risk_level = fields.Function(
        lambda lab: lab.risk_level.value if lab.risk_level else None,
        metadata={"type": "string", "nullable": True, "enum": ["I", "II", "III", "IV", None],
                  "description": "Risk grade (MOE 2024 measures, 教科信〔2024〕4号): I red (major risk), II orange "
                                 "(high), III yellow (medium), IV blue (low); null until assessed"},
    )


class LabDetailSchema(LabSchema):
    """One lab as its door card shows it: with its safety officers (art. 24(1))."""

    officers = fields.Method("_officers", metadata={
        "type": "array",
        "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": "string", "nullable": True},
        }},
    })

    def _officers(self, lab):
        return _OFFICERS.dump(lab_officer_contacts(lab.id))


def lab_card(rows) -> dict:
    """LabDetailSchema's output from the card rows of org.services.lab_card_by_token (the lab's columns,
    then an officer's), without marshmallow on the QR path; tests/org/test_qr.py holds the two equal."""
    row = rows[0]
    return {
        "id": row.id, "code": row.code, "name": row.name, "name_en": row.name_en, "building": row.building,
        "floor": row.floor, "room": row.room, "college_id": row.college_id, "college_name": row.college_name,
        "category": row.category.value, "hazard_tags": list(row.hazard_tags or ()), "phone": row.phone,
        "active": row.active, "risk_level": row.risk_level.value if row.risk_level else None,
        "officers": [{"id": r.officer_id, "name": r.officer_name, "phone": r.officer_phone}
                     for r in rows if r.officer_id is not None],
    }


class RiskAssessmentInSchema(Schema):
    """POST /api/labs/{lab_id}/risk-assessment: the short assessment's answers, by question id
    (the questions are in checklists/risk/risk_grading.toml; GET .../risk-assessment lists them)."""

    answers = fields.Dict(required=True, keys=fields.String(), metadata={
        "description": "question id -> answer: a number (number questions), true/false (yes_no), a choice's value"})
    client_uuid = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "Made once per assessment: sent again, the recorded assessment is answered (200) and "
                       "nothing is recorded twice"})


class RiskAssessmentSchema(Schema):
    """One recorded assessment: the grade and the rule that decided it."""

    id = fields.Integer()
    lab_id = fields.Integer()
    risk_level = fields.Function(lambda a: a.risk_level.value, metadata={"type": "string"})
    rule_id = fields.String(allow_none=True, metadata={"description": "The deciding rule; null: none matched (IV)"})
    reason = fields.String(metadata={"description": "Why this grade (Chinese, as recorded)"})
    reason_en = fields.String(allow_none=True)
    matched = fields.List(fields.String(), metadata={"description": "Every rule that matched, in file order"})
    answers = fields.Dict()
    category = fields.Function(lambda a: a.category.value, metadata={"type": "string"})
    hazard_tags = fields.List(fields.String())
    rules_hash = fields.String(metadata={"description": "The version of the rules file that graded it"})
    assessed_at = fields.DateTime()
    assessed_by_id = fields.Integer(allow_none=True)


class LabRiskSchema(Schema):
    """A lab's grade now, what it sets, and its assessments (latest first)."""

    lab_id = fields.Integer()
    risk_level = fields.String(allow_none=True)
    risk_assessed_at = fields.DateTime(allow_none=True)
    risk_assessed_by_id = fields.Integer(allow_none=True)
    risk_reassess = fields.Boolean(metadata={"description": "Category or hazard tags changed since: re-grade"})
    cadence = fields.String(metadata={"description": "Default college-check cadence: weekly, fortnightly, monthly"})
    checklists = fields.List(fields.String(), metadata={"description": "Checklist keys a check of this grade runs"})
    questions = fields.List(fields.Dict(), metadata={"description": "The assessment's questions: id, kind, label, "
                                                                    "unit, max, choices [{value, label}]"})
    history = fields.List(fields.Nested(RiskAssessmentSchema))


def lab_risk_body(lab, history) -> dict:
    """LabRiskSchema's output for a lab and its assessments (org.services.risk_history)."""
    rules = risk.rules()
    questions = [{
        "id": q.id, "kind": q.kind, "label": q.text(), "unit": q.unit, "max": q.max,
        "choices": [{"value": c["value"], "label": q.choice_text(c["value"])} for c in q.choices],
    } for q in rules.questions]
    return LabRiskSchema().dump({
        "lab_id": lab.id, "risk_level": lab.risk_level.value if lab.risk_level else None,
        "risk_assessed_at": lab.risk_assessed_at, "risk_assessed_by_id": lab.risk_assessed_by_id,
        "risk_reassess": bool(lab.risk_reassess), "cadence": rules.cadence(lab.risk_level).key,
        "checklists": list(rules.checklist_keys(lab.risk_level)), "questions": questions, "history": history,
    })


# ---- admin forms (HTML form fields are text; checkboxes absent mean False) ---------------------
from marshmallow import EXCLUDE, validate  # noqa: E402

from .models import CollegeKind  # noqa: E402


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE  # csrf_token and buttons


class CollegeForm(_Form):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(load_default="", validate=validate.Length(max=200))
    kind = fields.Enum(CollegeKind, by_value=True, load_default=CollegeKind.college)
    active = fields.Boolean(load_default=False)


class DepartmentForm(_Form):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(load_default="", validate=validate.Length(max=200))
    remit = fields.String(load_default="", validate=validate.Length(max=4000))


class LabForm(_Form):
    code = fields.String(load_default="")
    name = fields.String(load_default="")
    name_en = fields.String(load_default="")
    building = fields.String(load_default="")
    floor = fields.String(load_default="")
    room = fields.String(load_default="")
    phone = fields.String(load_default="")
    college_id = fields.Integer(load_default=None, allow_none=True)
    category = fields.String(load_default="")
    hazard_tags = fields.List(fields.String(), load_default=list)
    active = fields.Boolean(load_default=False)
    officers = fields.String(load_default="")  # usernames, on creation


class ClosureForm(_Form):
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=200))
