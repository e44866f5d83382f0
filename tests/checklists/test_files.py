"""The shipped checklist files: valid, complete (art. 12-24), applicable by category and hazard."""
from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest

from app.checklists import services
from app.checklists.loader import ARTICLE_CLAUSES, parse_article, parse_directory
from tests.factories import load_shipped_checklists
from tests.factories.checklists import SHIPPED_DIR


@pytest.fixture
def shipped(app):
    load_shipped_checklists()


def _lab(category, tags=()):
    # items_for_lab only reads category and hazard_tags.
    return SimpleNamespace(category=category, hazard_tags=list(tags))


def test_flask_checklists_check_passes_on_shipped_files(runner):
    result = runner.invoke(args=["checklists", "check"])
    assert result.exit_code == 0, result.output
    assert "all valid" in result.output


def test_shipped_files_parse_without_errors():
    parsed = parse_directory(SHIPPED_DIR)
    assert parsed.errors == []
    kinds = Counter(s.kind for s in parsed.specs)
    assert kinds["daily"] == 1 and kinds["full"] >= 1 and kinds["special"] >= 1


def test_at_least_100_items_and_a_dozen_daily_items():
    specs = {s.key: s for s in parse_directory(SHIPPED_DIR).specs}
    assert sum(len(s.items) for s in specs.values()) >= 100
    assert 10 <= len(specs["daily"].items) <= 20  # "a dozen quick items"


def test_every_article_12_to_24_is_covered_by_the_full_list():
    specs = {s.key: s for s in parse_directory(SHIPPED_DIR).specs}
    covered = {parse_article(i["article"])[0] for i in specs["full"].items}
    assert covered == set(range(12, 25)) == set(ARTICLE_CLAUSES)


def test_every_numbered_clause_of_chapter_3_is_covered_by_the_full_list():
    specs = {s.key: s for s in parse_directory(SHIPPED_DIR).specs}
    cited = {parse_article(i["article"]) for i in specs["full"].items}
    for art, clauses in ARTICLE_CLAUSES.items():
        for sub in range(1, clauses + 1):
            assert (art, sub) in cited, f"art. {art}({sub}) has no item"


def test_daily_list_covers_the_art_29_walk_round():
    daily = {s.key: s for s in parse_directory(SHIPPED_DIR).specs}["daily"]
    articles = {i["article"] for i in daily.items}
    # shut-off on leaving, exits and extinguishers, chemicals, waste, unattended, eating, tidy
    assert {"24(8)", "23(1)", "16(2)", "17(2)", "24(5)", "24(6)", "24(7)"} <= articles


def test_every_item_has_english_text():
    for spec in parse_directory(SHIPPED_DIR).specs:
        assert spec.title_en
        for item in spec.items:
            assert item["text_en"], f"{spec.key}:{item['id']}"


def test_general_computer_lab_gets_no_biosafety_or_five_doubles(shipped):
    full = services.current_version("full")
    items = services.items_for_lab(full, _lab("general"))
    assert items, "a computer lab still has general items"
    assert not [i for i in items if i.article.startswith("19")]
    assert not [i for i in items if "五双" in i.text]
    assert not [i for i in items if i.hazard_tags]


def test_chemistry_lab_with_highly_toxic_gets_five_doubles_but_no_biosafety(shipped):
    full = services.current_version("full")
    items = services.items_for_lab(full, _lab("chemistry", ["hazardous_chemicals", "highly_toxic"]))
    five = [i for i in items if "五双" in i.text]
    assert len(five) == 5 and {i.article for i in five} == {"16(2)"}
    assert not [i for i in items if i.article.startswith("19")]
    # Without highly toxic chemicals the five doubles disappear.
    plain = services.items_for_lab(full, _lab("chemistry", ["hazardous_chemicals"]))
    assert not [i for i in plain if "五双" in i.text]
    assert len(plain) < len(items)


def test_biology_lab_with_pathogens_gets_biosafety(shipped):
    full = services.current_version("full")
    items = services.items_for_lab(full, _lab("biology", ["pathogens"]))
    bio = {i.article for i in items if i.article.startswith("19")}
    assert {"19(1)", "19(2)", "19(3)"} <= bio
    assert "19(4)" not in bio  # lab animals only where there are animals
    with_animals = services.items_for_lab(full, _lab("biology", ["pathogens", "lab_animals"]))
    assert "19(4)" in {i.article for i in with_animals}


