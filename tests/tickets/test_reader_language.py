"""What a reader sees is in the reader's language: ticket titles (the checklist item's text_en), the
history's labels and the notes the system writes, notice titles and e-mails. Stored facts, rendered
when read; rows written before keep their stored text."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.inspections.schemas import InspectionInSchema
from app.inspections.services import submit_inspection
from app.jobs.services import run_nightly
from app.notifications.models import Notification, OutboxEmail
from app.tickets.models import RectificationTicket, TicketEvent
from tests.factories import backdate_lab, login, make_checklist_version, make_ticket
from tests.factories.inspections import inspection_payload

ZH, EN = "灭火器在位且在有效期内", "Extinguishers in place and in date"
LAB_EN = "Teaching lab"
ITEMS = (
    {"article": "23", "text": ZH, "text_en": EN, "severity": "general"},
    {"article": "16(2)", "text": "剧毒化学品双人双锁", "text_en": "Highly toxic chemicals: two keepers, two locks",
     "severity": "major"},
)


def _failed_inspection(w):
    version = make_checklist_version(items=ITEMS)
    general, major = version.items
    data = InspectionInSchema().load(
        inspection_payload(w.lab, version, results={general.id: "fail", major.id: "fail"}))
    outcome = submit_inspection(w.inspector, data, current_app.config)
    db.session.expire_all()
    tickets = {t.article: t for t in db.session.scalars(
        select(RectificationTicket).where(RectificationTicket.id.in_(outcome.status.ticket_ids)))}
    return tickets["23"], tickets["16(2)"]


def test_a_ticket_reads_in_the_readers_language(client, w):
    w.lab.name_en = LAB_EN
    db.session.commit()
    general, _major = _failed_inspection(w)
    login(client, w.officer)
    for lang, title, lab in (("en", EN, LAB_EN), ("zh_CN", ZH, w.lab.name)):
        listed = {t["id"]: (t["title"], t["lab_name"]) for t in client.get(f"/api/tickets?lang={lang}").get_json()}
        assert listed[general.id] == (title, lab)
        detail = client.get(f"/api/tickets/{general.id}?lang={lang}").get_json()
        assert (detail["title"], detail["lab_name"]) == (title, lab)
        assert title in client.get(f"/tickets?lang={lang}").get_data(as_text=True)
        assert title in client.get(f"/tickets/{general.id}?lang={lang}").get_data(as_text=True)
        assert title in client.get(f"/labs/{w.lab.id}?lang={lang}").get_data(as_text=True)
    # The PWA's offline bundle carries the lab's open tickets, titled for its owner.
    bundle = client.get("/api/offline/bundle?lang=en").get_json()
    titles = [t["title"] for lab in bundle["labs"] for t in lab["open_tickets"]]
    assert EN in titles and ZH not in titles
    # A ticket typed by hand has one title, the same in both languages.
    typed = make_ticket(w.lab, title="通风橱故障")
    assert client.get(f"/api/tickets/{typed.id}?lang=en").get_json()["title"] == "通风橱故障"


def test_notices_and_emails_read_in_the_readers_language(client, w):
    w.officer.locale = "en"  # the officer chose English; officer2 did not choose (the school's default)
    w.lab.name_en = LAB_EN
    db.session.commit()
    general, _major = _failed_inspection(w)
    login(client, w.officer)
    for lang, lab, title, label in (("en", LAB_EN, EN, "New hazard ticket in your lab"),
                                    ("zh_CN", w.lab.name, ZH, "您的实验室有新的隐患整改单")):
        inbox = client.get(f"/api/notifications?lang={lang}").get_json()
        mine = [n for n in inbox if n["ticket_id"] == general.id and n["kind"] == "new_ticket"]
        assert [n["title"] for n in mine] == [f"{lab} · 23 · {title}"]
        assert mine[0]["label"] == label
        assert f"{lab} · 23 · {title}" in client.get(f"/notifications?lang={lang}").get_data(as_text=True)
        read = client.post(f"/api/notifications/{mine[0]['id']}/read?lang={lang}").get_json()
        assert read["title"] == f"{lab} · 23 · {title}"
    mails = {m.to_address: m for m in db.session.scalars(
        select(OutboxEmail).join(Notification, Notification.id == OutboxEmail.notification_id)
        .where(Notification.ticket_id == general.id, Notification.kind == "new_ticket"))}
    english, chinese = mails[w.officer.email], mails[w.officer2.email]
    assert english.subject == f"[LabSafe] New hazard ticket in your lab: {LAB_EN} · 23 · {EN}"
    assert english.body.startswith(f"{LAB_EN} · 23 · {EN}")
    assert chinese.subject == f"[LabSafe] 您的实验室有新的隐患整改单: {w.lab.name} · 23 · {ZH}"
    # A transition's notice too (the reviewers: leader chose English, leader2 did not).
    w.leader.locale = "en"
    db.session.commit()
    from app.tickets import lifecycle as tickets
    from tests.factories import make_photo_row

    tickets.perform_action(w.officer, general.id, "start_fix", config=current_app.config)
    tickets.perform_action(w.officer, general.id, "submit_fix", config=current_app.config, note="换了新的",
                           photos=[make_photo_row(w.officer).uuid])
    fix = {m.to_address: m.subject for m in db.session.scalars(
        select(OutboxEmail).join(Notification, Notification.id == OutboxEmail.notification_id)
        .where(Notification.kind == "fix_submitted"))}
    assert fix[w.leader.email] == f"[LabSafe] Fix waiting for your verification: {LAB_EN} · 23 · {EN}"
    assert fix[w.leader2.email].endswith(f"{w.lab.name} · 23 · {ZH}") and "[LabSafe] Fix" not in fix[w.leader2.email]


def test_the_nightly_jobs_notices_and_notes_read_in_the_readers_language(client, w):
    w.officer.locale = "en"
    w.lab.name_en = LAB_EN
    db.session.commit()
    backdate_lab(w.lab)
    general, major = _failed_inspection(w)
    general.deadline = major.deadline = datetime(2026, 3, 1)
    db.session.commit()
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
        run_nightly(date.fromisoformat(day), current_app.config, send_mail=False)
    login(client, w.officer)
    en = {(n["kind"], n["ticket_id"]): n["title"] for n in client.get("/api/notifications?lang=en").get_json()}
    zh = {(n["kind"], n["ticket_id"]): n["title"] for n in client.get("/api/notifications?lang=zh_CN").get_json()}
    assert en[("overdue", general.id)] == f"{LAB_EN} · 23 · {EN}"
    assert zh[("overdue", general.id)] == f"{w.lab.name} · 23 · {ZH}"
    missed = [n["title"] for n in client.get("/api/notifications?lang=en").get_json() if n["kind"] == "missed_check"]
    assert missed == [f"{LAB_EN} · 2026-03-0{d}" for d in (3, 2, 1)]
    # The officer (English) and officer2 (the default, Chinese) get their e-mails in their language.
    subjects = {(m.to_address, n.kind, n.ticket_id): m.subject for m, n in db.session.execute(
        select(OutboxEmail, Notification).join(Notification, Notification.id == OutboxEmail.notification_id))}
    assert subjects[(w.officer.email, "overdue", general.id)] == f"[LabSafe] Ticket overdue: {LAB_EN} · 23 · {EN}"
    assert subjects[(w.officer2.email, "overdue", general.id)] == f"[LabSafe] 整改单已逾期: {w.lab.name} · 23 · {ZH}"
    assert subjects[(w.officer.email, "missed_check", None)].startswith(f"[LabSafe] Missed daily check: {LAB_EN} · ")
    assert subjects[(w.officer2.email, "missed_check", None)].startswith("[LabSafe] 未完成日查: ")
    # The college hears of the streak (3 days), titled in words, not a bare number.
    client.post("/api/logout")
    login(client, w.leader)
    streak = {n["kind"]: n["title"] for n in client.get("/api/notifications?lang=en").get_json()}["missed_streak"]
    assert streak == f"{LAB_EN} · 3 days in a row without a daily check, up to 2026-03-03"
    streak_zh = {n["kind"]: n["title"] for n in client.get("/api/notifications?lang=zh_CN").get_json()}["missed_streak"]
    assert streak_zh == f"{w.lab.name} · 截至 2026-03-03 已连续 3 天未做日查"
    # The history: the escalation notes the system wrote, in the reader's language.
    notes = {lang: [e["note"] for e in client.get(f"/api/tickets/{t.id}?lang={lang}").get_json()["events"]
                    if e["kind"] == "escalate"]
             for lang in ("en", "zh_CN") for t in (general,)}
    assert notes["en"] == ["Deadline passed: escalated by the nightly job (as of the end of 2026-03-01)."]
    assert notes["zh_CN"] == ["已逾期：由每晚任务自动升级（截至 2026-03-01 日终）。"]
    major_notes = [e["note"] for e in client.get(f"/api/tickets/{major.id}?lang=zh_CN").get_json()["events"]
                   if e["kind"] == "escalate"]
    assert major_notes[0] == "重大隐患：已立即报告学院（第二十九条）。"
    page = client.get(f"/tickets/{general.id}?lang=zh_CN").get_data(as_text=True)
    assert "已逾期：由每晚任务自动升级" in page and "Deadline passed" not in page


def test_the_history_labels_every_kind_in_both_languages(client, w):
    from app.tickets import lifecycle as tickets

    t = make_ticket(w.lab, actor=w.inspector)
    tickets.perform_action(w.officer, t.id, "declare_cannot_fix", config=current_app.config,
                           interim_measures="拉警戒线", note="需要更换管道")
    login(client, w.officer)
    en = client.get(f"/api/tickets/{t.id}?lang=en").get_json()["events"]
    zh = client.get(f"/api/tickets/{t.id}?lang=zh_CN").get_json()["events"]
    assert [e["kind"] for e in en] == ["created", "declare_cannot_fix", "escalate"]
    assert [e["label"] for e in en] == [
        "Ticket opened", "Declared that the lab cannot fix it for now", "Escalated"]
    assert [e["label"] for e in zh] == ["整改单已创建", "声明实验室暂时无法整改", "已上报升级"]
    assert en[1]["note"] == "需要更换管道\nInterim measures: 拉警戒线"
    assert zh[1]["note"] == "需要更换管道\n临时防范措施：拉警戒线"
    assert zh[2]["note"] == "实验室暂时无法整改该隐患（第二十九条）。"
    for lang, labels in (("en", [e["label"] for e in en]), ("zh_CN", [e["label"] for e in zh])):
        page = client.get(f"/tickets/{t.id}?lang={lang}").get_data(as_text=True)
        assert all(f"<strong>{label}</strong>" in page for label in labels)
        assert "<strong>created</strong>" not in page
    # The PWA's ticket view: each kind has its label among the page's strings too.
    from app.pwa.i18n import js_strings
    from app.tickets.labels import EVENT_KINDS

    with current_app.test_request_context("/?lang=zh_CN"):
        strings = js_strings()
        assert all(strings[f"event_{kind}"] and strings[f"event_{kind}"] != kind for kind in EVENT_KINDS)
        assert strings["event_created"] == "整改单已创建"


def test_rows_written_before_keep_their_stored_text(client, w):
    """Notices and history notes written before these facts were stored read as they were stored."""
    t = make_ticket(w.lab)
    db.session.add(Notification(user_id=w.officer.id, kind="overdue", title="旧标题 · 23 · 灭火器", ticket_id=t.id,
                                lab_id=w.lab.id, params=None))
    db.session.add(TicketEvent(ticket_id=t.id, actor_id=None, kind="escalate", from_state="open", to_state="open",
                               from_level="lab", to_level="college", note="Deadline passed (old wording)."))
    db.session.commit()
    login(client, w.officer)
    for lang in ("en", "zh_CN"):
        titles = [
            n["title"] for n in client.get(f"/api/notifications?lang={lang}").get_json() if n["kind"] == "overdue"
        ]
        assert titles == ["旧标题 · 23 · 灭火器"]
        notes = [e["note"] for e in client.get(f"/api/tickets/{t.id}?lang={lang}").get_json()["events"]
                 if e["kind"] == "escalate"]
        assert notes == ["Deadline passed (old wording)."]


def test_a_recipient_without_a_language_gets_the_schools(app, w):
    from app.language import user_locale

    assert user_locale(None, current_app.config) == current_app.config["BABEL_DEFAULT_LOCALE"] == "zh_CN"
    assert user_locale("en", current_app.config) == "en"
    assert user_locale("xx", current_app.config) == "zh_CN"
