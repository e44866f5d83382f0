"""The PWA's pages on a phone (390 x 844, and 360 px wide): where each role lands, the language
kept across login and logout, the confirmation of an inspection sent after an offline submit, the
menu and the tap targets, the monthly summary, the code under the nameplate's QR, and axe-core's
accessibility rules on every page (zero serious or critical violations).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db
from app.tickets.models import RectificationTicket
from tests.factories import (
    DEFAULT_PASSWORD,
    load_shipped_checklists,
    make_college,
    make_department,
    make_lab,
    make_ticket,
    make_user,
)
from tests.factories.inspections import make_inspection, photo_bytes

from .conftest import PHONE
from .test_inspector_flow import (
    _answer_all_pass_but_first,
    _review_and_submit,
    _start_checklist,
    _until,
    _wait_offline_ready,
)

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"


def _world():
    load_shipped_checklists()
    college = make_college(name="化学与材料工程学院")
    lab = make_lab(college, category="general", name="计算机实验室 A", hazard_tags=["hazardous_chemicals"])
    w = {
        "college": college,
        "lab": lab,
        "officer": make_user(Role.lab_officer, lab=lab, name="安全员"),
        "inspector": make_user(Role.inspector, college=college, name="检查员"),
        "leader": make_user(Role.college_leader, college=college, name="分管领导"),
        "dept": make_user(Role.dept_officer, department=make_department(), name="实验室处"),
        "head": make_user(Role.college_head, college=college, name="院长"),
        "admin": make_user(Role.school_admin, name="校管理员"),
    }
    w["officer"].phone = "13800000000"
    db.session.commit()
    return w


def _login(page, user, path="/login"):
    page.goto(path)
    page.locator('input[name="username"]').fill(user.username)
    page.locator('input[name="password"]').fill(DEFAULT_PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(lambda url: "/login" not in url)


def _path(page) -> str:
    return page.evaluate("location.pathname + location.search")


# ---- 1. each role lands where its daily work is --------------------------------------------------

@pytest.mark.parametrize("who, landing, ready", [
    ("officer", "/app", "#daily-list a[data-daily-lab]"),
    ("inspector", "/app/scan", "#manual-code"),
    ("leader", "/app/tickets?state=fix_submitted", '#ticket-filters select[name="state"]'),
    ("admin", "/reports/monthly", ".report-head"),
])
def test_each_role_lands_on_its_daily_work(phone, live_server, who, landing, ready):
    w = _world()
    page = phone().new_page()
    _login(page, w[who])
    page.wait_for_selector(ready)
    assert _path(page) == landing
    if who == "officer":
        assert page.locator("#daily-section").is_visible()  # the daily check, on top
    if who == "leader":
        assert page.locator('#ticket-filters select[name="state"]').input_value() == "fix_submitted"


# ---- 2. the language sticks across login and logout -----------------------------------------------

def test_english_chosen_on_the_login_page_sticks_across_login_and_logout(phone, live_server):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.locator('.lang-switch[data-lang="en"]').click()
    page.wait_for_selector('html[lang="en"]')
    _login(page, w["inspector"])
    page.wait_for_selector("#manual-code")
    assert page.locator("html").get_attribute("lang") == "en" and "Scan a lab QR code" in page.content()
    page.locator("#logout-form button").click()
    page.wait_for_url("**/login")
    assert page.locator("html").get_attribute("lang") == "en"  # logging out keeps the language
    assert "Log in" in page.locator("main h1").inner_text()

    # The choice is the user's too: a fresh phone (no choice of its own) shows English after login.
    other = phone().new_page()
    _login(other, w["inspector"])
    other.wait_for_selector("#manual-code")
    assert other.locator("html").get_attribute("lang") == "en"
    # Back to Chinese from the menu: this device and the user.
    other.locator('.lang-switch[data-lang="zh_CN"]').click()
    other.wait_for_selector('html[lang="zh-CN"]')
    page.goto("/login")
    _login(page, w["inspector"])  # the first phone's own choice (English) wins at its login
    page.wait_for_selector("#manual-code")
    assert page.locator("html").get_attribute("lang") == "en"


# ---- 3. an inspection queued offline says when it was sent and which tickets it opened -----------

def test_an_offline_submit_confirms_when_sent_with_its_tickets(phone, live_server):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    page.goto(f"/l/{w['lab'].qr_token}")
    page.locator('input[name="username"]').fill(w["inspector"].username)
    page.locator('input[name="password"]').fill(DEFAULT_PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_selector("#lab-card:not([hidden])")
    _wait_offline_ready(page)

    ctx.set_offline(True)
    _until(page, "navigator.onLine === false")
    _start_checklist(page)
    _answer_all_pass_but_first(page, note="灭火器过期")
    _review_and_submit(page)
    page.wait_for_selector('#done[data-state="queued"]')
    assert "已保存在本机" in page.locator("#done-title").inner_text()

    ctx.set_offline(False)  # the `online` event sends it; this page must say so
    page.wait_for_selector('#done[data-state="submitted"]')
    db.session.expire_all()
    ticket = db.session.scalar(select(RectificationTicket))
    assert ticket is not None
    assert "已于" in page.locator("#done-text").inner_text()  # when it was sent
    page.wait_for_selector(f'#done-tickets a[href="/app/tickets/{ticket.id}"]')
    assert page.locator("#done-tickets a").count() == 1

    # The home screen keeps the receipt.
    page.goto("/app")
    page.wait_for_selector(f'#sent-list a[href="/app/tickets/{ticket.id}"]')


# ---- 4 and 7. every action on screen at 360 px, tap targets >= 44 x 44 ---------------------------

MENU_ON_SCREEN = """() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('.topbar a, .topbar button, .mainnav a, .mainnav button')) {
    if (!el.getClientRects().length) continue;
    const r = el.getBoundingClientRect();
    if (r.left < 0 || r.right > vw + 0.5) out.push(`${el.textContent.trim()} ${Math.round(r.left)}-${Math.round(r.right)}`);
  }
  if (document.documentElement.scrollWidth > vw) out.push(`page ${document.documentElement.scrollWidth} px wide`);
  return out;
}"""


@pytest.mark.parametrize("width", [360, 390])
def test_every_menu_entry_and_log_out_is_on_screen(browser, live_server, width):
    w = _world()
    for who in ("officer", "inspector", "leader", "dept", "head", "admin"):
        ctx = browser.new_context(base_url=live_server, **{**PHONE, "viewport": {"width": width, "height": 780}})
        try:
            page = ctx.new_page()
            _login(page, w[who], path="/login?next=/app")
            page.wait_for_selector("#outbox-total")
            assert page.evaluate(MENU_ON_SCREEN) == [], who
            page.locator("#logout-form button").click()  # reachable without a sideways swipe
            page.wait_for_url("**/login")
        finally:
            ctx.close()


SMALL_TARGETS = """() => {
  const out = [];
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  for (const el of document.querySelectorAll(sel)) {
    if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    if (el.closest('[hidden], dialog:not([open])')) continue;
    let r = el.getBoundingClientRect();
    const label = el.closest('label');
    if (label && (r.width < 44 || r.height < 44)) r = label.getBoundingClientRect();  // the label is the target
    if (r.width < 43.5 || r.height < 43.5) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} "${(el.textContent || el.value || '').trim().slice(0, 20)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return out;
}"""


def _round_of(w) -> int:
    """The college's monthly round of its lab (the rounds pages, issue 22), planned once per world."""
    if "round_id" not in w:
        from datetime import timedelta

        from flask import current_app

        from app.rounds import services
        from app.rounds.schemas import RoundInSchema
        from app.timeutil import school_today

        today = school_today(current_app.config["SCHOOL_TIMEZONE"])
        data = RoundInSchema().load({
            "title": "十二月学院月度检查", "kind": "college_monthly", "owner_college_id": w["college"].id,
            "checklist_key": "full", "window_from": today.isoformat(),
            "window_to": (today + timedelta(days=6)).isoformat(), "inspector_ids": [w["inspector"].id]})
        w["round_id"] = services.create_round(w["leader"], data, services.plan_facts(data), current_app.config).id
    return w["round_id"]


