"""Every document of a college's month or of a round as one ZIP: the entries are the stored bytes, the
manifest's SHA-256 match them, the scope is the policy's, and the archive is streamed (one document in
memory at a time)."""
from __future__ import annotations

import csv
import hashlib
import io
import os
import tracemalloc
import zipfile
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.documents import services
from app.documents.models import IssuedDocument
from app.extensions import db
from app.rounds.services import facts_of
from tests.factories import login, make_lab
from tests.factories.inspections import make_inspection
from tests.factories.reports import add_inspection, local
from tests.rounds.figures_scenario import plan
from tests.rounds.helpers import world as rounds_world

from .access_cases import FINAL_MONTH


def file_documents(monkeypatch, subjects, issued_at: datetime, size: int = 2000) -> list[int]:
    """File a stand-in document (distinct random bytes) for each subject, as issued at ``issued_at``."""
    monkeypatch.setattr(services, "utcnow", lambda: issued_at)
    ids = []
    for subject in subjects:
        data = b"%PDF-1.7 stand-in " + os.urandom(size)
        ids.append(services.issue(subject, "zh_CN", None, current_app.config, lambda n, t, d=data: d,
                                  own_transaction=False).id)
    db.session.commit()
    monkeypatch.undo()
    return ids


def read_zip(resp) -> tuple[list[dict], dict[str, bytes]]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names[0] == "manifest.csv"
        rows = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode("utf-8-sig"))))
        return rows, {n: zf.read(n) for n in names[1:]}


def stored(document_id: int) -> bytes:
    return db.session.scalar(select(IssuedDocument.pdf).where(IssuedDocument.id == document_id))


def test_month_zip_holds_the_stored_bytes_and_the_manifest_their_hashes(client, w, monkeypatch):
    insp_a, _ = make_inspection(w.inspector_a, w.lab_a, w.full)
    insp_b, _ = make_inspection(w.inspector_b, w.lab_b, w.full)
    jan = datetime(2026, 1, 15, 3, 0)
    mine = file_documents(monkeypatch, [services.inspection_subject(insp_a), services.notice_subject(insp_a),
                                        services.monthly_subject(datetime(2025, 12, 1).date(), w.college_a.id)], jan)
    others = file_documents(monkeypatch, [services.inspection_subject(insp_b),  # another college's
                                          services.monthly_subject(datetime(2025, 12, 1).date(), None)], jan)
    # 31 January 17:00 UTC is 1 February in the school's time zone: February's, not January's.
    february = file_documents(monkeypatch, [services.monthly_subject(datetime(2026, 1, 1).date(), w.college_a.id)],
                              datetime(2026, 1, 31, 17, 0))
    login(client, w.leader_a)
    resp = client.get(f"/colleges/{w.college_a.id}/documents.zip?month={FINAL_MONTH}")
    rows, files = read_zip(resp)
    assert f'filename="{w.college_a.code}-2026-01-documents.zip"' in resp.headers["Content-Disposition"]
    docs = {d.id: d for d in db.session.scalars(select(IssuedDocument))}
    assert [r["number"] for r in rows] == [docs[i].number for i in mine]
    assert not {docs[i].number for i in others + february} & {r["number"] for r in rows}
    assert set(files) == {r["file"] for r in rows}
    for row, doc_id in zip(rows, mine, strict=True):
        data = files[row["file"]]
        assert data == stored(doc_id)
        assert hashlib.sha256(data).hexdigest() == row["sha256"] == docs[doc_id].sha256
        assert row["file"].startswith(docs[doc_id].number + "_" + docs[doc_id].kind.value)
        assert row["issued_at_utc"] == "2026-01-15T03:00:00Z"
    assert rows[0]["lab"] == w.lab_a.code and rows[0]["file"].endswith(f"_{w.lab_a.code}.pdf")
    assert rows[2]["lab"] == "" and rows[2]["kind"] == "monthly_summary"

    login(client, w.admin)  # the school office: any college
    rows, _ = read_zip(client.get(f"/colleges/{w.college_b.id}/documents.zip?month={FINAL_MONTH}"))
    assert [r["number"] for r in rows] == [docs[others[0]].number]


def test_a_month_without_documents_is_a_zip_with_the_manifest_alone(client, w):
    login(client, w.leader_a)
    rows, files = read_zip(client.get(f"/colleges/{w.college_a.id}/documents.zip?month=2025-03"))
    assert rows == [] and files == {}


def test_other_colleges_and_other_roles_are_refused(client, w):
    url_b = f"/colleges/{w.college_b.id}/documents.zip?month={FINAL_MONTH}"
    url_a = f"/colleges/{w.college_a.id}/documents.zip?month={FINAL_MONTH}"
    login(client, w.leader_a)
    assert client.get(url_b).status_code == 403
    for user in (w.head_a, w.inspector_a, w.officer_a, w.dept_officer, w.school_inspector):
        login(client, user)
        assert client.get(url_a).status_code == 403, user.username


