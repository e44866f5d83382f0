"""An answer's photo not on the server yet reads "evidence arriving" (the shared placeholder of
templates/_evidence.html), never a broken image; one that arrived is a thumbnail."""
from __future__ import annotations

from flask import current_app

from app.inspections.schemas import InspectionInSchema
from app.inspections.services import submit_inspection
from app.photos.services import store_photo
from tests.factories import login, photo_bytes
from tests.factories.inspections import (
    applicable_items,
    inspection_payload,
    make_checklist_version,
    make_small_world,
    new_uuid,
)


def test_a_missing_answer_photo_shows_evidence_arriving(app, client):
    w = make_small_world()
    version = make_checklist_version("full")
    first, second = applicable_items(version, w.lab_a)[:2]
    here, later = new_uuid(), new_uuid()
    store_photo(w.inspector_a, here, photo_bytes(seed=1), current_app.config)
    data = InspectionInSchema().load(inspection_payload(
        w.lab_a, version, results={first.id: "fail", second.id: "fail"}, photos={first.id: [here], second.id: [later]}))
    inspection = submit_inspection(w.inspector_a, data, current_app.config).inspection
    login(client, w.inspector_a)
    page = client.get(f"/inspections/{inspection.id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert f"/photos/{here}/thumb" in page
    assert f'data-photo="{later}"' in page and "证据上传中" in page
    assert f"/photos/{later}/thumb" not in page
