"""`flask demo-activity`: about two months of what `flask demo-data`'s people would have done.

Daily checks by the lab officers (most labs most days, a few with gaps), a monthly college
inspection of every lab with the full checklist (art. 28), school inspections of some hazardous
labs (art. 27), failed items with photos, the tickets they open moved through their lifecycle by
the right people, and the nightly job for every day covered (art. 29). Everything goes through the
real services (inspections.submit_inspection, photos.store_photo, tickets.perform_action,
jobs.process_day), day by day in order, so the data is what those users would have produced.

Deterministic: every choice comes from a random generator seeded with SEED and the *calendar*
thing it decides (a lab and a day, a lab and a month, a ticket), and inspection and photo UUIDs
are uuid5 of the same, so a second run the same day finds every inspection already stored and
changes nothing (a later run adds the days since). Times: inspections carry device times in the
past; the ticket, notice and nightly services stamp "now", which app.demo.backdate moves back
to the simulated moment (demo only, documented there).
"""
from __future__ import annotations

import base64
import hashlib
import io
import logging
import random
import time as _time
import uuid as uuidlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from sqlalchemy import event, select

from app.auth.models import User
from app.auth.services import find_user, lab_officers
from app.checklists import services as checklists
from app.checklists.models import ChecklistItem
from app.errors import DomainError
from app.extensions import db
from app.hazards import services as hazards
from app.inspections.models import Inspection, InspectionAnswer, MissedDailyCheck
from app.inspections.services import submit_inspection
from app.jobs.models import NightlyRun
from app.jobs.services import process_day
from app.notifications.models import Notification, OutboxEmail
from app.org.models import Lab, LabClosure
from app.org.services import find_lab_by_code
from app.photos.models import Photo
from app.photos.services import store_photo
from app.tickets.lifecycle import perform_action
from app.tickets.models import RectificationTicket, TicketEvent
from app.timeutil import school_today, to_utc_naive, utcnow

from . import backdate
from . import data as demo

log = logging.getLogger(__name__)

SEED = 2017  # the regulation's year; any fixed number would do
NAMESPACE = uuidlib.UUID("6c1f3a52-5d2e-4b8e-9a57-1ab5afe0d3e0")  # demo activity's uuid5 namespace
DEFAULT_DAYS = 60
USER_ACTIONS = ("start_fix", "submit_fix", "verify", "reject", "declare_cannot_fix")

# What an inspector writes under a failed item, by article (art. 15-24); generic otherwise.
FAIL_NOTES = {
    "15": "防护用品不全：护目镜、手套数量不足，部分已破损。",
    "16": "危化品台账与实物不符，部分试剂未登记领用记录。",
    "17": "废液桶未贴标签，与普通垃圾混放。",
    "18": "设备定期检验标签过期，操作规程未上墙。",
    "19": "生物安全柜使用记录不全。",
    "20": "仪器运行时无人值守，维护记录缺失。",
    "21": "插线板串接使用，电源线老化。",
    "22": "洗眼器未定期放水检查，无检查记录。",
    "23": "安全通道堆放纸箱杂物，灭火器压力不足。",
    "24": "实验台上发现饮料瓶和食品包装。",
}
GENERIC_FAIL = "现场检查发现不符合要求，已拍照留存并当场告知实验室人员。"
FIX_NOTES = [
    "已按要求整改完毕，见整改后照片。",
    "已清理并重新规范放置，已对实验室人员进行提醒教育。",
    "已更换相关物品并补齐记录，整改后照片已上传。",
]
VERIFY_NOTES = ["现场复查，整改到位，同意关闭。", "已核对整改照片并现场查看，符合要求。"]
REJECT_NOTE = "整改不彻底：照片显示问题仍然存在，请重新整改并补充记录。"
INTERIM = "已设置警示标识并暂停使用相关设施，每日专人巡查；需维修改造，已报学院和职能部门（第二十九条）。"

# Ticket scripts: (days after the ticket was opened, action) in order.
SCRIPTS = {
    "closed": [(1, "start_fix"), (3, "submit_fix"), (4, "verify")],
    "closed_major": [(0, "start_fix"), (1, "submit_fix"), (2, "verify")],
    "submitted": [(1, "start_fix"), (3, "submit_fix")],
    "fixing": [(2, "start_fix")],
    "ignored": [],  # overdue: the nightly job escalates it
    "rejected": [(1, "start_fix"), (2, "submit_fix"), (3, "reject"), (5, "submit_fix"), (6, "verify")],
    "cannot_fix": [(1, "declare_cannot_fix")],
}
HAZARDOUS = {"hazardous_chemicals", "highly_toxic", "pathogens", "special_equipment", "radiation", "gas_cylinders"}


