from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.auth.models import Role
from tests.factories import make_college, make_department, make_lab, make_user


@pytest.fixture
def w(app):
    """A college with a lab, everyone around it, and a second college for out-of-scope checks."""
    x = SimpleNamespace()
    x.college = make_college()
    x.other_college = make_college()
    x.lab_mgmt = make_department("lab_management")
    x.security = make_department("security")
    x.assets = make_department("assets")
    x.lab = make_lab(x.college)
    x.other_lab = make_lab(x.other_college)
    x.officer = make_user(Role.lab_officer, lab=x.lab)
    x.officer2 = make_user(Role.lab_officer, lab=x.lab)
    x.leader = make_user(Role.college_leader, college=x.college)
    x.leader2 = make_user(Role.college_leader, college=x.college)
    x.head = make_user(Role.college_head, college=x.college)
    x.inspector = make_user(Role.inspector, college=x.college)
    x.admin = make_user(Role.school_admin)
    x.dept_lab_mgmt = make_user(Role.dept_officer, department=x.lab_mgmt)
    x.dept_security = make_user(Role.dept_officer, department=x.security)
    x.dept_assets = make_user(Role.dept_officer, department=x.assets)
    x.other_leader = make_user(Role.college_leader, college=x.other_college)
    x.other_officer = make_user(Role.lab_officer, lab=x.other_lab)
    return x
