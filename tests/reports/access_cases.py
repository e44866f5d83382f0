"""Access matrix for the reports domain: the monthly summary (art. 27, 28) and nameplates (art. 24(1)).

College A is in scope for the college roles; college B is "guessing another college's id".
"""
from tests.access.matrix import Case

SCHOOL_REPORT = frozenset({"admin", "dept_officer"})
# College leaders and heads asking for the school's summary are sent to their own college's.
SCHOOL_OR_OWN_COLLEGE = SCHOOL_REPORT | {"college_leader", "college_head"}
COLLEGE_A_REPORT = frozenset({"admin", "dept_officer", "school_inspector", "college_leader", "college_head"})
COLLEGE_B_REPORT = frozenset({"admin", "dept_officer", "school_inspector"})
PLATES_A = frozenset({"admin", "college_leader"})
PLATES_B = frozenset({"admin"})

MONTHLY = "/reports/monthly"
COLLEGE_MONTHLY = "/colleges/<int:college_id>/reports/monthly"
EXPORT = "/reports/monthly.<any(csv, xlsx):fmt>"
PLATE = "/labs/<int:lab_id>/nameplate"
PLATES = "/colleges/<int:college_id>/nameplates"
ROUND_FIGURES = "/api/reports/rounds"

CASES = [
    Case("GET", MONTHLY, "/reports/monthly", allow=SCHOOL_OR_OWN_COLLEGE),
    Case("GET", MONTHLY, "/reports/monthly?college_id={college_a}", allow=COLLEGE_A_REPORT),
    Case("GET", MONTHLY, "/reports/monthly?college_id={college_b}", allow=COLLEGE_B_REPORT,
         note="another college's report"),
    Case("GET", COLLEGE_MONTHLY, "/colleges/{college_a}/reports/monthly", allow=COLLEGE_A_REPORT),
    Case("GET", COLLEGE_MONTHLY, "/colleges/{college_b}/reports/monthly", allow=COLLEGE_B_REPORT,
         note="guessing another college's id"),
    Case("GET", EXPORT, "/reports/monthly.csv", allow=SCHOOL_REPORT),
    Case("GET", EXPORT, "/reports/monthly.xlsx", allow=SCHOOL_REPORT),
    Case("GET", EXPORT, "/reports/monthly.csv?college_id={college_a}", allow=COLLEGE_A_REPORT),
    Case("GET", EXPORT, "/reports/monthly.xlsx?college_id={college_b}", allow=COLLEGE_B_REPORT,
         note="another college's export"),
    # The rounds' figures (issue 22): the summary's scope; a college leader or head asking for "the"
    # figures gets their own college's.
    Case("GET", ROUND_FIGURES, "/api/reports/rounds", allow=SCHOOL_OR_OWN_COLLEGE),
    Case("GET", ROUND_FIGURES, "/api/reports/rounds?from=2026-05&to=2026-10&college_id={college_a}",
         allow=COLLEGE_A_REPORT),
    Case("GET", ROUND_FIGURES, "/api/reports/rounds?college_id={college_b}", allow=COLLEGE_B_REPORT,
         note="another college's figures"),
    Case("GET", PLATE, "/labs/{lab_a}/nameplate", allow=PLATES_A),
    Case("GET", PLATE, "/labs/{lab_b}/nameplate", allow=PLATES_B, note="another college's lab"),
    Case("GET", PLATES, "/colleges/{college_a}/nameplates", allow=PLATES_A),
    Case("GET", PLATES, "/colleges/{college_b}/nameplates", allow=PLATES_B, note="guessing another college's id"),
]
