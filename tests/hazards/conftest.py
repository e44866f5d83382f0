from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.auth.models import Role
from tests.factories import make_college, make_department, make_lab, make_user


@pytest.fixture
def w(app):
    """A college with a lab and its people, a plain user (no role) who reports, another college."""
    x = SimpleNamespace()
    x.college, x.other_college = make_college(), make_college()
    make_department("lab_management")
    x.lab = make_lab(x.college)
    x.other_lab = make_lab(x.other_college)
    x.officer = make_user(Role.lab_officer, lab=x.lab)
    x.leader = make_user(Role.college_leader, college=x.college)
    x.head = make_user(Role.college_head, college=x.college)
    x.reporter = make_user()  # a student: no role at all
    x.other_leader = make_user(Role.college_leader, college=x.other_college)
    x.other_officer = make_user(Role.lab_officer, lab=x.other_lab)
    return x
