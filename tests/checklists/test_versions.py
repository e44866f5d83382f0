"""Versioning: loading is idempotent; an edit makes a new version; old inspections keep their questions."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select

from app.auth.models import Role
from app.checklists import services
from app.checklists.models import ChecklistItem, ChecklistVersion
from app.extensions import db
from app.inspections.models import AnswerResult, Inspection, InspectionAnswer, InspectionLevel
from tests.factories import checklist_toml, load_shipped_checklists, login, make_lab, make_user
from tests.factories.checklists import SYNTHETIC_ITEMS


def _versions():
    return db.session.scalar(select(func.count()).select_from(ChecklistVersion))


def test_loading_the_shipped_files_twice_creates_nothing_the_second_time(app, runner):
    first = load_shipped_checklists()
    assert sorted(k for k, n in first.created) == ["daily", "fire", "full", "hazchem"]
    count = _versions()
    items = db.session.scalar(select(func.count()).select_from(ChecklistItem))
    second = load_shipped_checklists()
    assert second.created == [] and not second.changed
    assert sorted(second.unchanged) == ["daily", "fire", "full", "hazchem"]
    result = runner.invoke(args=["checklists", "load"])
    assert result.exit_code == 0 and "new version" not in result.output
    db.session.expire_all()
    assert _versions() == count
    assert db.session.scalar(select(func.count()).select_from(ChecklistItem)) == items


def test_cosmetic_changes_do_not_make_a_version(app, tmp_path):
    path = tmp_path / "a.toml"
    path.write_text(checklist_toml(), encoding="utf-8")
    services.load_directory(tmp_path, db.session)
    items = [dict(i) for i in SYNTHETIC_ITEMS]
    items[2]["hazard_tags"] = list(reversed(items[2]["hazard_tags"]))
    text = "# 注释\n\n" + checklist_toml(items=items).replace("\n[[items]]", "\n\n# section\n[[items]]")
    path.write_text(text, encoding="utf-8")
    report = services.load_directory(tmp_path, db.session)
    assert report.unchanged == ["a"] and _versions() == 1


def test_editing_a_list_creates_a_new_version_and_reverting_restores_the_old(app, tmp_path):
    path = tmp_path / "a.toml"
    path.write_text(checklist_toml(), encoding="utf-8")
    services.load_directory(tmp_path, db.session)
    v1 = services.current_version("a")
    items = [dict(i) for i in SYNTHETIC_ITEMS]
    items[0]["text"] = "疏散通道、安全出口畅通"
    path.write_text(checklist_toml(items=items), encoding="utf-8")
    report = services.load_directory(tmp_path, db.session)
    assert report.created == [("a", 2)]
    v2 = services.current_version("a")
    assert v2.id != v1.id and v2.number == 2
    assert [i.item_key for i in v2.items] == [i.item_key for i in v1.items]  # stable ids
    assert v2.items[0].id != v1.items[0].id  # items are immutable per version
    assert services.get_version(v1.id).items[0].text == "疏散通道畅通"
    path.write_text(checklist_toml(), encoding="utf-8")
    report = services.load_directory(tmp_path, db.session)
    assert report.restored == [("a", 1)] and report.created == []
    assert services.current_version("a").id == v1.id


def test_a_removed_file_is_retired_but_its_versions_stay(app, tmp_path):
    (tmp_path / "a.toml").write_text(checklist_toml(), encoding="utf-8")
    (tmp_path / "b.toml").write_text(checklist_toml(kind="special"), encoding="utf-8")
    services.load_directory(tmp_path, db.session)
    vb = services.current_version("b")
    (tmp_path / "b.toml").unlink()
    report = services.load_directory(tmp_path, db.session)
    assert report.retired == ["b"]
    assert services.get_version(vb.id).items
    import pytest

    from app.errors import NotFound

    with pytest.raises(NotFound):
        services.current_version("b")


def test_an_old_inspection_still_shows_the_questions_it_answered(app, client, tmp_path):
    path = tmp_path / "full.toml"
    path.write_text(checklist_toml(), encoding="utf-8")
    services.load_directory(tmp_path, db.session)
    v1 = services.current_version("full")
    lab = make_lab(category="chemistry", hazard_tags=["highly_toxic"])
    officer = make_user(Role.lab_officer, lab=lab)
    inspector = make_user(Role.inspector)
    v1_items = services.items_for_lab(v1, lab)
    inspection = Inspection(
        uuid=str(uuid.uuid4()), payload_hash="0" * 64, lab_id=lab.id, checklist_version_id=v1.id,
        level=InspectionLevel.school, inspector_id=inspector.id,
        started_at=datetime(2026, 11, 2, 1, 0), finished_at=datetime(2026, 11, 2, 1, 30),
    )
    db.session.add(inspection)
    db.session.flush()
    for pos, item in enumerate(v1_items, start=1):
        db.session.add(InspectionAnswer(inspection_id=inspection.id, item_id=item.id, position=pos,
                                        result=AnswerResult.passed if pos > 1 else AnswerResult.failed))
    db.session.commit()
    answered = {i.id: (i.article, i.text) for i in v1_items}

    # The safety office rewords an item and drops another; the list is reloaded.
    items = [dict(i) for i in SYNTHETIC_ITEMS if i["id"] != "tidy"]
    items[0]["text"] = "疏散通道、安全出口、消防车通道均畅通"
    items[1]["article"] = "16(1)"
    path.write_text(checklist_toml(items=items), encoding="utf-8")
    assert services.load_directory(tmp_path, db.session).created == [("full", 2)]
    assert services.current_version("full").number == 2

    db.session.expire_all()
    answers = db.session.scalars(select(InspectionAnswer).where(InspectionAnswer.inspection_id == inspection.id)).all()
    resolved = services.items_by_ids(a.item_id for a in answers)
    assert {i: (it.article, it.text) for i, it in resolved.items()} == answered
    assert all(it.version_id == v1.id for it in resolved.values())

    # The inspections domain's page shows the questions exactly as answered.
    login(client, officer)
    page = client.get(f"/inspections/{inspection.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "疏散通道畅通" in html and "整洁" in html
    assert "消防车通道均畅通" not in html
    # And the version itself stays readable through the API.
    body = client.get(f"/api/checklist-versions/{v1.id}").get_json()
    assert body["version"] == 1 and body["current"] is False
    assert [i["text"] for i in body["items"]][0] == "疏散通道畅通"
