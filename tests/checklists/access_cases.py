"""Access matrix cases for the checklist routes (tests/access/matrix.py)."""
from tests.access.matrix import EVERYONE, LAB_A_READERS, LAB_B_READERS, Case


def extend_world(w):
    from app.checklists import services
    from tests.factories import load_shipped_checklists

    load_shipped_checklists()
    w.ids["checklist_version"] = services.current_version("full").id


CASES = [
    Case("GET", "/api/labs/<int:lab_id>/checklists", "/api/labs/{lab_a}/checklists", allow=LAB_A_READERS),
    Case(
        "GET",
        "/api/labs/<int:lab_id>/checklists",
        "/api/labs/{lab_b}/checklists",
        allow=LAB_B_READERS,
        note="guessing another college's lab id",
    ),
    Case("GET", "/api/labs/<int:lab_id>/checklists/<key>", "/api/labs/{lab_a}/checklists/full", allow=LAB_A_READERS),
    Case(
        "GET",
        "/api/labs/<int:lab_id>/checklists/<key>",
        "/api/labs/{lab_b}/checklists/full",
        allow=LAB_B_READERS,
        note="another college's lab",
    ),
    Case(
        "GET",
        "/api/labs/<int:lab_id>/checklists/<key>",
        "/api/labs/{lab_b}/checklists/nope",
        allow=LAB_B_READERS,
        note="an unknown key in another college's lab is refused, not 404",
    ),
    # The lists quote the regulation: every signed-in user may read them.
    Case(
        "GET", "/api/checklist-versions/<int:version_id>", "/api/checklist-versions/{checklist_version}", allow=EVERYONE
    ),
    Case("GET", "/checklists", "/checklists", allow=EVERYONE),
    Case("GET", "/checklists/versions/<int:version_id>", "/checklists/versions/{checklist_version}", allow=EVERYONE),
]
