"""The checklists JSON API (contract: GET /api/labs/<id>/checklists[/<key>], /api/checklist-versions/<id>)."""
from __future__ import annotations

import pytest

from app.auth.models import Role
from app.checklists import services
from tests.factories import load_shipped_checklists, login, make_college, make_lab, make_user


@pytest.fixture
def world(app):
    load_shipped_checklists()
    a, b = make_college(), make_college()
    chem = make_lab(a, category="chemistry", hazard_tags=["hazardous_chemicals", "highly_toxic"])
    computer = make_lab(a, category="general")
    bio = make_lab(b, category="biology", hazard_tags=["pathogens"])
    return a, b, chem, computer, bio


def test_lab_checklists_lists_what_this_user_may_run(client, world):
    a, b, chem, computer, bio = world
    login(client, make_user(Role.inspector))
    body = client.get(f"/api/labs/{chem.id}/checklists").get_json()
    by_key = {c["key"]: c for c in body}
    assert set(by_key) == {"full", "fire", "hazchem"}
    full = by_key["full"]
    assert full == {"key": "full", "kind": "full", "title": "实验室安全检查表", "title_en": full["title_en"],
                    "version_id": services.current_version("full").id, "levels": ["school"]}


def test_lab_officer_sees_the_daily_check(client, world):
    a, b, chem, computer, bio = world
    login(client, make_user(Role.lab_officer, lab=chem))
    body = client.get(f"/api/labs/{chem.id}/checklists").get_json()
    assert [(c["key"], c["levels"]) for c in body] == [("daily", ["daily"])]


def test_lab_checklist_is_filtered_to_the_lab(client, world):
    a, b, chem, computer, bio = world
    login(client, make_user(Role.inspector, college=a))
    chem_body = client.get(f"/api/labs/{chem.id}/checklists/full").get_json()
    comp_body = client.get(f"/api/labs/{computer.id}/checklists/full").get_json()
    assert chem_body["key"] == "full" and chem_body["kind"] == "full"
    assert chem_body["levels"] == ["college"]
    assert chem_body["version_id"] == services.current_version("full").id
    item = chem_body["items"][0]
    assert set(item) >= {"id", "item_key", "article", "text", "text_en", "severity", "photo_required"}
    assert item["severity"] in ("general", "major") and isinstance(item["photo_required"], bool)
    chem_keys = {i["item_key"] for i in chem_body["items"]}
    comp_keys = {i["item_key"] for i in comp_body["items"]}
    assert "chem-five-double-locks" in chem_keys and "chem-five-double-locks" not in comp_keys
    assert not [i for i in comp_body["items"] if i["article"].startswith("19")]
    assert "instr-computer-room" in comp_keys and "instr-computer-room" not in chem_keys
    assert len(comp_body["items"]) < len(chem_body["items"]) < len(services.current_version("full").items)


def test_biology_lab_list_has_biosafety_for_the_school_inspector(client, world):
    a, b, chem, computer, bio = world
    login(client, make_user(Role.inspector))
    body = client.get(f"/api/labs/{bio.id}/checklists/full").get_json()
    assert any(i["article"].startswith("19") for i in body["items"])
    assert not any("五双" in i["text"] for i in body["items"])


def test_version_endpoint_returns_every_item(client, world):
    login(client, make_user(Role.lab_officer, lab=world[2]))
    version = services.current_version("full")
    body = client.get(f"/api/checklist-versions/{version.id}").get_json()
    assert body["version_id"] == version.id and body["key"] == "full"
    assert len(body["items"]) == len(version.items)
    assert [i["id"] for i in body["items"]] == [i.id for i in version.items]


def test_access_and_not_found(client, world):
    a, b, chem, computer, bio = world
    assert client.get(f"/api/labs/{chem.id}/checklists").status_code == 401
    login(client, make_user(Role.inspector, college=a))
    other = client.get(f"/api/labs/{bio.id}/checklists")
    assert other.status_code == 403 and other.get_json()["error"]["code"]
    assert client.get(f"/api/labs/{bio.id}/checklists/full").status_code == 403
    # Another college's lab is refused before revealing whether a list exists.
    assert client.get(f"/api/labs/{bio.id}/checklists/nope").status_code == 403
    missing = client.get(f"/api/labs/{chem.id}/checklists/nope")
    assert missing.status_code == 404 and missing.get_json()["error"]["status"] == 404
    assert client.get("/api/labs/999999/checklists").status_code == 404
    assert client.get("/api/checklist-versions/999999").status_code == 404


def test_openapi_documents_the_checklist_routes(client, world):
    login(client, make_user(Role.school_admin))
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/labs/{lab_id}/checklists", "/api/labs/{lab_id}/checklists/{key}",
                 "/api/checklist-versions/{version_id}"):
        op = paths[path]["get"]
        assert "200" in op["responses"] and "404" in op["responses"] and "403" in op["responses"]


def test_lab_checklist_body_equals_the_schema_dump(client, world):
    # The hot path builds its header by hand (schemas.lab_checklist_header): same as LabChecklistSchema.
    from app.checklists.schemas import LabChecklistSchema
    from app.checklists.services import allowed_levels, items_for_lab

    a, b, chem, computer, bio = world
    for user, labs in ((make_user(Role.inspector, college=a), (chem, computer)),
                       (make_user(Role.inspector), (bio, chem))):
        login(client, user)
        for lab in labs:
            resp = client.get(f"/api/labs/{lab.id}/checklists/full")
            version = services.current_version("full")
            schema_body = LabChecklistSchema(exclude=("levels",)).dump(
                _VersionView(version, items_for_lab(version, lab))
            )
            schema_body["levels"] = allowed_levels(user, lab, version.checklist.kind)
            assert schema_body["levels"] and resp.get_json() == schema_body


class _VersionView:
    """A version restricted to a lab's items, as the schema reads it."""

    def __init__(self, version, items):
        self.checklist, self.id, self.number = version.checklist, version.id, version.number
        self.title, self.title_en, self.items = version.title, version.title_en, items
