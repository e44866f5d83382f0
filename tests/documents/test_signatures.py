"""The signatures given on the phone, drawn in the record's and the notice's signature areas (issue 23)."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.factories import login
from tests.factories.inspections import applicable_items, inspection_payload, signatures_payload

from .helpers import pdf_text


def _flat(text: str) -> str:
    return "".join(text.split())


def _images(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


def _submit_with_a_failure(client, w, signatures) -> int:
    login(client, w.inspector_a)
    failing = [i for i in applicable_items(w.full, w.lab_a) if not i.photo_required][0]
    body = inspection_payload(w.lab_a, w.full, results={failing.id: "fail"})
    body["signatures"] = signatures
    r = client.post("/api/inspections", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("document", ["report", "notice"])
def test_both_signatures_are_drawn_with_names(client, w, document, lang):
    inspection_id = _submit_with_a_failure(client, w, signatures_payload("王检查", "李代表"))
    resp = client.get(f"/inspections/{inspection_id}/{document}.pdf?lang={lang}")
    assert resp.status_code == 200
    text = _flat(pdf_text(resp.data))
    assert "王检查" in text and "李代表" in text
    assert _images(resp.data) >= 2  # the two drawn signatures


@pytest.mark.parametrize(("lang", "words"), [("zh_CN", "拒绝签字"), ("en", "Refusedtosign")])
def test_a_refusal_shows_with_its_reason(client, w, lang, words):
    inspection_id = _submit_with_a_failure(client, w, signatures_payload("王检查", refusal="不认可第3项结论"))
    for document in ("report", "notice"):
        text = _flat(pdf_text(client.get(f"/inspections/{inspection_id}/{document}.pdf?lang={lang}").data))
        assert words in text and "不认可第3项结论" in text and "王检查" in text


def test_without_signatures_the_areas_stay_empty_for_paper(client, w):
    inspection_id = _submit_with_a_failure(client, w, None)
    text = _flat(pdf_text(client.get(f"/inspections/{inspection_id}/report.pdf").data))
    assert "检查人签字" in text and "拒绝签字" not in text
