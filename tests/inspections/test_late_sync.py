"""A daily check that syncs after the nightly job flagged its day (offline phone, art. 29): within
LATE_SYNC_DAYS it clears the flag (kept, as cleared: art. 30), corrects the college's streak
notice, and the monthly summary counts the day once; older, it is stored and changes nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.inspections.models import MissedDailyCheck
from app.jobs.services import run_nightly
from app.notifications.models import Notification, OutboxEmail
from app.reports.services import monthly_summary
from app.timeutil import day_bounds_utc, school_today
from tests.factories import login
from tests.factories.inspections import inspection_payload, make_small_world
from tests.factories.tickets import backdate_lab

TZ = "Asia/Shanghai"


@pytest.fixture
def w(app):
    """Lab A1 missed the three days that just ended (D1, D2, D3): three flags, and on D3 the college
    (leader and head) heard of three misses in a row."""
    w = make_small_world()
    backdate_lab(w.lab_a)
    backdate_lab(w.lab_b)
    today = school_today(TZ)
    w.days = [today - timedelta(days=i) for i in (3, 2, 1)]
    for day in w.days:
        run_nightly(day, current_app.config, send_mail=False)
    assert flags(w) == {d: None for d in w.days}
    assert streak_keys(w) == {f"missed_streak:{w.lab_a.id}:{w.days[2]}"}
    return w


def flags(w) -> dict:
    db.session.expire_all()
    return {m.day: m.cleared_by_inspection_id for m in
            db.session.scalars(select(MissedDailyCheck).where(MissedDailyCheck.lab_id == w.lab_a.id))}


def streak_keys(w) -> set[str]:
    return set(db.session.scalars(select(Notification.dedupe_key).where(Notification.kind == "missed_streak")))


def corrections() -> list[tuple[int, str]]:
    db.session.expire_all()
    return sorted(db.session.execute(select(Notification.user_id, Notification.dedupe_key)
                                     .where(Notification.kind == "missed_streak_corrected")).tuples())


def daily_payload(w, day, **kw):
    """A daily check of A1 finished at noon school time on ``day``."""
    payload = inspection_payload(w.lab_a, w.daily, level="daily", **kw)
    noon = day_bounds_utc(day, TZ)[0] + timedelta(hours=12)
    payload["started_at"], payload["finished_at"] = iso_naive(noon - timedelta(minutes=10)), iso_naive(noon)
    return payload


def iso_naive(value):
    return value.isoformat() + "Z"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_late_check_clears_its_flag_once_and_corrects_the_streak_notice(client, w):
    d1, d2, d3 = w.days
    login(client, w.officer_a)
    payload = daily_payload(w, d2)
    first = client.post("/api/inspections", json=payload)
    assert first.status_code == 201, first.get_json()
    inspection_id = first.get_json()["id"]
    # The flag stays on record, cleared by this inspection; the other two still stand.
    assert flags(w) == {d1: None, d2: inspection_id, d3: None}
    cleared = db.session.scalar(select(MissedDailyCheck).where(MissedDailyCheck.day == d2,
                                                               MissedDailyCheck.lab_id == w.lab_a.id))
    assert cleared.cleared_at is not None and cleared.flagged_at <= cleared.cleared_at
    # The leader and the head, told on D3 of three misses in a row, hear that D2 was checked.
    key = f"missed_streak_corrected:{w.lab_a.id}:{d3}:{d2}"
    assert corrections() == sorted([(w.leader_a.id, key), (w.head_a.id, key)])
    notices, emails = count(Notification), count(OutboxEmail)

    # A replay (the outbox sending again) and a second check of the same day record nothing more.
    again = client.post("/api/inspections", json=payload)
    assert again.status_code == 200 and again.get_json()["id"] == inspection_id
    other = client.post("/api/inspections", json=daily_payload(w, d2))
    assert other.status_code == 201
    assert flags(w) == {d1: None, d2: inspection_id, d3: None}
    assert (count(Notification), count(OutboxEmail)) == (notices, emails)
    assert db.session.scalar(select(MissedDailyCheck.cleared_at).where(
        MissedDailyCheck.day == d2, MissedDailyCheck.lab_id == w.lab_a.id)) == cleared.cleared_at

    # The lab's missed checks (API) show the cleared day as cleared.
    login(client, w.leader_a)
    rows = {r["day"]: r for r in client.get(f"/api/labs/{w.lab_a.id}/missed-checks").get_json()}
    assert rows[d2.isoformat()]["cleared_by_inspection_id"] == inspection_id
    assert rows[d2.isoformat()]["cleared_at"].endswith("Z")
    assert rows[d1.isoformat()]["cleared_at"] is None
    page = client.get(f"/labs/{w.lab_a.id}/missed-checks")
    assert page.status_code == 200 and f"/inspections/{inspection_id}" in page.get_data(as_text=True)


def test_a_check_synced_after_the_bound_is_stored_but_clears_nothing(app, client, w):
    d1, d2, d3 = w.days
    app.config["LATE_SYNC_DAYS"] = 1  # D1 ended over two days ago, D3 less than one
    login(client, w.officer_a)
    too_late = client.post("/api/inspections", json=daily_payload(w, d1))
    assert too_late.status_code == 201  # stored: nothing a user submitted is lost
    assert flags(w) == {d1: None, d2: None, d3: None}
    assert corrections() == []
    in_time = client.post("/api/inspections", json=daily_payload(w, d3))
    assert in_time.status_code == 201
    assert flags(w) == {d1: None, d2: None, d3: in_time.get_json()["id"]}
    assert len(corrections()) == 2


def test_the_monthly_summary_counts_a_lab_day_as_done_or_missed_never_both(app, client, w):
    """D1: checked after the bound, the flag stands -> missed only. D3: checked in time, the flag
    is cleared -> checked only. D2: never checked -> missed."""
    d1, d2, d3 = w.days
    app.config["LATE_SYNC_DAYS"] = 1
    login(client, w.officer_a)
    for day in (d1, d3):
        assert client.post("/api/inspections", json=daily_payload(w, day)).status_code == 201
    checked = missed = 0
    for month in sorted({d.replace(day=1) for d in w.days}):
        figures = monthly_summary(month, w.college_a.id, app.config).colleges[0].current
        checked += figures.checked_days
        missed += figures.missed_checks
    assert (checked, missed) == (1, 2)


def test_the_nightly_streak_counts_standing_flags_only(app, client):
    """E1 checked; E2 flagged, then its check syncs late; E3, E4, E5 missed (n = 3). The run is
    E3-E5: the college hears on E5, not on E4 (which a cleared E2 would have completed)."""
    w = make_small_world()
    backdate_lab(w.lab_a)
    backdate_lab(w.lab_b)
    e1, e2, e3, e4, e5 = (school_today(TZ) - timedelta(days=i) for i in (5, 4, 3, 2, 1))
    login(client, w.officer_a)
    assert client.post("/api/inspections", json=daily_payload(w, e1)).status_code == 201
    run_nightly(e1, current_app.config, send_mail=False)
    run_nightly(e2, current_app.config, send_mail=False)
    assert client.post("/api/inspections", json=daily_payload(w, e2)).status_code == 201
    assert corrections() == []  # no streak had counted E2
    for day in (e3, e4, e5):
        run_nightly(day, current_app.config, send_mail=False)
    assert streak_keys(w) == {f"missed_streak:{w.lab_a.id}:{e5}"}  # (college B has no leader or head)


def test_a_check_stored_while_the_job_flags_its_day_finds_the_flag(app, is_postgres):
    """The nightly job flags the day (its transaction open) while a late check of that day is
    submitted: the submit waits for the job (PostgreSQL: the job's advisory lock, taken shared;
    SQLite: the database's write lock) and then clears the new flag instead of missing it."""
    import threading
    import time

    from sqlalchemy import text

    from app.inspections.daily_checks import DAY_LOCK_KEY as ADVISORY_LOCK_KEY
    from app.inspections.schemas import InspectionInSchema
    from app.inspections.services import submit_inspection
    from app.timeutil import utcnow

    w = make_small_world()
    backdate_lab(w.lab_a)
    day = school_today(TZ) - timedelta(days=1)
    data = InspectionInSchema().load(daily_payload(w, day))
    officer_id = w.officer_a.id
    db.session.commit()
    results, errors = [], []

    def submit():
        with app.app_context():
            try:
                from app.auth.models import User

                results.append(submit_inspection(db.session.get(User, officer_id), data, app.config).id)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    job = db.engine.connect()
    tx = job.begin()
    if is_postgres:
        job.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
    job.execute(MissedDailyCheck.__table__.insert().values(lab_id=w.lab_a.id, day=day, flagged_at=utcnow()))
    worker = threading.Thread(target=submit)
    worker.start()
    if is_postgres:  # commit once the submit waits on the lock (or after 10 s, when it never does)
        deadline = time.monotonic() + 10
        with db.engine.connect() as probe:
            while time.monotonic() < deadline and not probe.scalar(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")):
                time.sleep(0.02)
    else:
        time.sleep(0.3)
    tx.commit()
    job.close()
    worker.join(30)
    assert not errors, errors
    assert flags(w) == {day: results[0]}
