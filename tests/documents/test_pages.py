"""The documents on the lab, inspection and ticket pages."""
from __future__ import annotations

from tests.factories import login
from tests.factories.tickets import make_ticket


def test_inspection_page_links_its_record_and_notice(client, w, failed):
    login(client, w.officer_a)
    html = client.get(f"/inspections/{failed.id}").get_data(as_text=True)
    assert f"/inspections/{failed.id}/report.pdf" in html and f"/inspections/{failed.id}/notice.pdf" in html


def test_lab_page_lists_the_documents_issued(client, w, failed):
    login(client, w.leader_a)
    client.get(f"/inspections/{failed.id}/notice.pdf")
    html = client.get(f"/labs/{w.lab_a.id}").get_data(as_text=True)
    assert "已签发文书" in html and "-ZG-00001" in html and "整改通知书" in html


def test_ticket_page_offers_the_written_report_only_when_due(client, w):
    major = make_ticket(w.lab_a, severity="major", article="16(2)")
    general = make_ticket(w.lab_a, severity="general", article="24(6)")
    login(client, w.leader_a)
    client.get(f"/tickets/{major.id}/written-report.pdf")
    html = client.get(f"/tickets/{major.id}").get_data(as_text=True)
    assert f"/tickets/{major.id}/written-report.pdf" in html and "-SB-00001" in html
    assert "written-report.pdf" not in client.get(f"/tickets/{general.id}").get_data(as_text=True)


def test_a_department_lists_no_written_report_of_another_remit(client, w):
    from app.extensions import db
    from tests.factories import make_department

    security = make_department("security")
    fire = make_ticket(w.lab_a, severity="major", article="22", title="消防通道堵塞")  # art. 22 -> 保卫处 (art. 9)
    assert fire.department_id == security.id
    db.session.commit()
    login(client, w.admin)
    assert client.get(f"/tickets/{fire.id}/written-report.pdf").status_code == 200
    login(client, w.dept_officer)  # the lab management office: reads the lab, not this ticket
    assert client.get(f"/api/labs/{w.lab_a.id}/documents").get_json() == []
    assert client.get(f"/tickets/{fire.id}/written-report.pdf").status_code == 403
