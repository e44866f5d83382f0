from __future__ import annotations

import itertools

from app.extensions import db
from app.org.models import College, CollegeKind, Department, Lab, LabCategory

_seq = itertools.count(1)


def make_college(code: str | None = None, name: str | None = None, kind=CollegeKind.college) -> College:
    n = next(_seq)
    college = College(code=code or f"C{n:03d}", name=name or f"测试学院{n}", name_en=f"College {n}", kind=kind)
    db.session.add(college)
    db.session.commit()
    return college


def make_department(code: str = "lab_management", name: str | None = None) -> Department:
    names = {"lab_management": "实验室建设与管理处", "security": "保卫处", "assets": "资产与后勤管理处"}
    dept = Department(code=code, name=name or names.get(code, code))
    db.session.add(dept)
    db.session.commit()
    return dept


def make_lab(
    college: College | None = None,
    *,
    category: LabCategory | str = LabCategory.chemistry,
    hazard_tags: list[str] | None = None,
    code: str | None = None,
    name: str | None = None,
    active: bool = True,
) -> Lab:
    college = college or make_college()
    n = next(_seq)
    lab = Lab(
        code=code or f"L{n:04d}",
        name=name or f"测试实验室{n}",
        building="理工楼",
        floor="3",
        room=f"3{n:02d}",
        college_id=college.id,
        category=LabCategory(category),
        hazard_tags=list(hazard_tags or []),
        phone="0572-2321000",
        active=active,
    )
    db.session.add(lab)
    db.session.commit()
    return lab