def test_special_equipment_items_only_where_there_is_special_equipment(shipped):
    full = services.current_version("full")
    assert not [i for i in services.items_for_lab(full, _lab("mechanical")) if i.article.startswith("18")]
    assert [
        i for i in services.items_for_lab(full, _lab("mechanical", ["special_equipment"])) if i.article.startswith("18")
    ]
    # A chemistry lab with a pressure vessel gets art. 18 too.
    assert [
        i for i in services.items_for_lab(full, _lab("chemistry", ["special_equipment"])) if i.article.startswith("18")
    ]


def test_chemistry_only_rules_stay_in_chemistry(shipped):
    full = services.current_version("full")
    keys = lambda lab: {i.item_key for i in services.items_for_lab(full, lab)}  # noqa: E731
    assert "elec-no-open-element" in keys(_lab("chemistry"))  # art. 21(4)
    assert "elec-no-open-element" not in keys(_lab("physics"))


def test_department_routing_follows_the_article_with_explicit_override(shipped):
    full = services.current_version("full")
    by_key = {i.item_key: i for i in full.items}
    assert services.department_for(by_key["fire-exits"]) == "security"  # art. 23
    assert services.department_for(by_key["fac-eyewash"]) == "security"  # art. 22
    assert services.department_for(by_key["elec-rcd"]) == "assets"  # art. 21
    assert services.department_for(by_key["chem-labels"]) == "lab_management"  # art. 16
    assert services.department_for(by_key["chem-controlled-purchase"]) == "security"  # purchase, art. 9
    assert services.department_for({"article": "21(1)", "department": "lab_management"}) == "lab_management"
    assert services.department_for({"article": "24(7)"}) == "lab_management"
    assert services.department_for(by_key["review-construction"]) == "assets"  # building works, 14(2)
    # A purchase item the safety office forgot to mark still reaches the security office.
    assert (
        services.department_for({"article": "16(1)", "text": "剧毒品购买经审批", "hazard_tags": ["highly_toxic"]})
        == "security"
    )
    assert (
        services.department_for({"article": "16(1)", "text": "危化品采购", "hazard_tags": ["hazardous_chemicals"]})
        == "lab_management"
    )


def test_every_shipped_purchase_item_of_controlled_chemicals_routes_to_security(shipped):
    from app.checklists.services import CONTROLLED_CHEMICAL_TAGS, current_versions

    found = 0
    for version in current_versions():
        for item in version.items:
            if ("购买" in item.text or "采购" in item.text) and set(item.hazard_tags) <= CONTROLLED_CHEMICAL_TAGS:
                found += 1
                assert services.department_for(item) == "security", item.item_key
    assert found >= 2


# Red lines (README "Red-line items"): the regulation's hardest rules, each cited in the README.
RED_LINES = {
    "full": {"access-no-unqualified": "13(3)", "chem-five-double-keepers": "16(2)", "chem-five-double-collect": "16(2)",
             "chem-five-double-use": "16(2)", "chem-five-double-locks": "16(2)", "chem-five-double-ledgers": "16(2)",
             "special-no-homemade": "18(1)", "special-registered": "18(2)", "special-operators-certified": "18(2)",
             "bio-not-in-ordinary-lab": "19(2)", "bio-pathogens-right-level": "19(3)"},
    "hazchem": {"hc-five-doubles": "16(2)"},
    "daily": {},
    "fire": {},
}


def test_shipped_red_lines_are_the_regulations_hardest_rules_and_the_readme_says_why():
    from app.checklists.loader import parse_directory
    from tests.factories.checklists import SHIPPED_DIR

    readme = (SHIPPED_DIR / "README.md").read_text(encoding="utf-8")
    specs = {s.key: s for s in parse_directory(SHIPPED_DIR).specs}
    for key, expected in RED_LINES.items():
        red = {i["id"]: i for i in specs[key].items if i.get("must_pass")}
        assert {k: i["article"] for k, i in red.items()} == expected, key
        for item_id, item in red.items():
            assert item["severity"] == "major" and item.get("stars") == 3
            stem = item_id.rsplit("-", 1)[0] if item_id.startswith("chem-five-double") else item_id
            assert stem in readme and f"| {item['article']} |" in readme, item_id
