"""The risk grading rules (MOE 2024 measures, 教科信〔2024〕4号): the shipped file, each of its rules,
the highest grade winning, the validation of a bad file, and what a grade sets."""
from __future__ import annotations

import pytest

from app import create_app
from app.org import risk
from app.org.models import RiskLevel
from app.org.risk import RiskRulesError, load_rules, parse_rules

SHIPPED = load_rules(risk.DEFAULT_FILE)
CHECKLIST_DIR = risk.DEFAULT_FILE.parents[1]

# Nothing at all: no rule matches, grade IV.
NOTHING = {"hazchem_amount": 0, "controlled_chemicals": False, "drug_precursors": False, "special_equipment": 0,
           "gas_cylinders": 0, "biosafety_level": "none", "radiation": "none", "laser_class": "none"}

# One case per shipped rule: (rule id, category, hazard tags, answers that differ from NOTHING).
RULE_CASES = [
    ("i-controlled-chemicals", "physics", [], {"controlled_chemicals": True}),
    ("i-controlled-tags", "general", ["highly_toxic"], {}),
    ("i-hazchem-large", "physics", [], {"hazchem_amount": 500}),
    ("i-bsl3", "physics", [], {"biosafety_level": "bsl3"}),
    ("i-radiation-high", "physics", [], {"radiation": "high"}),
    ("ii-hazchem", "physics", [], {"hazchem_amount": 50}),
    ("ii-drug-precursors", "physics", [], {"drug_precursors": True}),
    ("ii-special-equipment", "mechanical", [], {"special_equipment": 1}),
    ("ii-special-equipment-tag", "mechanical", ["special_equipment"], {}),
    ("ii-bsl2", "physics", [], {"biosafety_level": "bsl2"}),
    ("ii-radiation-low", "physics", [], {"radiation": "low"}),
    ("ii-radiation-tag", "physics", ["radiation"], {}),
    ("ii-laser-high", "physics", [], {"laser_class": "class_3b_4"}),
    ("iii-hazchem", "physics", [], {"hazchem_amount": 0.5}),
    ("iii-gas-cylinders", "physics", [], {"gas_cylinders": 2}),
    ("iii-bsl1", "physics", [], {"biosafety_level": "bsl1"}),
    ("iii-laser", "physics", [], {"laser_class": "class_3r"}),
    ("iii-hazard-tags", "physics", ["high_voltage"], {}),
    ("iii-chemistry-biology", "chemistry", [], {}),
]


def test_every_shipped_rule_has_a_case():
    assert {r.id for r in SHIPPED.rules} == {case[0] for case in RULE_CASES}


