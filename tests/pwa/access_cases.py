from tests.access.matrix import (
    EVERYONE,
    LAB_A_INSPECTORS,
    LAB_A_READERS,
    LAB_B_INSPECTORS,
    LAB_B_READERS,
    PUBLIC,
    Case,
)

# Who may see a ticket of lab A1 / B1 (policy._can_view_ticket): school-wide inspectors and admin,
# college A oversight, A1's officer, and the lab-management office when the ticket is routed there.
TICKET_A_READERS = frozenset({"admin", "school_inspector", "college_inspector", "college_leader", "college_head",
                              "lab_officer", "dept_officer"})
TICKET_B_READERS = frozenset({"admin", "school_inspector", "other_officer", "dept_officer"})


def extend_world(w):
    from tests.factories import make_ticket

    # art. 12 routes to the lab management office (the matrix's dept_officer).
    w.ids["pwa_ticket_a"] = make_ticket(w.lab_a_obj, article="12").id
    w.ids["pwa_ticket_b"] = make_ticket(w.lab_b_obj, article="12").id


CASES = [
    Case("GET", "/manifest.webmanifest", "/manifest.webmanifest", allow=PUBLIC),
    Case("GET", "/sw.js", "/sw.js", allow=PUBLIC),
    Case("GET", "/offline", "/offline", allow=PUBLIC),
    Case("GET", "/app", "/app", allow=EVERYONE),
    Case("GET", "/app/scan", "/app/scan", allow=EVERYONE),
    Case("GET", "/app/shell/lab", "/app/shell/lab", allow=EVERYONE, note="lab card shell, no lab data"),
    Case("GET", "/app/shell/inspect", "/app/shell/inspect", allow=EVERYONE, note="inspection shell, no data"),
    Case("GET", "/app/shell/ticket", "/app/shell/ticket", allow=EVERYONE, note="ticket shell, no data"),
    Case("GET", "/app/tickets", "/app/tickets", allow=EVERYONE),
    # The door QR's page: anyone signed in may report a hazard there (art. 30, issue 24); the card's
    # data (/api/labs/<id>/card) stays the lab's readers'.
    Case("GET", "/app/labs/<int:lab_id>", "/app/labs/{lab_a}", allow=EVERYONE),
    Case("GET", "/app/labs/<int:lab_id>", "/app/labs/{lab_b}", allow=EVERYONE, note="another college's lab"),
    Case("GET", "/app/labs/<int:lab_id>/inspect/<key>", "/app/labs/{lab_a}/inspect/full",
         allow=LAB_A_INSPECTORS | {"lab_officer"}, note="inspectors, or the lab's officer (daily)"),
    Case("GET", "/app/labs/<int:lab_id>/inspect/<key>", "/app/labs/{lab_b}/inspect/full",
         allow=LAB_B_INSPECTORS | {"other_officer"}, note="another college's lab"),
    Case("GET", "/app/tickets/<int:ticket_id>", "/app/tickets/{pwa_ticket_a}", allow=TICKET_A_READERS),
    Case("GET", "/app/tickets/<int:ticket_id>", "/app/tickets/{pwa_ticket_b}", allow=TICKET_B_READERS,
         note="guessing another college's ticket id"),
    Case("GET", "/api/offline/bundle", "/api/offline/bundle", allow=EVERYONE),
    Case("GET", "/api/labs/<int:lab_id>/card", "/api/labs/{lab_a}/card", allow=LAB_A_READERS),
    Case("GET", "/api/labs/<int:lab_id>/card", "/api/labs/{lab_b}/card", allow=LAB_B_READERS,
         note="another college's lab"),
]
