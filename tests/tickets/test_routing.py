"""Routing by article to the functional departments (art. 9), and escalation triggers
for tickets opened by a real inspection."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.notifications.models import Notification
from app.tickets.models import RectificationTicket, TicketLevel
from app.tickets.routing import department_code_for, department_code_for_item
from tests.factories import make_checklist_version, make_inspection, photo_bytes


@pytest.mark.parametrize("article,text,code", [
    ("22", "灭火器、烟感", "security"),
    ("22(3)", "洗眼器", "security"),
    ("23", "安全出口畅通", "security"),
    ("23(1)", "", "security"),
    ("21", "插线板串接", "assets"),
    ("21(2)", "漏电保护", "assets"),
    ("16(2)", "剧毒化学品双人双锁", "lab_management"),
    ("16(1)", "剧毒化学品购买须经审批", "security"),  # purchase of controlled chemicals
    ("16", "易制爆化学品采购台账", "security"),
    ("24(3)", "实验室装修改造施工", "assets"),  # building works
    ("24(6)", "无饮食", "lab_management"),
    ("12", "安全培训", "lab_management"),
])
def test_article_routing(article, text, code):
    assert department_code_for(article, text) == code


def test_an_explicit_department_on_the_item_wins(app):
    version = make_checklist_version(items=(
        {"article": "16(1)", "text": "购买剧毒化学品经公安审批", "severity": "major", "department": "security"},
        {"article": "24(6)", "text": "无饮食", "severity": "general"},
    ))
    codes = [department_code_for_item(i) for i in version.items]
    assert codes == ["security", "lab_management"]


def test_an_inspection_opens_routed_tickets_and_a_major_one_goes_to_the_college(app, w):
    items = (
        {"article": "23", "text": "灭火器在位", "severity": "general"},
        {"article": "16(2)", "text": "剧毒化学品双人双锁", "severity": "major"},
    )
    version = make_checklist_version(items=items)
    from flask import current_app

    from app.inspections.schemas import InspectionInSchema
    from app.inspections.services import submit_inspection
    from tests.factories.inspections import inspection_payload

    results = {i.id: "fail" for i in version.items}
    data = InspectionInSchema().load(inspection_payload(w.lab, version, results=results))
    submit_inspection(w.inspector, data, current_app.config)
    tickets = {t.article: t for t in db.session.scalars(select(RectificationTicket))}
    assert tickets["23"].department_id == w.security.id and tickets["23"].level == TicketLevel.lab
    assert tickets["16(2)"].department_id == w.lab_mgmt.id and tickets["16(2)"].level == TicketLevel.college
    notes = {(n.user_id, n.kind, n.ticket_id) for n in db.session.scalars(select(Notification))}
    # New ticket in my lab -> both officers, for both tickets.
    for officer in (w.officer, w.officer2):
        assert {(officer.id, "new_ticket", t.id) for t in tickets.values()} <= notes
    # Major -> the college's leaders and head, and the routed department (art. 29), at once.
    major = tickets["16(2)"]
    for u in (w.leader, w.leader2, w.head):
        assert (u.id, "escalated", major.id) in notes
    assert (w.dept_lab_mgmt.id, "routed", major.id) in notes
    assert not any(k == "escalated" and t == tickets["23"].id for _, k, t in notes)


def test_re_sending_an_inspection_opens_no_second_ticket(app, w):
    insp, _ = make_inspection(w.inspector, w.lab, fail_with_photo=photo_bytes())
    n = db.session.scalar(select(func.count()).select_from(RectificationTicket))
    assert n >= 1
    from app.tickets.lifecycle import open_ticket_for_failed_answer

    answer = next(a for a in insp.answers if a.result.value == "fail")
    from flask import current_app

    from app.checklists.models import ChecklistItem

    item = db.session.get(ChecklistItem, answer.item_id)
    again = open_ticket_for_failed_answer(inspection=insp, answer=answer, item=item, actor_id=w.inspector.id,
                                          config=current_app.config)
    assert db.session.scalar(select(func.count()).select_from(RectificationTicket)) == n
    assert again == db.session.scalar(select(RectificationTicket.id).where(RectificationTicket.answer_id == answer.id))
