"""In a browser: the school office closes a college's labs for the holidays on /closures, the lab's
officer names a daily-check designee on the lab page, and the phone's lab card shows both."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.auth.models import Role
from app.timeutil import school_today
from tests.factories import make_college, make_lab, make_user

from .test_phone_pages import _login


def test_holiday_closure_and_designee_on_the_lab_card(phone, live_server):
    college = make_college(name="化学与材料工程学院")
    lab = make_lab(college, name="有机合成实验室")
    officer = make_user(Role.lab_officer, lab=lab, name="安全员")
    student = make_user(Role.inspector, college=college, name="值日学生")
    admin = make_user(Role.school_admin, name="校管理员")
    today = school_today(current_app.config["SCHOOL_TIMEZONE"])
    last = (today + timedelta(days=30)).isoformat()

    office = phone().new_page()
    _login(office, admin, path="/login?next=/closures")
    office.select_option('select[name="college_id"]', str(college.id))
    office.fill('input[name="start_date"]', today.isoformat())
    office.fill('input[name="end_date"]', last)
    office.fill('input[name="reason"]', "寒假")
    office.locator('main form button[type="submit"].primary').click()
    office.wait_for_selector("text=已关闭 1 个实验室")

    page = phone().new_page()
    _login(page, officer, path=f"/login?next=/labs/{lab.id}")
    page.select_option('select[name="user_id"]', str(student.id))
    page.locator('.lab-designees button[type="submit"]:not(.link)').click()
    page.wait_for_selector(".lab-designees li:has-text('值日学生')")
    page.goto(f"/app/labs/{lab.id}")
    page.wait_for_selector("#lab-closed:not([hidden])")
    assert last in page.locator("#lab-closed").inner_text()
    # The card is drawn from the offline bundle first (it may predate the designation), then from
    # the network: wait for the fresh one.
    page.wait_for_selector("#lab-designees:has-text('值日学生')")
