"""Benchmark: issuing documents (app/documents) — a 95-item inspection record with 10 evidence photos;
the monthly ZIP of a college of 50 labs.

    .venv/bin/python -m bench.documents            # 5 runs per document, then the ZIP of 50 labs
    .venv/bin/python -m bench.documents --runs 10 --zip-labs 50
    .venv/bin/python -m bench.documents --zip-only # the ZIP alone (renders the record and notice once)

Builds a school on a temporary SQLite file: one lab, a checklist of 95 items, an inspection answering
all 95, 10 of them failed with one photo each (2048 px phone JPEGs as the PWA sends them, ~220 KB,
through the real photo pipeline, so the record prints the 1600 px display copies), and so 10 tickets.
Then times rendering (HTML to PDF with WeasyPrint, nothing filed) of the inspection record and of the
rectification notice: wall and CPU time (median of N runs after one warm-up), pages and bytes, and
memory: tracemalloc's peak (Python allocations) and the process's peak RSS growth (ru_maxrss; Pango,
cairo and the decoded images are C allocations tracemalloc cannot see).

The ZIP: N more labs of the college, each with that record and that notice filed (the rendered bytes,
each copy made distinct by a trailing PDF comment, so 2N documents of real size), then
`GET /colleges/<id>/documents.zip?month=` as the college's leader, read chunk by chunk as a server
sends it: time to the first chunk and to the last, CPU, bytes, tracemalloc's peak and RSS growth
while downloading, against the documents' total; and, for contrast, the same archive built in memory
(io.BytesIO). Prints JSON; docs/PERFORMANCE.md records the figures.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
ITEMS = 95
PHOTOS = 10
PASSWORD = "bench leader password"


def phone_jpeg(seed: int) -> bytes:
    """A 2048x1536 JPEG at quality 60 that compresses like a photo (the PWA's size, bench.photo_sizing)."""
    from PIL import Image, ImageDraw, ImageFilter

    rnd = random.Random(seed)
    w, h = 2048, 1536
    im = Image.effect_noise((32, 24), 80).convert("RGB").resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(im)
    for _ in range(120):
        x, y = rnd.randrange(w), rnd.randrange(h)
        draw.rectangle((x, y, x + rnd.randrange(20, 400), y + rnd.randrange(20, 300)),
                       fill=tuple(rnd.randrange(256) for _ in range(3)), outline=(20, 20, 20), width=3)
    im = Image.blend(im.filter(ImageFilter.GaussianBlur(1.0)), Image.effect_noise((w, h), 40).convert("RGB"), 0.15)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=60)
    return buf.getvalue()


