"""The access matrix: every route × every role, in scope and out of scope.

Each domain declares its routes in tests/<domain>/access_cases.py:

    CASES = [
        Case("GET", "/labs/<int:lab_id>", "/labs/{lab_a}", allow=LAB_A_READERS),
        Case("GET", "/labs/<int:lab_id>", "/labs/{lab_b}", allow=SCHOOL_READERS),  # another college
    ]
    def extend_world(world): ...   # optional: add tickets, inspections... to the shared world

`rule` is the Flask rule (so a new route without a case fails the coverage test); `path` is
formatted with the world's ids. A role in `allow` must not be refused (401/403/redirect to
login); every other role must be refused. Bodies are optional: an allowed user may still get
400/404/409 for a bad body or state, which proves the policy let them through.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ROLES = (
    "anon",
    "admin",
    "school_inspector",
    "college_inspector",  # inspector of college A
    "college_leader",  # of college A
    "college_head",  # of college A
    "lab_officer",  # of lab A1
    "dept_officer",  # of the lab management office
    "other_officer",  # lab officer of lab B1 in college B
)
EVERYONE = frozenset(ROLES) - {"anon"}
PUBLIC = frozenset(ROLES)
ADMIN = frozenset({"admin"})
# Readers of lab A1 (college A): school-wide readers, college A oversight, its officer.
LAB_A_READERS = frozenset(
    {"admin", "school_inspector", "college_inspector", "college_leader", "college_head", "lab_officer", "dept_officer"}
)
# Readers of lab B1 seen from college A's users: only school-wide roles and B1's own officer.
LAB_B_READERS = frozenset({"admin", "school_inspector", "dept_officer", "other_officer"})
LAB_A_INSPECTORS = frozenset({"admin", "school_inspector", "college_inspector", "college_leader"})
LAB_B_INSPECTORS = frozenset({"admin", "school_inspector"})


@dataclass(frozen=True)
class Case:
    method: str
    rule: str
    path: str
    allow: frozenset = field(default_factory=frozenset)
    json: dict | None = None
    data: dict | None = None
    note: str = ""