def _pages(w, ticket_id):
    lab = w["lab"].id
    round_id = _round_of(w)
    return {
        None: [("/login", "main form"), ("/offline", "main")],
        "officer": [
            ("/app", "#daily-list a"),
            ("/app/scan", "#manual-code"),
            (f"/app/labs/{lab}", "#lab-card:not([hidden])"),
            (f"/app/labs/{lab}/inspect/daily?level=daily", 'body[data-inspect-ready="1"]'),
            ("/app/tickets", "#ticket-list li"),
            (f"/app/tickets/{ticket_id}", "#ticket-evidence a"),
            ("/notifications", "main"),
            ("/account/password", "main form"),
        ],
        "inspector": [
            ("/app", "#lab-list li"),
            ("/app/scan", "#manual-code"),
            (f"/app/labs/{lab}", "#checklist-buttons a"),
            (f"/app/labs/{lab}/inspect/full?level=college", 'body[data-inspect-ready="1"]'),
            (f"/app/tickets/{ticket_id}", "#ticket-evidence a"),
        ],
        "leader": [
            ("/app/tickets?state=", "#ticket-list li"),
            (f"/app/tickets/{ticket_id}", "#ticket-evidence a"),
            ("/reports/monthly", ".report-head"),
            ("/rounds", "#rounds li"),
            ("/rounds/new", 'body[data-round-form-ready="1"]'),
            (f"/rounds/{round_id}", "#changes li"),
        ],
        "admin": [("/app", "#outbox-total"), ("/reports/monthly", ".report-head"), ("/app/tickets", "#ticket-list li"),
                  ("/rounds/new", 'body[data-round-form-ready="1"]')],
    }


