"""Access matrix for tickets, notifications and missed-check pages."""
from sqlalchemy import select

from tests.access.matrix import EVERYONE, LAB_A_READERS, LAB_B_READERS, Case

# Reviewers (app/policy.py REVIEW/ESCALATE_TICKET): the school admin, the college's leaders and
# the routed department's officers (both world tickets are art. 24(6) -> lab_management, the
# world's department officer).
REVIEW_A = frozenset({"admin", "college_leader", "dept_officer"})
REVIEW_B = frozenset({"admin", "dept_officer"})


def extend_world(w):
    from app.extensions import db
    from app.notifications.models import Notification
    from tests.factories import make_ticket

    w.ticket_a = make_ticket(w.lab_a_obj, article="24(6)", title="实验室内饮食")
    w.ticket_b = make_ticket(w.lab_b_obj, article="24(6)", title="实验室内饮食")
    w.ids["ticket_a"] = w.ticket_a.id
    w.ids["ticket_b"] = w.ticket_b.id
    w.ids["notice_lab_officer"] = db.session.scalar(
        select(Notification.id).where(Notification.user_id == w.users["lab_officer"].id).limit(1)
    )


ESCALATE = {"action": "escalate", "note": "access matrix"}
START = {"action": "start_fix"}

CASES = [
    # Pages.
    Case("GET", "/tickets", "/tickets", allow=EVERYONE, note="filtered to the user's scope"),
    Case("GET", "/tickets/<int:ticket_id>", "/tickets/{ticket_a}", allow=LAB_A_READERS),
    Case("GET", "/tickets/<int:ticket_id>", "/tickets/{ticket_b}", allow=LAB_B_READERS,
         note="guessing another college's ticket id"),
    Case("POST", "/tickets/<int:ticket_id>/actions", "/tickets/{ticket_a}/actions", allow=REVIEW_A, data=ESCALATE),
    Case("POST", "/tickets/<int:ticket_id>/actions", "/tickets/{ticket_b}/actions", allow=REVIEW_B, data=ESCALATE),
    Case("POST", "/tickets/<int:ticket_id>/actions", "/tickets/{ticket_a}/actions", allow=frozenset({"lab_officer"}),
         data=START, note="only the lab's officers fix"),
    Case("POST", "/tickets/<int:ticket_id>/actions", "/tickets/{ticket_b}/actions",
         allow=frozenset({"other_officer"}), data=START),
    Case("GET", "/labs/<int:lab_id>/missed-checks", "/labs/{lab_a}/missed-checks", allow=LAB_A_READERS),
    Case("GET", "/labs/<int:lab_id>/missed-checks", "/labs/{lab_b}/missed-checks", allow=LAB_B_READERS),
    Case("GET", "/notifications", "/notifications", allow=EVERYONE, note="my own inbox"),
    Case("POST", "/notifications/<int:notification_id>/read", "/notifications/{notice_lab_officer}/read",
         allow=frozenset({"lab_officer"}), note="only the addressee"),
    Case("POST", "/notifications/read-all", "/notifications/read-all", allow=EVERYONE),
    # API.
    Case("GET", "/api/tickets", "/api/tickets", allow=EVERYONE),
    Case("GET", "/api/labs/<int:lab_id>/tickets", "/api/labs/{lab_a}/tickets", allow=LAB_A_READERS),
    Case("GET", "/api/labs/<int:lab_id>/tickets", "/api/labs/{lab_b}/tickets", allow=LAB_B_READERS),
    Case("GET", "/api/tickets/<int:ticket_id>", "/api/tickets/{ticket_a}", allow=LAB_A_READERS),
    Case("GET", "/api/tickets/<int:ticket_id>", "/api/tickets/{ticket_b}", allow=LAB_B_READERS),
    Case("POST", "/api/tickets/<int:ticket_id>/actions", "/api/tickets/{ticket_a}/actions", allow=REVIEW_A,
         json=ESCALATE),
    Case("POST", "/api/tickets/<int:ticket_id>/actions", "/api/tickets/{ticket_b}/actions", allow=REVIEW_B,
         json=ESCALATE),
    Case("POST", "/api/tickets/<int:ticket_id>/actions", "/api/tickets/{ticket_a}/actions",
         allow=frozenset({"lab_officer"}), json=START),
    Case("POST", "/api/tickets/<int:ticket_id>/actions", "/api/tickets/{ticket_b}/actions",
         allow=frozenset({"other_officer"}), json=START),
    Case("GET", "/api/labs/<int:lab_id>/missed-checks", "/api/labs/{lab_a}/missed-checks", allow=LAB_A_READERS),
    Case("GET", "/api/labs/<int:lab_id>/missed-checks", "/api/labs/{lab_b}/missed-checks", allow=LAB_B_READERS),
    Case("GET", "/api/notifications", "/api/notifications", allow=EVERYONE),
    Case("POST", "/api/notifications/<int:notification_id>/read", "/api/notifications/{notice_lab_officer}/read",
         allow=frozenset({"lab_officer"})),
]
