"""Access matrix for issued documents: who reads what a document records may download it (app/policy.py
DOWNLOAD_*); the first download issues it, so these cases file real PDFs."""
from tests.access.matrix import ADMIN, LAB_A_READERS, LAB_B_READERS, Case
from tests.reports.access_cases import COLLEGE_A_REPORT, COLLEGE_B_REPORT, SCHOOL_OR_OWN_COLLEGE

REPORT = "/inspections/<int:inspection_id>/report.pdf"
NOTICE = "/inspections/<int:inspection_id>/notice.pdf"
WRITTEN = "/tickets/<int:ticket_id>/written-report.pdf"
MONTHLY = "/reports/monthly.pdf"
PAGE = "/documents/<int:document_id>"
PDF = "/documents/<int:document_id>.pdf"
LIST = "/api/labs/<int:lab_id>/documents"
COLLEGE_ZIP = "/colleges/<int:college_id>/documents.zip"
ROUND_ZIP = "/rounds/<int:round_id>/documents.zip"
REISSUE = "/documents/<int:document_id>/reissue"
A_LEADER = frozenset({"admin", "college_leader"})  # the school office, college A's leader (art. 9(1), 10(2))
FINAL_MONTH = "2026-01"  # long final: its summary may be filed


def extend_world(w):
    """A failed inspection and a major ticket in A1 and B1; a filed document of each lab (with stand-in
    bytes: these cases test who reads them, tests/documents what they say)."""
    from flask import current_app

    from app.documents import services
    from app.extensions import db
    from tests.factories.inspections import make_checklist_version, make_inspection, photo_bytes
    from tests.factories.tickets import make_ticket

    full = make_checklist_version("full")
    docs_insp_a, _ = make_inspection(w.users["college_inspector"], w.lab_a_obj, full,
                                     fail_with_photo=photo_bytes(seed=21))
    docs_insp_b, _ = make_inspection(w.users["school_inspector"], w.lab_b_obj, full, level="school",
                                     fail_with_photo=photo_bytes(seed=22))
    major_a = make_ticket(w.lab_a_obj, severity="major", article="16(2)", title="剧毒品未双人双锁")
    major_b = make_ticket(w.lab_b_obj, severity="major", article="19", title="病原微生物操作不当")

    def stand_in(number, issued_at):
        return b"%PDF-1.7 stand-in " + number.encode()

    # Every document these cases ask for is filed already (stand-in bytes), so the matrix renders no PDF:
    # tests/documents renders them.
    from datetime import date

    filed = {}
    subjects = {
        "doc_a": services.inspection_subject(docs_insp_a), "doc_b": services.notice_subject(docs_insp_b),
        "doc_wr_a": services.written_report_subject(major_a), "doc_wr_b": services.written_report_subject(major_b),
        "doc_report_a": services.notice_subject(docs_insp_a), "doc_report_b": services.inspection_subject(docs_insp_b),
    }
    month = date.fromisoformat(FINAL_MONTH + "-01")
    for n, college_id in enumerate((None, w.college_a.id, w.college_b.id)):
        subjects[f"doc_month_{n}"] = services.monthly_subject(month, college_id)
    for name, subject in subjects.items():
        # In both languages: an earlier case (POST /lang/<code>) may have switched the user to English.
        for language in ("en", "zh_CN"):
            filed[name] = services.issue(subject, language, None, current_app.config, stand_in,
                                         own_transaction=False).id
    db.session.commit()
    w.ids.update(docs_insp_a=docs_insp_a.id, docs_insp_b=docs_insp_b.id, major_a=major_a.id, major_b=major_b.id,
                 **filed)


CASES = [
    Case("GET", REPORT, "/inspections/{docs_insp_a}/report.pdf", allow=LAB_A_READERS),
    Case("GET", REPORT, "/inspections/{docs_insp_b}/report.pdf", allow=LAB_B_READERS,
         note="another college's inspection"),
    Case("GET", NOTICE, "/inspections/{docs_insp_a}/notice.pdf", allow=LAB_A_READERS),
    Case("GET", NOTICE, "/inspections/{docs_insp_b}/notice.pdf", allow=LAB_B_READERS),
    # Both tickets are routed to the lab management office (art. 9), the world's department officer's.
    Case("GET", WRITTEN, "/tickets/{major_a}/written-report.pdf", allow=LAB_A_READERS),
    Case("GET", WRITTEN, "/tickets/{major_b}/written-report.pdf", allow=LAB_B_READERS),
    Case("GET", MONTHLY, f"/reports/monthly.pdf?month={FINAL_MONTH}", allow=SCHOOL_OR_OWN_COLLEGE,
         note="college leaders and heads get their own college's"),
    Case("GET", MONTHLY, f"/reports/monthly.pdf?month={FINAL_MONTH}&college_id={{college_a}}",
         allow=COLLEGE_A_REPORT),
    Case("GET", MONTHLY, f"/reports/monthly.pdf?month={FINAL_MONTH}&college_id={{college_b}}",
         allow=COLLEGE_B_REPORT, note="another college's summary"),
    Case("GET", PAGE, "/documents/{doc_a}", allow=LAB_A_READERS),
    Case("GET", PAGE, "/documents/{doc_b}", allow=LAB_B_READERS, note="guessing another college's document"),
    Case("GET", PAGE, "/documents/{doc_wr_a}", allow=LAB_A_READERS),
    Case("GET", PDF, "/documents/{doc_a}.pdf", allow=LAB_A_READERS),
    Case("GET", PDF, "/documents/{doc_wr_b}.pdf", allow=LAB_B_READERS),
    Case("GET", LIST, "/api/labs/{lab_a}/documents", allow=LAB_A_READERS),
    Case("GET", LIST, "/api/labs/{lab_b}/documents", allow=LAB_B_READERS),
    # Every document of a month or a round as one ZIP: the school office all, a college leader their
    # college's (from school rounds too: their labs' part); everyone else 403.
    Case("GET", COLLEGE_ZIP, f"/colleges/{{college_a}}/documents.zip?month={FINAL_MONTH}", allow=A_LEADER),
    Case("GET", COLLEGE_ZIP, f"/colleges/{{college_b}}/documents.zip?month={FINAL_MONTH}", allow=ADMIN,
         note="another college's month"),
    Case("GET", ROUND_ZIP, "/rounds/{round_college_a}/documents.zip", allow=A_LEADER),
    Case("GET", ROUND_ZIP, "/rounds/{round_school}/documents.zip", allow=A_LEADER,
         note="a school round: a college leader gets their labs' part"),
    Case("GET", ROUND_ZIP, "/rounds/{round_college_b}/documents.zip", allow=ADMIN, note="another college's round"),
    # Re-issue: the school office, or the leader of the document's college. A summary answers 409 to them
    # (filed once final: nothing to re-issue), which proves the policy let them through without rendering.
    Case("POST", REISSUE, "/documents/{doc_month_1}/reissue", allow=A_LEADER),
    Case("POST", REISSUE, "/documents/{doc_month_0}/reissue", allow=ADMIN, note="the school's summary"),
    Case("POST", REISSUE, "/documents/{doc_b}/reissue", allow=ADMIN, note="another college's notice"),
]