def build(app):
    from app.auth.models import Role, RoleAssignment, User
    from app.checklists.models import Checklist, ChecklistItem, ChecklistKind, ChecklistVersion, Severity
    from app.extensions import db
    from app.inspections.schemas import InspectionInSchema
    from app.inspections.services import submit_inspection
    from app.org.models import College, Lab
    from app.photos.services import store_photo

    college = College(code="CHEM", name="化学与材料工程学院", name_en="School of Chemistry")
    db.session.add(college)
    db.session.flush()
    lab = Lab(code="CHEM-101", name="有机化学实验室", name_en="Organic chemistry lab", building="化学楼", room="101",
              college_id=college.id, category="chemistry", hazard_tags=["hazardous_chemicals"])
    inspector = User(username="inspector", name="王检查", email="i@example.edu.cn", password_hash="!")
    db.session.add_all([lab, inspector])
    db.session.flush()
    db.session.add(RoleAssignment(user_id=inspector.id, role=Role.inspector, college_id=college.id))
    checklist = Checklist(key="bench", kind=ChecklistKind.full, title="实验室安全综合检查表", title_en="Full check")
    db.session.add(checklist)
    db.session.flush()
    version = ChecklistVersion(checklist_id=checklist.id, number=1, content_hash="0" * 64, title=checklist.title,
                               title_en=checklist.title_en, source_file="bench.toml")
    db.session.add(version)
    db.session.flush()
    articles = ["12", "13", "15", "16(1)", "16(2)", "17", "18", "20", "21(1)", "22", "23", "24(1)", "24(6)"]
    for n in range(1, ITEMS + 1):
        db.session.add(ChecklistItem(
            version_id=version.id, item_key=f"i{n}", position=n, article=articles[n % len(articles)],
            text=f"第{n}项：危险化学品按性质分类存放，标签清晰完整，台账与实物相符",
            text_en=f"Item {n}: chemicals stored by class",
            categories=[], hazard_tags=[], severity=Severity.major if n % 19 == 0 else Severity.general))
    checklist.current_version = version
    db.session.commit()
    items = sorted(version.items, key=lambda i: i.position)
    failed = {items[k * (ITEMS // PHOTOS)].id for k in range(PHOTOS)}
    photos = {}
    for k, item_id in enumerate(sorted(failed)):
        photo_uuid = str(uuid.uuid4())
        store_photo(inspector, photo_uuid, phone_jpeg(k), app.config)
        photos[item_id] = [photo_uuid]
    finished = datetime.now(UTC) - timedelta(minutes=5)
    payload = {
        "uuid": str(uuid.uuid4()), "lab_id": lab.id, "checklist_version_id": version.id, "level": "college",
        "started_at": (finished - timedelta(minutes=50)).isoformat().replace("+00:00", "Z"),
        "finished_at": finished.isoformat().replace("+00:00", "Z"), "note": "",
        "answers": [{"item_id": i.id, "result": "fail" if i.id in failed else "pass",
                     "note": "现场发现问题，已拍照" if i.id in failed else "", "photos": photos.get(i.id, [])}
                    for i in items],
    }
    outcome = submit_inspection(inspector, InspectionInSchema().load(payload), app.config)
    db.session.commit()
    return outcome.inspection, inspector


def measure(render, runs: int, keep: str | None = None) -> dict:
    from .helpers_pdf import page_count

    render("BENCH-0", datetime.now(UTC))  # warm-up: fonts, templates
    walls, cpus = [], []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    for n in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        pdf = render(f"BENCH-{n + 1}", datetime.now(UTC))
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if keep:  # the last one, to look at (bench/out is not committed)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / ".gitignore").write_text("*\n")
        (OUT / keep).write_bytes(pdf)
    return {"wall_s_median": round(statistics.median(walls), 3), "cpu_s_median": round(statistics.median(cpus), 3),
            "pages": page_count(pdf), "bytes": len(pdf), "tracemalloc_peak_mb": round(peak / 2**20, 1),
            "rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
            "rss_peak_mb": round(rss_after / 1024, 1)}


def file_college(app, inspection, inspector, labs: int) -> tuple[int, object, int, int]:
    """``labs`` labs of the inspection's college, each with the record and the notice filed (real bytes).
    Returns (college id, its leader's id, documents, their bytes)."""
    from sqlalchemy import insert

    from app.auth.models import Role, RoleAssignment, User, hash_password
    from app.documents import services
    from app.documents.models import IssuedDocument
    from app.extensions import db
    from app.org.models import Lab
    from app.org.services import get_lab
    from app.timeutil import utcnow

    college_id = get_lab(inspection.lab_id).college_id
    report = services.render_inspection_report(inspection, inspector, app.config, "zh_CN")("BENCH-R", utcnow())
    notice = services.render_notice(inspection, inspector, app.config, "zh_CN")("BENCH-N", utcnow())
    leader = User(username="leader", name="李院长", email="l@example.edu.cn", password_hash=hash_password(PASSWORD))
    db.session.add(leader)
    db.session.flush()
    db.session.add(RoleAssignment(user_id=leader.id, role=Role.college_leader, college_id=college_id))
    count = size = 0
    now = utcnow().replace(microsecond=0)
    for n in range(labs):
        lab = Lab(code=f"CHEM-{200 + n}", name=f"实验室{n}", building="化学楼", room=str(200 + n),
                  college_id=college_id, category="chemistry", hazard_tags=[])
        db.session.add(lab)
        db.session.flush()
        for kind, code, pdf in (("inspection_report", "JC", report), ("rectification_notice", "ZG", notice)):
            data = pdf + f"\n% lab {lab.code}\n".encode()
            db.session.execute(insert(IssuedDocument), dict(
                number=f"HZNU-2026-{code}-{n + 1:05d}", kind=kind, issue_key=f"{kind}:bench{n}:zh_CN:1",
                language="zh_CN", lab_id=lab.id, issued_at=now, sha256=hashlib.sha256(data).hexdigest(),
                byte_size=len(data), pdf=data))
            count, size = count + 1, size + len(data)
        db.session.commit()
    return college_id, leader.id, count, size


def measure_zip(app, college_id: int, leader_id: int, documents: int, total: int) -> dict:
    """The leader's download, read as a server sends it; then the same archive built in memory."""
    import zipfile

    from app.auth.models import User
    from app.documents import bulk
    from app.extensions import db
    from app.timeutil import utcnow

    leader = db.session.get(User, leader_id)
    client = app.test_client()
    with app.app_context():  # each request in an app context of its own, as in production
        token = client.get("/api/csrf").get_json()["csrf_token"]
    with app.app_context():
        login = client.post("/api/login", json={"username": leader.username, "password": PASSWORD},
                            headers={"X-CSRFToken": token})
        assert login.status_code == 200, login.get_data(as_text=True)
    month = f"{utcnow():%Y-%m}"
    url = f"/colleges/{college_id}/documents.zip?month={month}"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    with app.app_context():
        resp = client.get(url, buffered=False)
    first = None
    chunks = sent = 0
    for chunk in resp.response:
        first = first if first is not None else time.perf_counter() - t0
        chunks, sent = chunks + 1, sent + len(chunk)
    resp.close()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {"labs": documents // 2, "documents": documents, "documents_mb": round(total / 2**20, 1),
           "zip_mb": round(sent / 2**20, 1), "chunks": chunks, "first_chunk_s": round(first or 0, 3),
           "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "tracemalloc_peak_mb": round(peak / 2**20, 1),
           "rss_growth_mb": round((rss_after - rss_before) / 1024, 1), "status": resp.status_code}
    # For contrast: the same entries zipped into memory, as a non-streamed download would.
    with app.test_request_context("/"):
        entries = bulk.month_entries(leader, college_id, utcnow().date().replace(day=1), app.config)
        tracemalloc.start()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for e in entries:
                zf.writestr(e.file, db.session.scalar(bulk.select(bulk.D.pdf).where(bulk.D.id == e.id)))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    out["in_memory_tracemalloc_peak_mb"] = round(peak / 2**20, 1)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--zip-labs", type=int, default=50, help="labs in the college whose monthly ZIP is timed")
    ap.add_argument("--zip-only", action="store_true", help="time the ZIP only")
    args = ap.parse_args(argv)
    from app import create_app
    from app.documents import services
    from app.extensions import db

    tmp = tempfile.mkdtemp(prefix="labsafe-bench-")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/documents.sqlite3", INSTANCE_PATH=tmp,
                     PHOTO_STORE=f"{tmp}/photos")
    with app.app_context(), app.test_request_context("/"):
        db.create_all()
        inspection, inspector = build(app)
        out = {"items": ITEMS, "photos": PHOTOS}
        if not args.zip_only:
            out["inspection_report"] = measure(
                services.render_inspection_report(inspection, inspector, app.config, "zh_CN"), args.runs,
                "documents-report.pdf")
            out["rectification_notice"] = measure(
                services.render_notice(inspection, inspector, app.config, "zh_CN"), args.runs, "documents-notice.pdf")
        if args.zip_labs:
            filed = file_college(app, inspection, inspector, args.zip_labs)
    if args.zip_labs:
        with app.app_context():
            out["college_zip"] = measure_zip(app, *filed)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