def _rng(*parts) -> random.Random:
    return random.Random(":".join(str(p) for p in (SEED, *parts)))


def _uuid(*parts) -> str:
    return str(uuidlib.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


def _frac(*parts) -> float:
    """A stable number in [0, 1) for these parts (hash, not a generator: cheap for ranking)."""
    h = hashlib.sha256(":".join(str(p) for p in (SEED, *parts)).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


# ---- photos ---------------------------------------------------------------------------------

def demo_photo(label: str, lab_code: str, when_local: datetime, kind: str) -> bytes:
    """A small JPEG standing for a phone photo: a coloured scene with text, EXIF capture time."""
    from PIL import Image, ImageDraw, ImageFont

    r = _rng("photo", label, kind)
    hue = (r.randint(60, 200), r.randint(60, 200), r.randint(60, 200))
    if kind == "after":
        hue = (90, 170, 110)
    img = Image.new("RGB", (640, 480), hue)
    d = ImageDraw.Draw(img)
    d.rectangle((0, 330, 640, 480), fill=(120, 100, 80))  # bench
    for _ in range(6):  # bottles and boxes
        x, w, h = r.randint(20, 560), r.randint(30, 70), r.randint(40, 160)
        d.rectangle((x, 330 - h, x + w, 330), fill=(r.randint(0, 255), r.randint(0, 255), r.randint(0, 255)))
    if kind == "before":
        d.ellipse((250, 150, 390, 290), outline=(220, 20, 20), width=8)
    font = ImageFont.load_default(size=22)
    lines = ["LabSafe demo photo", f"{lab_code}  {kind.upper()}", when_local.strftime("%Y-%m-%d %H:%M"), label[:40]]
    for i, line in enumerate(lines):
        d.text((16, 16 + 30 * i), line, fill=(255, 255, 255), font=font, stroke_width=2, stroke_fill=(0, 0, 0))
    exif = Image.Exif()
    exif[0x0132] = when_local.strftime("%Y:%m:%d %H:%M:%S")
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = when_local.strftime("%Y:%m:%d %H:%M:%S")
    sub[0x9011] = when_local.strftime("%z")[:3] + ":" + when_local.strftime("%z")[3:]
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80, exif=exif)
    return buf.getvalue()


# ---- the world ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemInfo:
    """A checklist item's fields the demo reads, copied once: ORM rows expire at every commit."""

    id: int
    item_key: str
    article: str
    severity: str


@dataclass
class LabInfo:
    lab_id: int
    code: str
    college: str
    officers: list
    hazardous: bool


@dataclass
class TicketPlan:
    ticket_id: int
    key: str
    opened: date
    lab: LabInfo
    script: str
    done: int = 0


@dataclass
class ActivityResult:
    counts: Counter = field(default_factory=Counter)
    first_day: date | None = None
    last_day: date | None = None
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return any(v for k, v in self.counts.items() if not k.startswith("already"))


class DemoWorldMissing(DomainError):
    status = 400
    code = "demo_world_missing"


class Generator:
    def __init__(self, config, *, days: int = DEFAULT_DAYS, colleges=None, now: datetime | None = None):
        self.config = config
        self.tz = ZoneInfo(config["SCHOOL_TIMEZONE"])
        self.now = now or utcnow()
        self.today = school_today(config["SCHOOL_TIMEZONE"], self.now)
        self.first_day = self.today - timedelta(days=days)
        self.colleges = {c.strip().upper() for c in (colleges or []) if c.strip()} or None
        self.result = ActivityResult(first_day=self.first_day, last_day=self.today)
        self.c = self.result.counts
        self.pending: list[TicketPlan] = []
        self.reject_assigned = self.cannot_fix_assigned = False
        self.received: list[tuple[int, datetime]] = []
        self.uploaded: list[tuple[str, datetime]] = []

    # -- setting up --
    def _utc(self, day: date, minutes: int) -> datetime:
        """Naive UTC of a school-local day plus minutes after midnight."""
        return to_utc_naive(datetime.combine(day, time.min, tzinfo=self.tz) + timedelta(minutes=minutes))

    def _local(self, utc_naive: datetime) -> datetime:
        return utc_naive.replace(tzinfo=UTC).astimezone(self.tz)

    def load_world(self) -> None:
        plan = demo.plan()
        self.labs: list[LabInfo] = []
        for row in plan.labs:
            if self.colleges and row["college"] not in self.colleges:
                continue
            lab = find_lab_by_code(row["code"])
            if lab is None:
                raise DemoWorldMissing(f"Lab {row['code']} is missing: run `flask demo-data` first.")
            if not lab.active:
                continue
            officers = sorted(lab_officers(lab.id), key=lambda u: u.username)
            if not officers:
                continue
            self.labs.append(LabInfo(lab.id, row["code"], row["college"], officers,
                                     bool(set(lab.hazard_tags or ()) & HAZARDOUS)))
        if not self.labs:
            raise DemoWorldMissing("No demo labs found: run `flask demo-data` first.")
        self.users = {}
        for name in ["inspector"] + [f"{c.lower()}.{r}" for c in {li.college for li in self.labs}
                                     for r in ("inspector", "leader")]:
            user = find_user(name)
            if user is None or not user.active:
                raise DemoWorldMissing(f"Demo user {name} is missing or inactive: run `flask demo-data` first.")
            self.users[name] = user
        try:
            self.daily_version = checklists.current_version("daily")
            self.full_version = checklists.current_version("full")
        except DomainError:
            raise DemoWorldMissing(
                "The daily and full checklists are not loaded: run `flask checklists load` first."
            ) from None
        self.items: dict[tuple[int, int], list] = {}
        self.daily_version_id, self.full_version_id = self.daily_version.id, self.full_version.id
        for li in self.labs:
            lab = db.session.get(Lab, li.lab_id)
            for v in (self.daily_version, self.full_version):
                self.items[(v.id, li.lab_id)] = [
                    ItemInfo(i.id, i.item_key, i.article, i.severity.value) for i in checklists.items_for_lab(v, lab)
                ]
        self.existing = set(db.session.scalars(select(Inspection.uuid)))

        self.ticket_by_key = {
            f"{u}:{k}": tid
            for tid, u, k in db.session.execute(
                select(RectificationTicket.id, Inspection.uuid, ChecklistItem.item_key)
                .join(Inspection, Inspection.id == RectificationTicket.inspection_id)
                .join(ChecklistItem, ChecklistItem.id == RectificationTicket.item_id)
            )
        }

        self.closures: dict[int, list[tuple[date, date]]] = {}
        for lab_id, s, e in db.session.execute(select(LabClosure.lab_id, LabClosure.start_date, LabClosure.end_date)):
            self.closures.setdefault(lab_id, []).append((s, e))
        # The demo labs exist from the first simulated day's midnight (not earlier, or the monthly
        # summary would count the unsimulated days before it as missed). The nightly job checks a
        # lab on every day it existed when the day began, so that first day counts like the others.
        moved = backdate.labs_existed_since([li.lab_id for li in self.labs], self._utc(self.first_day, 0))
        self.c["labs dated back"] += moved
        db.session.commit()

    # -- inspections --
    def _submit(self, user, li: LabInfo, version_id: int, level: str, key: str, started: datetime, finished: datetime,
                failures: dict, note: str = "", na: set = frozenset()) -> None:
        """One inspection: photos first (as the PWA uploads them), then the submission."""

        uuid = _uuid("inspection", key)
        if uuid in self.existing:
            self.c["already there"] += 1
            self._register_tickets(uuid, li, failures, started)
            return
        received = finished + timedelta(seconds=60 + int(_frac(uuid, "rx") * 120))
        answers = []
        for item in self.items[(version_id, li.lab_id)]:
            if item.id in failures:
                photo_uuid = _uuid("photo", uuid, item.item_key)
                shot = self._local(finished - timedelta(minutes=2))
                store_photo(user, photo_uuid, demo_photo(f"art. {item.article}", li.code, shot, "before"),
                            self.config)
                self.uploaded.append((photo_uuid, received))
                self.c["photos"] += 1
                answers.append({"item_id": item.id, "result": "fail", "note": failures[item.id],
                                "photos": [photo_uuid]})
            else:
                answers.append({"item_id": item.id, "result": "na" if item.id in na else "pass", "note": "",
                                "photos": []})
        data = {"uuid": uuid, "lab_id": li.lab_id, "checklist_version_id": version_id, "level": level,
                "started_at": started.replace(tzinfo=UTC), "finished_at": finished.replace(tzinfo=UTC),
                "note": note, "answers": answers}
        m = backdate.mark() if failures else None
        outcome = submit_inspection(user, data, self.config)
        self.existing.add(uuid)
        self.received.append((outcome.id, received))
        self.c[f"inspections ({level})"] += 1
        if m is not None and outcome.created:
            backdate.shift_since(m, received)
            self.c["tickets"] += len(outcome.status.ticket_ids)

            for tid, k in db.session.execute(
                select(RectificationTicket.id, ChecklistItem.item_key)
                .join(ChecklistItem, ChecklistItem.id == RectificationTicket.item_id)
                .where(RectificationTicket.id.in_(outcome.status.ticket_ids))
            ):
                self.ticket_by_key[f"{uuid}:{k}"] = tid
        self._register_tickets(uuid, li, failures, started)

    def _register_tickets(self, uuid: str, li: LabInfo, failures: dict, started: datetime) -> None:
        if not failures:
            return
        opened = self._local(started).date()
        keys = {item.id: item for item in self.items[(self.full_version_id, li.lab_id)]}
        keys.update({item.id: item for item in self.items[(self.daily_version_id, li.lab_id)]})
        for item_id in sorted(failures):
            item = keys[item_id]
            key = f"{uuid}:{item.item_key}"
            tid = self.ticket_by_key.get(key)
            if tid is None:
                continue
            severity = item.severity
            age = (self.today - opened).days
            if not self.reject_assigned and age >= 10 and severity == "general":
                script, self.reject_assigned = "rejected", True
            elif not self.cannot_fix_assigned and age >= 3 and severity == "general":
                script, self.cannot_fix_assigned = "cannot_fix", True
            else:
                x = _frac("script", key)
                script = ("closed" if x < 0.55 else "submitted" if x < 0.67 else "fixing" if x < 0.77 else "ignored")
                if script == "closed" and severity == "major":
                    script = "closed_major"
            done = db.session.scalar(
                select(db.func.count()).select_from(TicketEvent)
                .where(TicketEvent.ticket_id == tid, TicketEvent.actor_id.is_not(None),
                       TicketEvent.kind.in_(USER_ACTIONS))
            ) or 0
            self.pending.append(TicketPlan(tid, key, opened, li, script, done))

    def _failures(self, r: random.Random, items, p_general: float, p_major: float) -> dict:
        out = {}
        for item in items:
            p = p_major if item.severity == "major" else p_general
            if r.random() < p:
                out[item.id] = FAIL_NOTES.get(item.article.split("(")[0], GENERIC_FAIL)
        return out

    def daily_checks(self, day: date) -> None:
        for li in self.labs:
            if any(s <= day <= e for s, e in self.closures.get(li.lab_id, ())):
                continue  # closed days are not misses (art. 29)
            r = _rng("daily", li.code, day.isoformat())
            profile = _frac("profile", li.code)
            weekend = day.weekday() >= 5
            if profile < 0.80:  # most labs: nearly every day
                skip = 0.15 if weekend else 0.01
            elif profile < 0.93:  # patchy
                skip = 0.45 if weekend else 0.08
            else:  # a lab with gaps: several days in a row now and then (the college hears of it)
                skip = 0.5 if weekend else 0.1
                if (day.toordinal() + int(profile * 1000)) % 23 < 4:
                    skip = 1.0
            if r.random() < skip:
                continue
            start = 8 * 60 + r.randint(0, 150)
            started = self._utc(day, start)
            finished = started + timedelta(minutes=r.randint(3, 8), seconds=r.randint(0, 59))
            if finished > self.now - timedelta(minutes=5):
                continue  # today: only what has been done by now
            items = self.items[(self.daily_version_id, li.lab_id)]
            failures = {}
            if r.random() < 0.004 and items:
                item = r.choice(items)
                failures[item.id] = FAIL_NOTES.get(item.article.split("(")[0], GENERIC_FAIL)
            officer = li.officers[r.randrange(len(li.officers))]
            self._submit(officer, li, self.daily_version_id, "daily", f"daily:{li.code}:{day}", started, finished,
                         failures)

    def college_inspections(self, day: date) -> None:
        """Art. 28: each lab once a month, on a day of the month fixed by lab and month."""
        for li in self.labs:
            r = _rng("college", li.code, f"{day.year}-{day.month:02d}")
            if r.randint(3, 26) != day.day or day.weekday() >= 5 and r.random() < 0.7:
                continue
            user = self.users[f"{li.college.lower()}." + ("inspector" if r.random() < 0.75 else "leader")]
            started = self._utc(day, 14 * 60 + r.randint(0, 150))
            finished = started + timedelta(minutes=r.randint(20, 45))
            if finished > self.now - timedelta(minutes=5):
                continue
            items = self.items[(self.full_version_id, li.lab_id)]
            failures = self._failures(r, items, 0.01, 0.003)
            na = {i.id for i in items if i.id not in failures and r.random() < 0.02}
            self._submit(user, li, self.full_version_id, "college", f"college:{li.code}:{day}", started, finished,
                         failures, note="学院月度安全检查（第二十八条）", na=na)

    def school_inspections(self, day: date) -> None:
        """Art. 27: one week in three the school inspects some hazardous labs (at least one per college)."""
        week = day.toordinal() // 7
        if week % 3 or day.weekday() >= 5:
            return
        by_college: dict[str, list[LabInfo]] = {}
        for li in self.labs:
            if li.hazardous:
                by_college.setdefault(li.college, []).append(li)
        for labs in by_college.values():
            ranked = sorted(labs, key=lambda li: _frac("school", li.code, week))
            chosen = [li for n, li in enumerate(ranked) if n == 0 or _frac("school", li.code, week) < 0.2]
            for li in chosen:
                if int(_frac("school-day", li.code, week) * 5) != day.weekday():
                    continue
                r = _rng("school", li.code, day.isoformat())
                started = self._utc(day, 9 * 60 + 30 + r.randint(0, 120))
                finished = started + timedelta(minutes=r.randint(30, 60))
                if finished > self.now - timedelta(minutes=5):
                    continue
                items = self.items[(self.full_version_id, li.lab_id)]
                failures = self._failures(r, items, 0.015, 0.005)
                self._submit(self.users["inspector"], li, self.full_version_id, "school", f"school:{li.code}:{day}",
                             started, finished, failures, note="学校安全检查（第二十七条）")

    # -- tickets --
    def ticket_actions(self, day: date) -> None:
        for plan in self.pending:
            steps = SCRIPTS[plan.script]
            while plan.done < len(steps):
                offset, action = steps[plan.done]
                when_day = plan.opened + timedelta(days=offset)
                if when_day != day or day >= self.today:
                    break
                r = _rng("act", plan.key, plan.done)
                minutes = (10 * 60 if offset == 0 else 9 * 60) + 25 * plan.done + r.randint(0, 20)
                if action in ("verify", "reject"):
                    minutes += 5 * 60
                when = self._utc(day, minutes)
                kw = {}
                if action in ("verify", "reject"):
                    user = self.users[f"{plan.lab.college.lower()}.leader"]
                    kw["note"] = REJECT_NOTE if action == "reject" else r.choice(VERIFY_NOTES)
                else:
                    user = plan.lab.officers[0]
                if action == "submit_fix":
                    photo_uuid = _uuid("after", plan.key, plan.done)
                    store_photo(user, photo_uuid, demo_photo(plan.key[-30:], plan.lab.code, self._local(when), "after"),
                                self.config)
                    self.uploaded.append((photo_uuid, when))
                    self.c["photos"] += 1
                    kw.update(note=r.choice(FIX_NOTES), photos=[photo_uuid])
                if action == "declare_cannot_fix":
                    kw.update(note="需要改造，暂时无法整改。", interim_measures=INTERIM)
                if action in ("submit_fix", "verify"):  # the notice's reply slip, signed on the screen (art. 28)
                    kw["signature"] = {"name": user.name, "image": _signature_image(plan.key, plan.done),
                                       "signed_at": when.replace(tzinfo=UTC), "refused": False, "reason": ""}
                m = backdate.mark([plan.ticket_id])
                try:
                    perform_action(user, plan.ticket_id, action, config=self.config, **kw)
                except DomainError as err:  # the ticket moved another way: leave it where it is
                    log.warning("demo: %s on ticket %s refused: %s", action, plan.ticket_id, err.message)
                    self.c["ticket actions refused"] += 1
                    plan.done = len(steps)
                    break
                backdate.shift_since(m, when)
                self.c[f"ticket {action}"] += 1
                plan.done += 1

    # -- the night --
    def nightly(self, day: date) -> None:
        m = backdate.mark()
        if process_day(day, self.config) is None:
            self.c["already processed nights"] += 1
            return
        when = min(self._utc(day + timedelta(days=1), 30), self.now - timedelta(minutes=1))
        backdate.nightly_ran(day, m, when)
        self.c["nightly runs"] += 1

    def _flush_times(self) -> None:
        backdate.received(self.received)
        backdate.uploaded(self.uploaded)
        self.received, self.uploaded = [], []
        db.session.commit()

    def run(self) -> ActivityResult:
        t0 = _time.perf_counter()
        job_log = logging.getLogger("app.jobs.services")
        level = job_log.level
        job_log.setLevel(logging.WARNING)  # one INFO line per simulated night is noise here
        engine = db.engine
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # Thousands of small commits: in WAL mode NORMAL skips the fsync per commit (a power cut
            # could lose the last demo transactions, never corrupt the file). Only for this run.
            event.listen(engine, "checkout", _sqlite_normal_sync)
            db.session.commit()
            db.session.connection().exec_driver_sql("PRAGMA synchronous=NORMAL")
        try:
            self._run()
        finally:
            job_log.setLevel(level)
            if sqlite:
                event.remove(engine, "checkout", _sqlite_normal_sync)
                db.session.commit()
                db.session.connection().exec_driver_sql("PRAGMA synchronous=FULL")
                db.session.commit()
        self.result.seconds = _time.perf_counter() - t0
        return self.result

    def _run(self) -> None:
        self.load_world()
        day = self.first_day
        while day <= self.today:
            self.ticket_actions(day)
            self.daily_checks(day)
            self.school_inspections(day)
            self.college_inspections(day)
            self._flush_times()
            if day < self.today:
                self.nightly(day)
            day += timedelta(days=1)
        self.hazard_reports()

    # -- hazard reports from the door QR (issue 24, art. 30) --

    HAZARDS = ("走廊尽头的灭火器压力表指针在红区", "通风橱风机异响，排风明显变弱", "门口堆放了两个未固定的气瓶")

    def hazard_reports(self) -> None:
        """Three reports from the first labs' doors by their college's inspector, yesterday: one waits, one
        became a ticket, one was closed with a reason. The same UUIDs every run: a second run records nothing.
        The services stamp "now": what each call wrote is moved back to its simulated moment (backdate)."""
        day = max(self.first_day, self.today - timedelta(days=1))
        outcomes = ("open", "ticket", "closed")
        for n, (li, text, outcome) in enumerate(zip(self.labs, self.HAZARDS, outcomes, strict=False)):
            reporter = self.users[f"{li.college.lower()}.inspector"]
            m, service_now = backdate.mark(), utcnow()
            recorded = hazards.create_report(reporter, lab_id=li.lab_id, text=text, client_uuid=_uuid("hazard", n),
                                             config=self.config)
            if not recorded.created:
                self.c["already reported hazards"] += 1
                continue
            self.c["hazard reports"] += 1
            backdate.hazard_report_at(recorded.report.id, m, service_now, self._utc(day, 9 * 60 + 20 * n))
            if outcome == "open":
                continue
            officer = li.officers[0]
            m, service_now = backdate.mark(), utcnow()
            if outcome == "ticket":
                hazards.open_ticket(officer, recorded.report.id, article="22", severity="general", title=None,
                                    config=self.config)
            else:
                hazards.close_report(officer, recorded.report.id, reason="已当场整改：气瓶已固定并移入气瓶柜",
                                     config=self.config)
            backdate.hazard_report_at(recorded.report.id, m, service_now, self._utc(day, 11 * 60 + 20 * n))


def _sqlite_normal_sync(dbapi_connection, connection_record, connection_proxy):
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def generate(config, *, days: int = DEFAULT_DAYS, colleges=None, now: datetime | None = None) -> ActivityResult:
    """Generate (or complete) the demo activity up to now; see the module docstring."""
    return Generator(config, days=days, colleges=colleges, now=now).run()


def counted_rows() -> dict[str, int]:
    """Rows of every table the demo writes to (the test compares them across runs)."""
    return {
        m.__tablename__: db.session.scalar(select(db.func.count()).select_from(m))
        for m in (Inspection, InspectionAnswer, Photo, RectificationTicket, TicketEvent, MissedDailyCheck,
                  NightlyRun, Notification, OutboxEmail, User)
    }


def _signature_image(key: str, step: int) -> str:
    """A hand-drawn-looking signature (a PNG data URL, as a canvas gives it), the same for the same step."""
    r = _rng("sign", key, step)
    img = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    points = [(40 + i * 52, 100 + r.randint(-45, 45)) for i in range(11)]
    ImageDraw.Draw(img).line(points, fill=(17, 17, 17, 255), width=5, joint="curve")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