def _each_page(phone, w, ticket_id):
    """Yields (who, path, page) with the page loaded and filled by its JavaScript."""
    for who, pages in _pages(w, ticket_id).items():
        page = phone().new_page()
        if who is not None:
            _login(page, w[who], path="/login?next=/app")
            page.wait_for_selector("#outbox-total")
        for path, ready in pages:
            page.goto(path)
            page.wait_for_selector(ready)
            if path.startswith("/app/labs/") and "inspect" in path:
                page.locator("#mode-list").click()  # every item, every control
                page.locator("#items > li").first.locator(".choice.fail").click()  # the photo button too
                page.wait_for_selector("#items > li .fail-box:not([hidden])")
            yield who, path, page


def _ticket_with_photo(w):
    _, photo = make_inspection(w["inspector"], w["lab"], fail_with_photo=photo_bytes())
    db.session.expire_all()
    return db.session.scalar(select(RectificationTicket.id).order_by(RectificationTicket.id))


def test_tap_targets_are_at_least_44_px_on_every_phone_page(phone, live_server):
    w = _world()
    ticket_id = _ticket_with_photo(w)
    problems = {f"{who} {path}": small for who, path, page in _each_page(phone, w, ticket_id)
                if (small := page.evaluate(SMALL_TARGETS))}
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


# ---- 10. axe-core on every page -----------------------------------------------------------------

RUN_AXE = """async () => {
  const r = await axe.run(document, { resultTypes: ['violations'] });
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
}"""


def test_axe_finds_no_serious_or_critical_violation_on_any_pwa_page(phone, live_server):
    w = _world()
    ticket_id = _ticket_with_photo(w)
    source = AXE.read_text()
    found = {}
    checked = 0
    for who, path, page in _each_page(phone, w, ticket_id):
        # Through the devtools protocol, so the page's CSP (no inline script) stays as it is.
        page.evaluate(source)
        violations = page.evaluate(RUN_AXE)
        checked += 1
        if violations:
            found[f"{who} {path}"] = violations
    assert checked == sum(len(v) for v in _pages(w, ticket_id).values())
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


# ---- 8. the monthly summary at 390 px ------------------------------------------------------------

def test_monthly_summary_is_readable_on_a_phone(phone, live_server):
    w = _world()
    for n in range(3):  # several colleges: rows in every table
        make_lab(make_college(name=f"第{n}学院"), category="general")
    make_ticket(w["lab"], article="23")
    page = phone().new_page()
    _login(page, w["admin"], path="/login?next=/reports/monthly")
    page.wait_for_selector(".report-head")
    vw = page.evaluate("document.documentElement.clientWidth")
    # Chart legends wrap inside the screen.
    rights = page.evaluate(
        "[...document.querySelectorAll('.chart-legend li')].map((li) => li.getBoundingClientRect().right)"
    )
    assert rights and max(rights) <= vw
    # A wide table says it scrolls, and keeps its first column in view while it does.
    wide = page.evaluate("""() => [...document.querySelectorAll('.report-table .table-scroll')]
        .filter((s) => s.scrollWidth > s.clientWidth + 1).map((s) => s.closest('section').id)""")
    assert wide, "no table wider than the phone: nothing to check"
    section = page.locator(f"#{wide[0]}")
    assert section.locator(".scroll-hint").is_visible()
    first = section.locator("tbody tr").first.locator("td").first
    before = first.bounding_box()
    section.locator(".table-scroll").evaluate("(s) => { s.scrollLeft = s.scrollWidth; }")
    after = first.bounding_box()
    box = section.locator(".table-scroll").bounding_box()
    assert after["x"] >= box["x"] - 0.5 and abs(after["x"] - before["x"]) < 1  # sticky


# ---- 9. the code under the nameplate's QR opens the lab in the scanner -----------------------------

def test_the_code_printed_under_the_qr_opens_the_lab_in_the_scanner(phone, live_server):
    w = _world()
    # A long code (20+ letters, digits and dashes) looks like a QR token: it must still be a code.
    lab = make_lab(w["college"], category="general", code="CHEM-ORGANIC-SYNTH-01")
    make_user(Role.lab_officer, lab=lab)
    admin = phone().new_page()
    _login(admin, w["admin"], path=f"/login?next=/labs/{lab.id}/nameplate")
    printed = admin.locator(".plate-qr .plate-code").inner_text().strip()
    assert printed == "CHEM-ORGANIC-SYNTH-01"

    page = phone().new_page()
    _login(page, w["inspector"], path="/login?next=/app/scan")
    page.wait_for_selector("#manual-code")
    for typed in (
        printed,
        printed.lower(),
        "ＣＨＥＭ－ＯＲＧＡＮＩＣ－ＳＹＮＴＨ－０１",
    ):  # as printed, lower case, full-width
        page.goto("/app/scan")
        page.locator("#manual-code").fill(typed)
        page.locator("#manual-form button[type=submit]").click()
        page.wait_for_url(f"**/app/labs/{lab.id}")