@pytest.mark.parametrize("rule_id, category, tags, answers", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_each_rule_decides_its_grade(rule_id, category, tags, answers):
    grade = SHIPPED.grade(category, tags, NOTHING | answers)
    rule = next(r for r in SHIPPED.rules if r.id == rule_id)
    assert (grade.level, grade.rule.id) == (rule.level, rule_id)
    assert grade.reason_zh() == rule.reason and grade.reason_en() == rule.reason_en


def test_nothing_is_blue_with_its_reason():
    grade = SHIPPED.grade("general", [], NOTHING)
    assert grade.level == RiskLevel.IV and grade.rule is None and grade.matched == ()
    assert "低风险" in grade.reason_zh()


def test_the_gravest_hazard_decides_and_every_match_is_kept():
    grade = SHIPPED.grade("chemistry", ["gas_cylinders"], NOTHING | {"hazchem_amount": 600, "gas_cylinders": 3})
    assert grade.level == RiskLevel.I and grade.rule.id == "i-hazchem-large"
    assert grade.matched == ("i-hazchem-large", "ii-hazchem", "iii-hazchem", "iii-gas-cylinders", "iii-hazard-tags",
                             "iii-chemistry-biology")


@pytest.mark.parametrize("amount, level", [(0, "IV"), (0.1, "III"), (49.9, "III"), (50, "II"), (499, "II"),
                                           (500, "I")])
def test_quantity_thresholds(amount, level):
    assert SHIPPED.grade("physics", [], NOTHING | {"hazchem_amount": amount}).level == RiskLevel(level)


def test_answers_are_checked_whole():
    clean, errors = SHIPPED.clean_answers({"hazchem_amount": "12.5", "controlled_chemicals": "yes",
                                           "drug_precursors": "no", "special_equipment": 0, "gas_cylinders": "1",
                                           "biosafety_level": "bsl2", "radiation": "none", "laser_class": "none"})
    assert errors == {}
    assert clean["hazchem_amount"] == 12.5 and clean["controlled_chemicals"] is True and clean["gas_cylinders"] == 1
    _, errors = SHIPPED.clean_answers({"hazchem_amount": -1, "controlled_chemicals": "maybe", "biosafety_level": "x",
                                       "typo": 1})
    assert {"hazchem_amount", "controlled_chemicals", "biosafety_level", "typo", "radiation"} <= set(errors)
    _, errors = SHIPPED.clean_answers(["not", "a", "dict"])
    assert "answers" in errors
    _, errors = SHIPPED.clean_answers(NOTHING | {"hazchem_amount": float("nan")})
    assert "hazchem_amount" in errors


def test_cadence_and_checklists_by_grade(app):
    with app.app_context():
        assert (risk.default_cadence("I").key, risk.default_cadence("I").days) == ("weekly", 7)
        assert risk.default_cadence(RiskLevel.II).key == "fortnightly"
        assert risk.default_cadence("III").key == risk.default_cadence("IV").key == "monthly"
        assert risk.default_cadence(None).key == "monthly"  # not graded: art. 28's monthly check
        assert risk.checklist_keys("I") == risk.checklist_keys("II") == ("full", "hazchem", "fire")
        assert risk.checklist_keys("III") == risk.checklist_keys("IV") == risk.checklist_keys(None) == ("full",)


def test_every_grades_checklist_is_a_shipped_list():
    shipped = {p.stem for p in CHECKLIST_DIR.glob("*.toml")}
    for level in RiskLevel:
        assert set(SHIPPED.checklist_keys(level)) <= shipped


def test_nameplate_band():
    assert risk.nameplate_band(None) is None
    band = risk.nameplate_band("I")
    assert (band["colour"], band["colour_zh"], band["roman"]) == ("red", "红", "Ⅰ")
    assert [risk.nameplate_band(level)["colour_zh"] for level in ("II", "III", "IV")] == ["橙", "黄", "蓝"]


GOOD = risk.DEFAULT_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('level = "I"\nwhen = [{ answer = "controlled_chemicals"', 'level = "V"\nwhen = [{ answer = '
                                                                                    '"controlled_chemicals"'),
     "'level' must be one of I, II, III, IV"),
    (lambda t: t.replace('answer = "controlled_chemicals", is = true', 'answer = "controled", is = true'),
     "'answer' must name a question"),
    (lambda t: t.replace('articles = ["16(2)", "9(2)"]', 'articles = ["16（2）"]', 1), "is not an article reference"),
    (lambda t: t.replace('articles = ["16(1)"]', 'articles = ["16(3)"]', 1), "article 16 has no clause (3)"),
    (lambda t: t.replace('cadence = "weekly"', 'cadence = "daily"'), "'cadence' must be one of"),
    (lambda t: t.replace("[grades.IV]", "[grades.V]"), "grades.IV: missing"),
    (lambda t: t.replace('when = [{ answer = "hazchem_amount", at_least = 500 }]',
                         'when = [{ answer = "hazchem_amount", is = true }]'), "a number question is tested with"),
    (lambda t: t.replace('in = ["bsl3"]', 'in = ["bsl5"]'), "'in' must list some of"),
    (lambda t: t.replace('hazard_tags_any = ["highly_toxic", "explosive_precursor"]', 'hazard_tags_any = ["toxic"]'),
     "'hazard_tags_any' must list some of"),
    (lambda t: t.replace('reason_en = "Class 3R lasers in use"', 'reason_en = "x"\ncolour = "red"'),
     "unknown field 'colour'"),
    (lambda t: t.replace('id = "iii-laser"', 'id = "iii-bsl1"'), "rule 'iii-bsl1': duplicate id"),
    (lambda t: t.replace("教科信〔2024〕4号）\"", "\"", 1).replace("2024", "20XX", 1), "must cite the MOE 2024"),
    (lambda t: t + "\n[[rules]\n", "TOML syntax error"),
])
def test_a_bad_file_is_refused_naming_the_problem(edit, message):
    text = edit(GOOD)
    assert text != GOOD
    with pytest.raises(RiskRulesError) as err:
        parse_rules(text)
    assert any(message in e for e in err.value.errors), err.value.errors


def test_the_app_does_not_start_on_a_bad_rules_file(tmp_path):
    bad = tmp_path / "risk_grading.toml"
    bad.write_text(GOOD.replace('cadence = "weekly"', 'cadence = "hourly"'), encoding="utf-8")
    with pytest.raises(RiskRulesError, match="cadence"):
        create_app("testing", RISK_GRADING_FILE=str(bad), SQLALCHEMY_DATABASE_URI="sqlite://",
                   INSTANCE_PATH=str(tmp_path / "i"))
    with pytest.raises(RiskRulesError, match="no such file"):
        create_app("testing", RISK_GRADING_FILE=str(tmp_path / "missing.toml"), SQLALCHEMY_DATABASE_URI="sqlite://",
                   INSTANCE_PATH=str(tmp_path / "i"))


def test_checklist_check_does_not_read_the_rules_as_a_list():
    from app.checklists.loader import parse_directory

    result = parse_directory(CHECKLIST_DIR)
    assert result.errors == [] and "risk_grading" not in {s.key for s in result.specs}
