"""The shared world the access matrix runs in: two colleges, a lab in each, one user per role."""
from __future__ import annotations

import importlib
import pkgutil
from types import SimpleNamespace

import tests
from app.auth.models import Role
from tests.factories import make_college, make_department, make_lab, make_user


def case_modules():
    """tests/<domain>/access_cases.py, in a stable order."""
    mods = []
    for info in sorted(pkgutil.iter_modules(tests.__path__), key=lambda i: i.name):
        if info.ispkg:
            try:
                mods.append(importlib.import_module(f"tests.{info.name}.access_cases"))
            except ModuleNotFoundError as exc:
                if exc.name != f"tests.{info.name}.access_cases":
                    raise
    return mods


def build_world():
    w = SimpleNamespace()
    w.college_a = make_college(code="CA", name="化学与材料工程学院")
    w.college_b = make_college(code="CB", name="生命科学学院")
    w.dept = make_department("lab_management")
    w.dept_security = make_department("security")
    w.dept_assets = make_department("assets")
    w.lab_a_obj = make_lab(w.college_a, category="chemistry", hazard_tags=["hazardous_chemicals", "highly_toxic"])
    w.lab_b_obj = make_lab(w.college_b, category="biology", hazard_tags=["pathogens"])
    w.users = {
        "admin": make_user(Role.school_admin),
        "school_inspector": make_user(Role.inspector),
        "college_inspector": make_user(Role.inspector, college=w.college_a),
        "college_leader": make_user(Role.college_leader, college=w.college_a),
        "college_head": make_user(Role.college_head, college=w.college_a),
        "lab_officer": make_user(Role.lab_officer, lab=w.lab_a_obj),
        "dept_officer": make_user(Role.dept_officer, department=w.dept),
        "other_officer": make_user(Role.lab_officer, lab=w.lab_b_obj),
    }
    w.ids = {
        "lab_a": w.lab_a_obj.id,
        "lab_b": w.lab_b_obj.id,
        "college_a": w.college_a.id,
        "college_b": w.college_b.id,
        "token_a": w.lab_a_obj.qr_token,
        "token_b": w.lab_b_obj.qr_token,
        "user_lab_officer": w.users["lab_officer"].id,
    }
    for mod in case_modules():
        extend = getattr(mod, "extend_world", None)
        if extend:
            extend(w)
    return w
