"""A re-issue is a new document that names the one it replaces (art. 30): rendered again from today's data,
with its own number; the old one stays on file byte for byte and its page says what replaced it."""
from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select

from app.documents import services
from app.documents.models import IssuedDocument
from app.extensions import db
from tests.factories import login

from .helpers import pdf_text


def _stand_in(subject) -> IssuedDocument:
    """The first issue, filed with stand-in bytes: what a re-issue renders is today's real document."""
    doc = services.issue(subject, "zh_CN", None, current_app.config, lambda n, t: b"%PDF-1.7 first issue " + n.encode(),
                         own_transaction=False)
    db.session.commit()
    return doc


def _chain() -> list[IssuedDocument]:
    return list(db.session.scalars(select(IssuedDocument).order_by(IssuedDocument.id)))


def test_reissue_files_a_new_document_naming_the_old_which_stays_as_issued(client, w, failed):
    old = _stand_in(services.inspection_subject(failed))
    login(client, w.leader_a)
    first_bytes = client.get(f"/documents/{old.id}.pdf").data
    page = client.get(f"/documents/{old.id}").get_data(as_text=True)
    assert 'id="reissue-form"' in page

    resp = client.post(f"/documents/{old.id}/reissue")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    old_row, new = _chain()
    assert resp.headers["Location"].endswith(f"/documents/{new.id}")
    assert new.replaces_id == old.id and new.number != old.number and new.number.endswith("-JC-00002")
    assert new.issued_by_id == w.leader_a.id and new.language == old.language and new.inspection_id == failed.id
    new_bytes = client.get(f"/documents/{new.id}.pdf").data
    assert w.lab_a.name in pdf_text(new_bytes) and new.number in pdf_text(new_bytes)  # rendered anew, its own number
    # The old one: byte for byte as issued, its page names what replaced it, and it may not be re-issued again.
    assert client.get(f"/documents/{old.id}.pdf").data == first_bytes
    page = client.get(f"/documents/{old.id}").get_data(as_text=True)
    assert 'id="replaced-by"' in page and new.number in page and 'id="reissue-form"' not in page
    again = client.post(f"/documents/{old.id}/reissue", headers={"Accept": "application/json"})
    assert again.status_code == 409 and new.number in again.get_data(as_text=True)
    # The inspection's record is now the re-issue.
    assert client.get(f"/inspections/{failed.id}/report.pdf").data == new_bytes
    assert f"/documents/{old.id}" in client.get(f"/documents/{new.id}").get_data(as_text=True)

    login(client, w.admin)  # the school office re-issues the re-issue: a chain of three
    assert client.post(f"/documents/{new.id}/reissue").status_code == 302
    chain = _chain()
    assert [d.replaces_id for d in chain] == [None, old.id, new.id]
    assert [d.issue_key.rsplit(":", 1)[1] for d in chain] == ["1", "2", "3"]


def test_who_may_reissue(client, w, failed):
    doc = _stand_in(services.notice_subject(failed))
    for user in (w.officer_a, w.inspector_a, w.head_a, w.dept_officer, w.school_inspector):
        login(client, user)
        assert client.post(f"/documents/{doc.id}/reissue").status_code == 403, user.username
        page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
        assert 'id="reissue-form"' not in page
    assert [d.id for d in _chain()] == [doc.id]


def test_a_monthly_summary_is_not_reissued(client, w):
    doc = _stand_in(services.monthly_subject(date(2026, 1, 1), w.college_a.id))
    login(client, w.leader_a)
    resp = client.post(f"/documents/{doc.id}/reissue", headers={"Accept": "application/json"})
    assert resp.status_code == 409
    assert 'id="reissue-form"' not in client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert [d.id for d in _chain()] == [doc.id]


def test_reissue_needs_the_form_token(client, w, failed):
    doc = _stand_in(services.inspection_subject(failed))
    login(client, w.leader_a)
    assert client.post(f"/documents/{doc.id}/reissue", headers={"X-CSRFToken": ""}).status_code == 400
    assert [d.id for d in _chain()] == [doc.id]
