"""Signatures sent with an inspection (issue 23): drawn PNGs re-encoded, refusals with a reason,
part of the submitted content (a replay is exactly-once), never changed or deleted (art. 30)."""
from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.inspections import services
from app.inspections.models import Inspection, InspectionDeletionRefused, InspectionSignature, SignatureRole
from app.photos import signatures
from tests.factories import login
from tests.factories.inspections import (
    inspection_payload,
    make_small_world,
    signature_data_url,
    signatures_payload,
)


@pytest.fixture
def w(app):
    return make_small_world()


def submit(client, w, signatures, **kwargs):
    login(client, w.inspector_a)
    body = inspection_payload(w.lab_a, w.full, **kwargs)
    body["signatures"] = signatures
    return body, client.post("/api/inspections?lang=en", json=body)


def stored():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(InspectionSignature))


def test_both_signatures_are_stored_as_re_encoded_pngs(client, w):
    body, r = submit(client, w, signatures_payload())
    assert r.status_code == 201, r.get_json()
    rows = services.signatures_of(r.get_json()["id"])
    assert [(s.role, s.name, s.refused) for s in rows] == [
        (SignatureRole.inspector, "王检查", False), (SignatureRole.lab_representative, "李代表", False)]
    for row in rows:
        with Image.open(io.BytesIO(row.png)) as img:
            assert img.format == "PNG" and img.size == (300, 120)
        assert row.signed_at is not None


def test_a_refusal_is_stored_with_its_reason(client, w):
    _body, r = submit(client, w, signatures_payload(refusal="不同意检查结论"))
    assert r.status_code == 201, r.get_json()
    rep = services.signatures_of(r.get_json()["id"])[1]
    assert rep.refused and rep.reason == "不同意检查结论" and rep.png is None


def test_the_inspection_says_who_signed_and_who_refused(client, w):
    _body, r = submit(client, w, signatures_payload(refusal="不同意"))
    got = client.get(f"/api/inspections/{r.get_json()['id']}").get_json()["signatures"]
    assert [(s["role"], s["name"], s["refused"], s["reason"]) for s in got] == [
        ("inspector", "王检查", False, ""), ("lab_representative", "李代表", True, "不同意")]
    assert got[0]["signed_at"] and got[1]["signed_at"] is None


def test_signatures_are_optional(client, w):
    _body, r = submit(client, w, None)
    assert r.status_code == 201 and stored() == 0


def test_a_replay_is_stored_once_and_other_signatures_under_the_same_uuid_are_409(client, w):
    body, r = submit(client, w, signatures_payload())
    assert r.status_code == 201
    again = client.post("/api/inspections", json=body)
    assert again.status_code == 200 and again.get_json()["id"] == r.get_json()["id"]
    body["signatures"] = signatures_payload(refusal="no")
    assert client.post("/api/inspections", json=body).status_code == 409
    body.pop("signatures")
    assert client.post("/api/inspections", json=body).status_code == 409  # the signatures were submitted
    assert stored() == 2


def test_without_signatures_the_hash_is_as_before(w):
    body = inspection_payload(w.lab_a, w.full)
    from app.inspections.schemas import InspectionInSchema

    loaded = InspectionInSchema().load(body)
    assert services.payload_hash(loaded) == services.payload_hash({**loaded, "signatures": None})
    assert services.payload_hash(loaded) != services.payload_hash(
        InspectionInSchema().load({**body, "signatures": signatures_payload()}))


def _png_of(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


@pytest.mark.parametrize(("mutate", "needle"), [
    (lambda s: s[1].update(image=None), "image"),
    (lambda s: s[1].update(name=" "), "name"),
    (lambda s: s[1].update(image="data:image/png;base64,@@@"), "base64"),
    (lambda s: s[1].update(image=signature_data_url(fmt="JPEG")), "PNG"),
    (lambda s: s[1].update(image=_png_of(b"\x89PNG\r\n\x1a\n" + b"not really")), "readable PNG"),
    (lambda s: s[1].update(image=_png_of(b"x" * (151 * 1024))), "longer than maximum"),
    (lambda s: s[1].update(refused=True, image=None, reason=""), "reason"),
    (lambda s: s[1].update(refused=True, reason="r" * 201), "reason"),
    (lambda s: s[1].update(refused=True, reason="ok"), "no signature image"),
    (lambda s: s[1].update(role="inspector"), "Each role signs once"),
    (lambda s: s[1].update(role="dean"), "role"),
])
def test_bad_signatures_are_clear_400s_and_store_nothing(client, w, mutate, needle):
    signatures = signatures_payload()
    mutate(signatures)
    _body, r = submit(client, w, signatures)
    assert r.status_code == 400, r.get_json()
    assert needle.lower() in str(r.get_json()).lower(), r.get_json()
    assert stored() == 0 and db.session.scalar(select(func.count()).select_from(Inspection)) == 0


def test_the_decoded_png_is_bounded_even_under_the_text_limit(app, monkeypatch):
    monkeypatch.setattr(signatures, "SIGNATURE_PNG_MAX", 100)
    with pytest.raises(ValueError, match="KB"):
        signatures.signature_png(signature_data_url())


def test_signatures_are_never_changed_or_deleted(client, w):
    _body, r = submit(client, w, signatures_payload())
    row = services.signatures_of(r.get_json()["id"])[0]
    row.name = "someone else"
    with pytest.raises(InspectionDeletionRefused):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(InspectionDeletionRefused):
        db.session.execute(delete(InspectionSignature))
    db.session.rollback()
    for statement in ("DELETE FROM inspection_signatures", "UPDATE inspection_signatures SET name = 'x'"):
        with pytest.raises(DBAPIError, match="never changed or deleted"):
            with db.engine.begin() as conn:
                conn.execute(text(statement))
    assert stored() == 2


def test_the_web_inspection_page_shows_the_signatures(client, w):
    _body, r = submit(client, w, signatures_payload("王检查", refusal="不认可第3项结论"))
    page = client.get(f"/inspections/{r.get_json()['id']}?lang=en").get_data(as_text=True)
    assert 'class="card insp-signatures"' in page
    assert "王检查" in page and 'src="data:image/png;base64,' in page  # the inspector's drawing
    assert "Refused to sign: 不认可第3项结论" in page