def test_a_bad_month_is_a_400_that_says_how_to_write_it(client, w):
    login(client, w.leader_a)
    for query in ("?month=2026-13", "?month=January", "", "?month=1999-01"):
        resp = client.get(f"/colleges/{w.college_a.id}/documents.zip{query}", headers={"Accept": "application/json"})
        assert resp.status_code == 400, query
        assert "YYYY-MM" in resp.get_data(as_text=True)
    assert client.get(f"/colleges/{2**31 - 1}/documents.zip?month=2026-01").status_code == 404


def test_round_zip_holds_its_counted_inspections_documents_in_the_leaders_scope(client, app, monkeypatch):
    w = rounds_world()
    october = plan(w, datetime(2026, 9, 25).date(), datetime(2026, 10, 10).date())
    a0, a1, _a2 = w.labs
    counted = [add_inspection(a0, "school", local(2026, 9, 26), inspector=w.inspector, version=w.version),
               add_inspection(a0, "school", local(2026, 10, 2), inspector=w.inspector, version=w.version),
               add_inspection(a1, "school", local(2026, 10, 10, 23), inspector=w.inspector, version=w.version)]
    other_college = add_inspection(w.other_lab, "school", local(2026, 10, 3), inspector=w.inspector,
                                   version=w.version)
    outside = add_inspection(a0, "school", local(2026, 10, 12), inspector=w.inspector, version=w.version)
    db.session.commit()
    issued = datetime(2026, 10, 20, 2, 0)
    ids = file_documents(monkeypatch, [services.inspection_subject(i) for i in counted], issued)
    [other_id, outside_id] = file_documents(monkeypatch, [services.inspection_subject(other_college),
                                                          services.inspection_subject(outside)], issued)
    number = {d.id: d.number for d in db.session.scalars(select(IssuedDocument))}

    login(client, w.admin)
    rows, files = read_zip(client.get(f"/rounds/{october.id}/documents.zip"))
    assert [r["number"] for r in rows] == [number[i] for i in ids + [other_id]]
    assert number[outside_id] not in {r["number"] for r in rows}  # after the window: not the round's
    for row in rows:
        assert hashlib.sha256(files[row["file"]]).hexdigest() == row["sha256"]

    login(client, w.leader)  # a school round: their college's labs only
    rows, _ = read_zip(client.get(f"/rounds/{october.id}/documents.zip"))
    assert [r["number"] for r in rows] == [number[i] for i in ids]

    september = plan(w, datetime(2026, 9, 1).date(), datetime(2026, 9, 30).date(), kind="college_monthly",
                     owner_college_id=w.college.id, lab_ids=[lab.id for lab in w.labs], inspector_ids=[])
    assert facts_of(september).owner_college_id == w.college.id
    login(client, w.other_leader)  # another college's round
    assert client.get(f"/rounds/{september.id}/documents.zip").status_code == 403
    login(client, w.officer)
    assert client.get(f"/rounds/{october.id}/documents.zip").status_code == 403


def test_the_zip_is_streamed_one_document_at_a_time(client, w, monkeypatch):
    """50 labs' documents of 400 KB (20 MB): the download's peak of Python memory stays near one document."""
    labs = [make_lab(w.college_a) for _ in range(49)] + [w.lab_a]
    inspections = [add_inspection(lab, "college", local(2026, 1, 9), inspector=w.inspector_a, version=w.full)
                   for lab in labs]
    db.session.commit()
    size = 400_000
    ids = file_documents(monkeypatch, [services.inspection_subject(i) for i in inspections],
                         datetime(2026, 1, 10, 2, 0), size=size)
    db.session.expire_all()
    login(client, w.leader_a)
    tracemalloc.start()
    resp = client.get(f"/colleges/{w.college_a.id}/documents.zip?month={FINAL_MONTH}", buffered=False)
    chunks = total = 0
    for chunk in resp.response:  # as a server sends it: each piece once, none kept
        chunks += 1
        total += len(chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    resp.close()
    assert chunks >= len(ids) + 2  # the manifest, each document, the central directory
    assert total > len(ids) * size
    # The documents add up to 20 MB; the download never holds more than a few of them at once.
    assert peak < 8 * size, f"peak {peak / 2**20:.1f} MB"



def test_the_monthly_page_and_the_round_page_link_the_zip(client, w):
    login(client, w.leader_a)
    page = client.get(f"/colleges/{w.college_a.id}/reports/monthly?month={FINAL_MONTH}").get_data(as_text=True)
    assert 'id="documents-zip"' in page and f"/colleges/{w.college_a.id}/documents.zip?month={FINAL_MONTH}" in page
    login(client, w.head_a)  # reads the summary, downloads no archive
    page = client.get(f"/colleges/{w.college_a.id}/reports/monthly?month={FINAL_MONTH}").get_data(as_text=True)
    assert 'id="documents-zip"' not in page


def test_the_round_page_links_the_zip(client, app):
    w = rounds_world()
    october = plan(w, datetime(2026, 9, 25).date(), datetime(2026, 10, 10).date())
    login(client, w.admin)
    assert f"/rounds/{october.id}/documents.zip" in client.get(f"/rounds/{october.id}").get_data(as_text=True)
    login(client, w.officer)  # sees the round, downloads no archive
    page = client.get(f"/rounds/{october.id}")
    assert page.status_code == 200 and 'id="documents-zip"' not in page.get_data(as_text=True)
