"""Bad files are rejected with a message naming the file, the item and the field; nothing is stored."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.checklists import services
from app.checklists.loader import ChecklistFileError, article_label, parse_article, parse_text
from app.checklists.models import Checklist, ChecklistItem, ChecklistVersion
from app.extensions import db
from tests.factories import checklist_toml
from tests.factories.checklists import SYNTHETIC_ITEMS


def _items(**changes_to_second):
    items = [dict(i) for i in SYNTHETIC_ITEMS]
    items[1].update(changes_to_second)
    return [{k: v for k, v in i.items() if v is not None} for i in items]


def _only_error(text, file="bad.toml"):
    spec, errors = parse_text(text, file)
    assert spec is None
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize(
    "changes, field, fragment",
    [
        ({"colour": "red"}, "colour", "unknown field"),
        ({"article": None}, "article", "missing"),
        ({"article": "16（2）"}, "article", "not an article reference"),
        ({"article": "第16条"}, "article", "not an article reference"),
        ({"article": "30"}, "article", "outside chapter 3"),
        ({"article": "16(3)"}, "article", "(1) to (2)"),
        ({"article": "22(1)"}, "article", "no numbered clauses"),
        ({"categories": ["chemistry", "astrology"]}, "categories", "unknown category 'astrology'"),
        ({"hazard_tags": ["toxic"]}, "hazard_tags", "unknown hazard tag 'toxic'"),
        ({"severity": "critical"}, "severity", "general\" or \"major"),
        ({"severity": None}, "severity", "missing"),
        ({"photo_required": "yes"}, "photo_required", "true or false"),
        ({"department": "police"}, "department", "unknown department"),
        ({"text": "   "}, "text", "blank"),
        ({"id": "Has Spaces"}, "id", "lower-case"),
        # Scoring (README "Scores and grades").
        ({"weight": 0}, "weight", "from 1 to 100"),
        ({"weight": 101}, "weight", "from 1 to 100"),
        ({"weight": "2"}, "weight", "whole number"),
        ({"weight": 2.5}, "weight", "whole number"),
        ({"weight": True}, "weight", "whole number"),
        ({"must_pass": "true"}, "must_pass", "true or false"),
        ({"stars": 4}, "stars", "1, 2 or 3"),
        ({"stars": 0}, "stars", "1, 2 or 3"),
        ({"stars": "★★★"}, "stars", "whole number"),
    ],
)
def test_each_bad_item_names_file_item_and_field(changes, field, fragment):
    err = _only_error(checklist_toml(items=_items(**changes)))
    assert err.file == "bad.toml"
    assert err.field == field
    assert fragment in err.message
    message = str(err)
    assert message.startswith("bad.toml, item ")
    assert f"field '{field}'" in message
    if changes.get("id") is None and field != "id":
        assert "'five-doubles' (#2)" in message  # the item by id and position
    else:
        assert "#2" in message


def test_missing_id_names_the_item_by_position():
    items = _items()
    del items[1]["id"]
    err = _only_error(checklist_toml(items=items))
    assert (err.item, err.field) == ("#2", "id")
    assert "missing" in err.message


def test_duplicate_id_within_a_file():
    items = _items(id="exits")
    err = _only_error(checklist_toml(items=items))
    assert (err.item, err.field) == ("'exits' (#2)", "id")
    assert "duplicate id" in err.message and "#1" in err.message


def test_toml_syntax_error_names_the_file_and_line():
    err = _only_error('kind = "full"\ntitle = "未闭合\n', file="broken.toml")
    assert err.file == "broken.toml"
    assert "TOML syntax error" in err.message and "line" in err.message


def test_list_level_errors_name_the_field():
    spec, errors = parse_text(checklist_toml(kind="weekly"), "x.toml")
    assert [(e.item, e.field) for e in errors] == [(None, "kind")]
    spec, errors = parse_text(
        'kind = "full"\ntitle = "t"\nowner = "me"\n[[items]]\nid="a"\narticle="12"\ntext="t"\nseverity="general"\n',
        "x.toml",
    )
    assert {e.field for e in errors} == {"owner"}
    spec, errors = parse_text('kind = "full"\ntitle = "t"\n', "x.toml")
    assert [(e.field, e.message) for e in errors] == [("items", "missing (this field is required)")]


def test_several_errors_are_all_reported():
    items = _items(colour="red", severity="bad")
    items[0]["article"] = "99"
    spec, errors = parse_text(checklist_toml(items=items), "many.toml")
    assert {(e.item, e.field) for e in errors} == {
        ("'exits' (#1)", "article"), ("'five-doubles' (#2)", "colour"), ("'five-doubles' (#2)", "severity")}


def test_bad_file_name_is_rejected():
    spec, errors = parse_text(checklist_toml(), "Daily List.toml")
    assert spec is None and "file name" in errors[0].message


def test_article_parsing_and_labels():
    assert parse_article("16(2)") == (16, 2)
    assert parse_article("22") == (22, None)
    assert article_label("16(2)") == "第十六条（二）"
    assert article_label("24(8)") == "第二十四条（八）"
    assert article_label("12") == "第十二条"
    assert article_label("20") == "第二十条"


def test_cli_check_fails_on_each_kind_of_bad_file(runner, tmp_path):
    (tmp_path / "good.toml").write_text(checklist_toml(), encoding="utf-8")
    (tmp_path / "unknown.toml").write_text(checklist_toml(items=_items(colour="red")), encoding="utf-8")
    (tmp_path / "noarticle.toml").write_text(checklist_toml(items=_items(article=None)), encoding="utf-8")
    (tmp_path / "dup.toml").write_text(checklist_toml(items=_items(id="exits")), encoding="utf-8")
    (tmp_path / "category.toml").write_text(checklist_toml(items=_items(categories=["astrology"])), encoding="utf-8")
    (tmp_path / "syntax.toml").write_text("kind = \n", encoding="utf-8")
    result = runner.invoke(args=["checklists", "check", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    out = result.output
    assert "unknown.toml, item 'five-doubles' (#2), field 'colour': unknown field" in out
    assert "noarticle.toml, item 'five-doubles' (#2), field 'article': missing" in out
    assert "dup.toml, item 'exits' (#2), field 'id': duplicate id" in out
    assert "category.toml, item 'five-doubles' (#2), field 'categories':" in out
    assert "syntax.toml: TOML syntax error" in out
    assert "good.toml" not in out
    assert "5 problem(s)" in out


def _counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(m)) for m in (Checklist, ChecklistVersion, ChecklistItem)
    )


def test_load_writes_nothing_when_any_file_is_bad(app, runner, tmp_path):
    (tmp_path / "good.toml").write_text(checklist_toml(), encoding="utf-8")
    (tmp_path / "bad.toml").write_text(checklist_toml(items=_items(severity="huge")), encoding="utf-8")
    with pytest.raises(ChecklistFileError) as exc:
        services.load_directory(tmp_path, db.session)
    assert "bad.toml, item 'five-doubles' (#2), field 'severity'" in str(exc.value)
    assert _counts() == (0, 0, 0)
    result = runner.invoke(args=["checklists", "load", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "nothing was loaded" in result.output
    db.session.expire_all()
    assert _counts() == (0, 0, 0)


def test_a_bad_edit_keeps_the_old_version_in_service(app, tmp_path):
    (tmp_path / "a.toml").write_text(checklist_toml(), encoding="utf-8")
    services.load_directory(tmp_path, db.session)
    before = services.current_version("a").id
    (tmp_path / "a.toml").write_text(checklist_toml(title="改了"), encoding="utf-8")
    (tmp_path / "b.toml").write_text("not toml at all", encoding="utf-8")
    with pytest.raises(ChecklistFileError):
        services.load_directory(tmp_path, db.session)
    assert services.current_version("a").id == before
    assert _counts() == (1, 1, len(SYNTHETIC_ITEMS))


def test_files_saved_by_windows_editors_load(app, tmp_path):
    # A byte-order mark and CRLF line endings (Notepad), and a bare article number.
    items = [dict(i) for i in SYNTHETIC_ITEMS]
    text = checklist_toml(items=items).replace('article = "23(1)"', "article = 22")
    (tmp_path / "win.toml").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    report = services.load_directory(tmp_path, db.session)
    assert report.created == [("win", 1)]
    assert services.current_version("win").items[0].article == "22"


def test_non_utf8_and_non_table_items_are_reported(tmp_path):
    from app.checklists.loader import parse_directory

    (tmp_path / "gbk.toml").write_bytes(checklist_toml().encode("gbk"))
    (tmp_path / "flat.toml").write_text('kind = "full"\ntitle = "t"\nitems = ["a"]\n', encoding="utf-8")
    (tmp_path / "blank.toml").write_text(checklist_toml(title="  "), encoding="utf-8")
    errors = {e.file: e for e in parse_directory(tmp_path).errors}
    assert "UTF-8" in errors["gbk.toml"].message
    assert errors["flat.toml"].field == "items" and "[[items]]" in errors["flat.toml"].message
    assert errors["blank.toml"].field == "title"


def test_an_empty_directory_is_an_error(runner, tmp_path):
    result = runner.invoke(args=["checklists", "check", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "no checklist files" in result.output


def test_a_red_line_item_must_be_major():
    err = _only_error(checklist_toml(items=_items(must_pass=True, id="tidy2", severity="general")))
    assert err.field == "must_pass" and 'severity = "major"' in err.message


def test_scoring_fields_are_read_and_default():
    spec, errors = parse_text(checklist_toml(items=_items(weight=3, must_pass=True, stars=3)), "x.toml")
    assert not errors
    first, second = spec.items[0], spec.items[1]
    assert "weight" not in first and "must_pass" not in first  # defaults: not part of the content
    assert (second["weight"], second["must_pass"], second["stars"]) == (3, True, 3)


def test_unused_scoring_fields_keep_the_content_hash_so_no_new_version():
    """A file that does not use weight, must_pass or stars hashes as before they existed; writing the
    defaults out makes no new version either. Changing one does."""
    plain, _ = parse_text(checklist_toml(), "x.toml")
    defaults, _ = parse_text(checklist_toml(items=_items(weight=1, must_pass=False)), "x.toml")
    heavier, _ = parse_text(checklist_toml(items=_items(weight=2)), "x.toml")
    red, _ = parse_text(checklist_toml(items=_items(must_pass=True)), "x.toml")
    assert plain.content_hash == defaults.content_hash
    assert len({plain.content_hash, heavier.content_hash, red.content_hash}) == 3


def test_scoring_fields_are_stored_per_version(app, tmp_path):
    from tests.factories.checklists import make_checklist

    v1 = make_checklist("scored", tmp_path, items=_items(weight=4, stars=2))
    v2 = make_checklist("scored", tmp_path, items=_items(weight=1, must_pass=True))
    assert (v1.number, v2.number) == (1, 2)
    by_key = {v.number: {i.item_key: i for i in v.items} for v in (v1, v2)}
    assert (by_key[1]["five-doubles"].weight, by_key[1]["five-doubles"].must_pass, by_key[1]["five-doubles"].stars) \
        == (4, False, 2)
    assert (by_key[2]["five-doubles"].weight, by_key[2]["five-doubles"].must_pass, by_key[2]["five-doubles"].stars) \
        == (1, True, None)
    assert (by_key[2]["tidy"].weight, by_key[2]["tidy"].must_pass) == (1, False)
    snapshot = services.version_snapshot(v1.id)
    item = next(i for i in snapshot.items if i.item_key == "five-doubles")
    assert (item.weight, item.must_pass, item.stars) == (4, False, 2)
    assert snapshot.item_json[item.id]["weight"] == 4 and snapshot.item_json[item.id]["stars"] == 2
