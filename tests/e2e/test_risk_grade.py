"""A lab's risk grade in the browser: the college leader assesses on the lab's risk page, the grade
(MOE 2024 measures) shows with its reason, and the inspector's phone shows it on the lab card."""
from __future__ import annotations

from app.auth.models import Role
from tests.factories import load_shipped_checklists, make_college, make_lab, make_user

from .test_phone_pages import _login


def test_leader_grades_a_lab_and_the_phone_card_shows_it(phone, live_server):
    load_shipped_checklists()
    college = make_college(name="化学与材料工程学院")
    lab = make_lab(college, category="physics", name="激光实验室", hazard_tags=["lasers"])
    make_user(Role.lab_officer, lab=lab)
    leader = make_user(Role.college_leader, college=college, name="分管领导")
    inspector = make_user(Role.inspector, college=college)

    page = phone().new_page()
    _login(page, leader, path=f"/login?next=/labs/{lab.id}/risk")
    assert page.locator("#risk-grade .risk-none").inner_text() == "未定级"
    form = page.locator("#risk-form")
    for name, value in (("hazchem_amount", "0"), ("special_equipment", "0"), ("gas_cylinders", "0")):
        form.locator(f'input[name="{name}"]').fill(value)
    for name in ("controlled_chemicals", "drug_precursors"):
        form.locator(f'input[name="{name}"][value="no"]').check()
    form.locator('select[name="laser_class"]').select_option("class_3b_4")
    form.locator('button[type="submit"]').click()
    page.wait_for_selector("#risk-grade .risk-II")
    assert page.locator("#risk-grade .risk-II").inner_text() == "Ⅱ级 · 橙 · 高风险"
    assert page.locator("#risk-reason").inner_text() == "使用 3B 类或 4 类激光设备"
    assert page.locator("#risk-cadence").inner_text() == "每两周一次学院检查"
    assert page.locator("#risk-history tbody tr").count() == 1

    card = phone().new_page()
    _login(card, inspector, path=f"/login?next=/app/labs/{lab.id}")
    card.wait_for_selector('#lab-risk [data-risk-level="II"]')
    assert card.locator("#lab-risk .tag").inner_text() == "Ⅱ级 · 橙 · 高风险"
