"""A small world for the accidents' tests: two colleges, a lab in each, one user per role."""
from __future__ import annotations

from types import SimpleNamespace

from app.auth.models import Role
from tests.factories import make_college, make_department, make_lab, make_user


def world():
    w = SimpleNamespace()
    w.college = make_college(code="CA", name="化学学院")
    w.other_college = make_college(code="CB", name="生命科学学院")
    w.lab = make_lab(w.college)
    w.lab2 = make_lab(w.college)
    w.other_lab = make_lab(w.other_college)
    w.lab_management = make_department("lab_management")
    w.security = make_department("security")
    w.assets = make_department("assets")
    w.admin = make_user(Role.school_admin)
    w.officer = make_user(Role.lab_officer, lab=w.lab)
    w.officer2 = make_user(Role.lab_officer, lab=w.lab2)  # another lab of the same college
    w.leader = make_user(Role.college_leader, college=w.college)
    w.head = make_user(Role.college_head, college=w.college)
    w.inspector = make_user(Role.inspector, college=w.college)
    w.lab_dept = make_user(Role.dept_officer, department=w.lab_management)
    w.security_officer = make_user(Role.dept_officer, department=w.security)
    w.assets_officer = make_user(Role.dept_officer, department=w.assets)
    w.other_officer = make_user(Role.lab_officer, lab=w.other_lab)
    w.other_leader = make_user(Role.college_leader, college=w.other_college)
    return w
