"""`flask demo-data`: a realistic 湖州师范学院 to try LabSafe with. Idempotent.

Everything goes through the same services as the admin pages and the CSV import (upsert by code /
username), so a second run finds every row as it wants it and changes nothing.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

from flask import current_app
from sqlalchemy import select

from app.accidents import services as accidents
from app.accidents.models import ReportKind
from app.accidents.schemas import AccidentInSchema
from app.auth.services import find_user
from app.checklists.models import Checklist
from app.extensions import db
from app.org import csv_import, services
from app.org.models import HAZARD_TAGS, College, CollegeKind, Department, Lab, LabCategory, LabClosure
from app.roster import services as roster
from app.rounds import rules
from app.rounds.models import RoundRule
from app.rounds.schemas import RuleInSchema
from app.timeutil import school_today, utcnow

from . import backdate

DEMO_PASSWORD = "labsafe-demo"

# (code, name, English name, kind, building)
COLLEGES = [
    ("CHEM", "化学与材料工程学院", "School of Chemistry and Materials Engineering", "college", "化学楼"),
    ("LIFE", "生命科学学院", "School of Life Sciences", "college", "生科楼"),
    ("SCI", "理学院", "School of Science", "college", "理学楼"),
    ("INFO", "信息工程学院", "School of Information Engineering", "college", "信息楼"),
    ("ENG", "工学院", "School of Engineering", "college", "工程训练中心"),
    ("MED", "医学院", "School of Medicine", "college", "医学楼"),
    ("AGRI", "农业与食品学院", "School of Agriculture and Food", "college", "农学楼"),
    ("EDU", "教师教育学院", "School of Teacher Education", "college", "教育楼"),
    ("AQUA", "浙江省水生生物资源养护与开发技术研究重点实验室",
     "Zhejiang Key Laboratory of Aquatic Resources Conservation and Development", "key_lab", "生科楼B座"),
    ("BEC", "基础实验教学中心", "Basic Experimental Teaching Centre", "teaching_centre", "实验中心楼"),
]

DEPARTMENTS = [
    ("lab_management", "实验室建设与管理处", "Laboratory Construction and Management Office",
     "实验室安全的归口管理；检查清单、培训与准入、危险废物、其它未归口的隐患（第九条（一））。"),
    ("security", "保卫处", "Security Office",
     "消防与安全设施（第二十二、二十三条）；剧毒、易制爆、易制毒化学品的购置与治安管理（第九条（二））。"),
    ("assets", "资产与后勤管理处", "Assets and Logistics Office",
     "水电与基建维修（第二十一条）；大型仪器设备与房屋（第九条（三））。"),
]

# college code -> [(name, category, hazard tags)]
LABS = {
    "CHEM": [
        ("无机化学实验室", "chemistry", "hazardous_chemicals gas_cylinders"),
        ("有机化学实验室", "chemistry", "hazardous_chemicals precursor explosive_precursor"),
        ("分析化学实验室", "chemistry", "hazardous_chemicals highly_toxic"),
        ("物理化学实验室", "chemistry", "hazardous_chemicals gas_cylinders"),
        ("高分子材料合成实验室", "chemistry", "hazardous_chemicals special_equipment"),
        ("材料表征实验室（X射线衍射）", "physics", "radiation high_voltage"),
        ("危险化学品储存室", "chemistry", "hazardous_chemicals highly_toxic precursor explosive_precursor"),
        ("催化反应实验室（高压反应釜）", "mechanical", "special_equipment gas_cylinders hazardous_chemicals"),
    ],
    "LIFE": [
        ("微生物学实验室", "biology", "pathogens"),
        ("细胞生物学实验室", "biology", "pathogens gas_cylinders"),
        ("分子生物学实验室", "biology", "hazardous_chemicals"),
        ("生物安全二级实验室（BSL-2）", "biology", "pathogens special_equipment"),
        ("实验动物房", "biology", "lab_animals"),
        ("植物生理实验室", "biology", ""),
        ("遗传学实验室", "biology", "hazardous_chemicals"),
    ],
    "SCI": [
        ("普通物理实验室", "physics", "high_voltage"),
        ("光学与激光实验室", "physics", "lasers"),
        ("近代物理实验室", "physics", "radiation high_voltage"),
        ("电子技术实验室", "physics", "high_voltage"),
        ("计算物理机房", "general", ""),
        ("数学建模实验室", "general", ""),
        ("低温物理实验室", "physics", "gas_cylinders special_equipment"),
    ],
    "INFO": [
        ("计算机基础实验室一", "general", ""),
        ("计算机基础实验室二", "general", ""),
        ("网络工程实验室", "general", ""),
        ("嵌入式系统实验室", "physics", "high_voltage"),
        ("通信原理实验室", "physics", ""),
        ("人工智能实验室", "general", ""),
        ("数据中心机房", "physics", "high_voltage"),
    ],
    "ENG": [
        ("机械加工实训室", "mechanical", "special_equipment"),
        ("焊接实训室", "mechanical", "gas_cylinders special_equipment"),
        ("数控加工实验室", "mechanical", ""),
        ("电气工程实验室", "physics", "high_voltage"),
        ("土木工程材料实验室", "mechanical", "special_equipment"),
        ("激光加工实验室", "mechanical", "lasers"),
        ("起重设备实训室", "mechanical", "special_equipment"),
        ("3D打印实验室", "mechanical", ""),
    ],
    "MED": [
        ("病原生物学实验室", "biology", "pathogens"),
        ("人体解剖学实验室", "biology", "hazardous_chemicals"),
        ("生理学实验室", "biology", "lab_animals"),
        ("药理学实验室", "chemistry", "hazardous_chemicals precursor lab_animals"),
        ("医学影像实验室", "physics", "radiation"),
        ("护理技能实训中心", "general", ""),
        ("医学细胞实验室", "biology", "pathogens gas_cylinders"),
        ("生物化学实验室", "chemistry", "hazardous_chemicals highly_toxic"),
    ],
    "AGRI": [
        ("食品理化检测实验室", "chemistry", "hazardous_chemicals gas_cylinders"),
        ("食品微生物实验室", "biology", "pathogens"),
        ("农产品加工实验室", "mechanical", "special_equipment"),
        ("土壤与植物营养实验室", "chemistry", "hazardous_chemicals"),
        ("水产养殖实验室", "biology", "lab_animals"),
        ("农药残留检测实验室", "chemistry", "hazardous_chemicals highly_toxic gas_cylinders"),
    ],
    "EDU": [
        ("微格教学实验室", "general", ""),
        ("心理学实验室", "general", ""),
        ("教育技术实验室", "general", ""),
        ("科学教育实验室", "chemistry", "hazardous_chemicals"),
        ("物理教学实验室", "physics", ""),
    ],
    "AQUA": [
        ("水生生物资源实验室", "biology", "lab_animals hazardous_chemicals"),
        ("分子生态学实验室", "biology", "hazardous_chemicals gas_cylinders"),
        ("同位素示踪实验室", "chemistry", "radiation hazardous_chemicals"),
        ("大型仪器共享平台", "physics", "high_voltage gas_cylinders lasers"),
    ],
    "BEC": [
        ("基础化学实验室一", "chemistry", "hazardous_chemicals"),
        ("基础化学实验室二", "chemistry", "hazardous_chemicals"),
        ("大学物理实验室一", "physics", ""),
        ("大学物理实验室二", "physics", "high_voltage"),
        ("基础生物实验室", "biology", ""),
        ("工程制图室", "general", ""),
    ],
}

INACTIVE_LABS = {"LIFE-106"}  # 植物生理实验室: under renovation, out of use
CLOSURES = [  # (lab code, first day, last day, reason)
    ("BEC-101", date(2027, 1, 18), date(2027, 2, 21), "寒假"),
    ("EDU-102", date(2027, 1, 18), date(2027, 2, 21), "寒假"),
    ("SCI-105", date(2026, 12, 1), date(2026, 12, 31), "机房改造"),
]

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "霞",
          "平", "刚", "桂英", "建华", "晓东", "海燕", "志强", "丽华", "文博", "雨婷", "子涵", "浩然", "思远", "嘉怡"]


def _person(n: int) -> str:
    return _SURNAMES[n % len(_SURNAMES)] + _GIVEN[(n * 7) % len(_GIVEN)]


@dataclass
class DemoUser:
    username: str
    name: str
    roles: str  # the CSV roles column
    label: str  # shown by `flask demo-logins`


@dataclass
class DemoPlan:
    users: list[DemoUser] = field(default_factory=list)
    labs: list[dict] = field(default_factory=list)


def plan() -> DemoPlan:
    p = DemoPlan()
    n = 0

    def person():
        nonlocal n
        n += 1
        return _person(n)

    p.users.append(DemoUser("admin", person(), "school_admin", "school admin"))
    for code, *_ in DEPARTMENTS:
        short = {"lab_management": "labmgmt", "security": "security", "assets": "assets"}[code]
        p.users.append(DemoUser(f"dept.{short}", person(), f"dept_officer:{code}", f"department officer ({code})"))
    p.users.append(DemoUser("inspector", person(), "inspector", "school inspector (all labs)"))
    for code, _name, _en, _kind, building in COLLEGES:
        low = code.lower()
        p.users.append(DemoUser(f"{low}.inspector", person(), f"inspector:{code}", f"college inspector ({code})"))
        p.users.append(DemoUser(f"{low}.leader", person(), f"college_leader:{code}", f"college leader ({code})"))
        p.users.append(DemoUser(f"{low}.head", person(), f"college_head:{code}", f"college head ({code})"))
        labs = LABS[code]
        for i, (lab_name, category, hazards) in enumerate(labs):
            lab_code = f"{code}-{101 + i}"
            officer = f"{low}.officer{i // 2 + 1}"
            if i % 2 == 0:
                p.users.append(DemoUser(officer, person(), "", f"lab officer ({code})"))
            officers = [officer]
            if set(hazards.split()) & {"highly_toxic", "pathogens"}:
                # "五双" and biosafety: these labs have a second officer (art. 16(2), 19).
                officers.append(f"{low}.officer{(i // 2 + 1) % ((len(labs) + 1) // 2) + 1}")
            floor = str(1 + i // 4)
            p.labs.append({
                "code": lab_code,
                "name": lab_name,
                "college": code,
                "category": category,
                "hazard_tags": hazards,
                "building": building,
                "floor": floor,
                "room": f"{floor}{(i % 4) + 1:02d}",
                "phone": f"0572-2321{(len(p.labs) + 100):03d}",
                "officers": ";".join(officers),
                "active": "0" if lab_code in INACTIVE_LABS else "1",
            })
    return p


@dataclass
class DemoResult:
    counts: dict[str, tuple[int, int, int]]  # kind -> (created, updated, unchanged)

    @property
    def changed(self) -> bool:
        return any(c or u for c, u, _ in self.counts.values())


def load() -> DemoResult:
    p = plan()
    counts: dict[str, tuple[int, int, int]] = {}

    created = updated = unchanged = 0
    existing = {c.code: c for c in db.session.scalars(select(College))}
    for code, name, name_en, kind, _building in COLLEGES:
        college = existing.get(code)
        want = (name, name_en, CollegeKind(kind), True)
        if college is not None and (college.name, college.name_en, college.kind, college.active) == want:
            unchanged += 1
            continue
        services.save_college(college, code=code, name=name, name_en=name_en, kind=kind, active=True)
        created, updated = (created + 1, updated) if college is None else (created, updated + 1)
    counts["colleges"] = (created, updated, unchanged)

    created = updated = unchanged = 0
    existing_d = {d.code: d for d in db.session.scalars(select(Department))}
    for code, name, name_en, remit in DEPARTMENTS:
        dept = existing_d.get(code)
        if dept is not None and (dept.name, dept.name_en, dept.remit) == (name, name_en, remit):
            unchanged += 1
            continue
        services.save_department(dept, code=code, name=name, name_en=name_en, remit=remit)
        created, updated = (created + 1, updated) if dept is None else (created, updated + 1)
    counts["departments"] = (created, updated, unchanged)

    # Every demo user has the same published password: hash it once, not 70 times.
    from werkzeug.security import generate_password_hash

    demo_hash = generate_password_hash(DEMO_PASSWORD)
    rows = [
        (i, {"username": u.username, "name": u.name, "password_hash": demo_hash, "roles": u.roles,
             "email": f"{u.username}@demo.zjhu.edu.cn", "phone": ""})
        for i, u in enumerate(p.users, start=2)
    ]
    r = csv_import.import_user_rows(rows)
    counts["users"] = (len(r.created), len(r.updated), len(r.unchanged))

    r = csv_import.import_lab_rows(list(enumerate(p.labs, start=2)))
    counts["labs"] = (len(r.created), len(r.updated), len(r.unchanged))

    created = unchanged = 0
    for lab_code, start, end, reason in CLOSURES:
        lab = services.find_lab_by_code(lab_code)
        exists = db.session.scalar(
            select(LabClosure.id).where(LabClosure.lab_id == lab.id, LabClosure.start_date == start,
                                        LabClosure.end_date == end)
        )
        if exists:
            unchanged += 1
        else:
            services.add_closure(lab, start, end, reason)
            created += 1
    counts["closures"] = (created, 0, unchanged)
    admin = find_user("admin")
    assert admin is not None
    _grade_risk(admin.id)
    counts["round rules"], counts["rounds planned"] = _round_rules()
    counts["roster entries"] = _roster()
    counts["accidents"] = _accidents()
    return DemoResult(counts)


# Accidents (issue 24, art. 31-33): (UUID name, college, reporter, days ago, facts, the unit's report or None).
ACCIDENTS = [
    ("demo-accident-1", "CHEM", "chem.leader", 20,
     {"place": "通风橱", "description": "回流装置冷凝水管脱落，加热套过热冒烟，未起明火", "property_loss_yuan": 3000,
      "first_measures": "切断电源，开窗通风，疏散人员"},
     {"summary": "冷凝水管老化脱落导致加热套干烧冒烟。", "causes": "水管未定期更换；实验无人值守",
      "measures": "更换全部冷凝水管；重申实验期间不得离人（第二十四条（五））"}),
    ("demo-accident-2", "LIFE", "life.leader", 4,
     {"place": "细胞培养室", "description": "学生取用液氮时未戴防护手套，手部冻伤", "light_injuries": 1,
      "first_measures": "温水复温，送校医院处理"}, None),
]


def _accidents() -> tuple[int, int, int]:
    """One or two accidents, reported through the accidents' services (found again by their UUID)."""
    created = unchanged = 0
    for name, college, reporter, days, facts, unit in ACCIDENTS:
        client_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"labsafe:{name}"))
        user = find_user(reporter)
        lab = db.session.scalar(select(Lab).join(College, College.id == Lab.college_id)
                                .where(College.code == college).order_by(Lab.code).limit(1))
        if user is None or lab is None:
            continue
        when = utcnow().replace(microsecond=0) - timedelta(days=days)
        data = AccidentInSchema().load({"client_uuid": client_uuid, "lab_id": lab.id,
                                        "occurred_at": when.replace(tzinfo=UTC).isoformat(), **facts})
        m = backdate.mark()
        accident, made = accidents.report_accident(user, lab, data, current_app.config)
        if not made:
            unchanged += 1
            continue
        created += 1
        # Reported half an hour after it happened: its notices and deadline then, not at `make run`.
        reported = when + timedelta(minutes=30)
        backdate.shift_since(m, reported, service_now=accident.reported_at)
        accident.reported_at = reported
        accident.unit_report_due_at = reported + timedelta(days=int(current_app.config["ACCIDENT_UNIT_REPORT_DAYS"]))
        db.session.commit()
        if unit is not None:
            accidents.file_report(user, accident, ReportKind.unit, unit)
    return created, 0, unchanged


# Recurring rounds (issue 22): (title, kind, college code or None, checklist, recurrence, lead days,
# inspector, maker). Made once (found again by title); their rounds due now are planned at once, as
# tonight's nightly job would, so the rounds list is not empty on the first `make run`.
ROUND_RULES = [
    ("化学与材料工程学院月度检查", "college_monthly", "CHEM", "full", "monthly", 7, "chem.inspector", "chem.leader"),
    ("生命科学学院按风险等级检查", "college_monthly", "LIFE", None, "by_risk", 3, "life.inspector", "life.leader"),
    ("学校学期实验室安全检查", "school_wide", None, "full", "semester", 14, "inspector", "admin"),
]


def _round_rules() -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The demo's recurring rules, through the rounds' services (after `flask checklists load`: without
    the full list there is nothing to plan with, and the demo makes none)."""
    if db.session.scalar(select(Checklist.id).where(Checklist.key == "full")) is None:
        return (0, 0, 0), (0, 0, 0)
    made = set(db.session.scalars(select(RoundRule.title)))
    today = school_today(current_app.config["SCHOOL_TIMEZONE"])
    created = unchanged = 0
    for title, kind, college, checklist, recurrence, lead, inspector, maker in ROUND_RULES:
        if title in made:
            unchanged += 1
            continue
        owner = db.session.scalar(select(College.id).where(College.code == college)) if college else None
        data = RuleInSchema().load({"title": title, "kind": kind, "owner_college_id": owner,
                                    "checklist_key": checklist, "recurrence": recurrence, "lead_days": lead,
                                    "inspector_ids": [find_user(inspector).id]})
        rules.create_rule(find_user(maker), data, rules.plan_facts(data), today)
        created += 1
    planned = rules.plan_due_rounds(today, current_app.config)
    db.session.commit()
    return (created, 0, unchanged), (planned["planned"], 0, 0)


# Lab access rosters (准入, art. 12-13): a few people on a few labs, one expiring soon (the nightly job
# reminds), one expired and one who failed the exam (what an inspector finds on the spot). The first lab
# requires its own training (art. 13(2)). (lab code, name, staff number, exam passed, days of validity left)
ROSTER = [
    ("CHEM-101", "陈思远", "2023110101", True, 200),
    ("CHEM-101", "林晓雨", "2023110102", True, 10),
    ("CHEM-101", "黄子涵", "2023110103", True, -5),
    ("CHEM-101", "赵一鸣", "2023110104", False, 300),
    ("CHEM-102", "吴佳怡", "2022110201", True, 120),
    ("LIFE-101", "孙浩然", "2023120101", True, 90),
    ("LIFE-101", "周若曦", "2023120102", True, 3),
]
ROSTER_TRAINING_LABS = {"CHEM-101"}


def _roster() -> tuple[int, int, int]:
    """The demo rosters, through the roster's services as the lab's officer would add them; made once
    (a person found again by lab and staff number)."""
    from datetime import timedelta

    today = school_today(current_app.config["SCHOOL_TIMEZONE"])
    admin = find_user("admin")
    created = unchanged = 0
    for code, name, staff_no, passed, days in ROSTER:
        lab = services.find_lab_by_code(code)
        if lab is None:
            continue
        if any(e["staff_no"] == staff_no for e in roster.roster(lab, current_app.config).entries):
            unchanged += 1
            continue
        if code in ROSTER_TRAINING_LABS:
            roster.set_training_required(admin, lab, True)
        valid_until = today + timedelta(days=days)
        roster.add_entry(admin, lab, {
            "name": name, "staff_no": staff_no, "email": "", "exam_date": valid_until - timedelta(days=365),
            "exam_score": 88 if passed else 52, "exam_passed": passed,
            "training_date": valid_until - timedelta(days=360), "valid_until": valid_until}, current_app.config)
        created += 1
    return created, 0, unchanged


def _grade_risk(admin_id: int) -> None:
    """Each demo lab not graded yet is assessed (MOE 2024 grades, org.risk) with answers its hazard
    tags suggest, so the demo shows the grades, their reasons and the nameplates' colour bands."""
    for lab in db.session.scalars(select(Lab).where(Lab.risk_level.is_(None)).order_by(Lab.id)):
        tags = set(lab.hazard_tags or [])
        chemicals = tags & {"hazardous_chemicals", "highly_toxic", "precursor", "explosive_precursor"}
        answers = {
            "hazchem_amount": 30 if chemicals else 0,
            "controlled_chemicals": "yes" if "highly_toxic" in tags else "no",
            "drug_precursors": "yes" if "precursor" in tags else "no",
            "special_equipment": 1 if "special_equipment" in tags else 0,
            "gas_cylinders": 2 if "gas_cylinders" in tags else 0,
            "biosafety_level": "bsl2" if "pathogens" in tags else "none",
            "radiation": "low" if "radiation" in tags else "none",
            "laser_class": "class_3r" if "lasers" in tags else "none",
        }
        services.assess_risk(lab, answers, by_user_id=admin_id)


def coverage_problems() -> list[str]:
    """What the plan fails to cover (checked by the tests): every category and hazard tag."""
    p = plan()
    problems = []
    categories = {lab["category"] for lab in p.labs}
    for c in LabCategory:
        if c.value not in categories:
            problems.append(f"no lab of category {c.value}")
    tags = {t for lab in p.labs for t in lab["hazard_tags"].split()}
    problems += [f"no lab with hazard {t}" for t in HAZARD_TAGS if t not in tags]
    return problems


def logins() -> list[tuple[str, str, str, str]]:
    """(username, name, role and scope, password) for `flask demo-logins`."""
    return [(u.username, u.name, u.label, DEMO_PASSWORD) for u in plan().users]
