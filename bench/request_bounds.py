"""What one JSON request may cost: the worst accepted and refused bodies of the login and the
inspection submit (app/jsonio.py's JsonLimit), CPU time and answer size.

    .venv/bin/python -m bench.request_bounds            # median of 5 runs per case
    .venv/bin/python -m bench.request_bounds --runs 9

A fresh SQLite database with the shipped checklists and the demo university (as bench.load),
LabSafe's production configuration through Flask's test client in this process (no HTTP server:
the figures are the app's own CPU, which other load on the machine barely moves). The submit's
largest real body is built from the shipped checklists: the list with the most items applicable
to one demo lab, every item failed with a 4,000-character Chinese note (the schema's maximum) and
20 photo UUIDs (ditto). Prints, per case: status, body bytes, CPU ms (median), answer bytes.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import load

KW = {"base_url": "https://localhost"}


def _client(app, username: str | None):
    c = app.test_client()
    token = c.get("/api/csrf", **KW).get_json()["csrf_token"]
    if username:
        r = c.post("/api/login", json={"username": username, "password": load.DEMO_PASSWORD},
                   headers={"X-CSRFToken": token, "Referer": "https://localhost/"}, **KW)
        assert r.status_code == 200, r.get_data(as_text=True)
        token = r.get_json()["csrf_token"]
    return c, token


def largest_inspection(app, client) -> dict:
    """The lab and list with the most applicable items among the demo labs."""
    from app.extensions import db
    from app.org.models import Lab

    with app.app_context():
        lab_ids = list(db.session.scalars(db.select(Lab.id).where(Lab.active).order_by(Lab.id)))
    best = None
    for lab_id in lab_ids:
        lists = client.get(f"/api/labs/{lab_id}/checklists", **KW)
        if lists.status_code != 200:
            continue
        for cl in lists.get_json():
            if "school" not in cl["levels"]:
                continue
            full = client.get(f"/api/labs/{lab_id}/checklists/{cl['key']}", **KW).get_json()
            if best is None or len(full["items"]) > len(best[1]["items"]):
                best = (lab_id, full)
    return {"lab_id": best[0], "version_id": best[1]["version_id"], "items": [i["id"] for i in best[1]["items"]],
            "key": best[1]["key"]}


def submission(spec: dict, *, note_chars: int, photos: int) -> dict:
    now = datetime.now(UTC)
    return {
        "uuid": str(uuid.uuid4()), "lab_id": spec["lab_id"], "checklist_version_id": spec["version_id"],
        "level": "school", "started_at": (now - timedelta(minutes=90)).isoformat(), "finished_at": now.isoformat(),
        "note": "安" * note_chars,
        "answers": [{"item_id": item, "result": "fail", "note": "安" * note_chars,
                     "photos": [str(uuid.uuid4()) for _ in range(photos)]} for item in spec["items"]],
    }


def _items(value) -> int:
    if isinstance(value, dict):
        return 1 + len(value) + sum(_items(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_items(v) for v in value)
    return 1


def measure(client, token, path: str, make_body, runs: int) -> dict:
    """make_body() -> bytes, a fresh one per run (a new UUID for submits)."""
    cpu, out = [], None
    for _ in range(runs):
        body = make_body()
        t = time.process_time()
        r = client.post(path, data=body, headers={"X-CSRFToken": token, "Content-Type": "application/json",
                                                   "Referer": "https://localhost/"}, **KW)
        cpu.append(time.process_time() - t)
        out = r
    return {"status": out.status_code, "body_bytes": len(body), "cpu_ms": statistics.median(cpu) * 1000,
            "answer_bytes": len(out.get_data()), "code": (out.get_json() or {}).get("error", {}).get("code", "")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    from app.auth.api import LOGIN_BODY
    from app.inspections.api import SUBMISSION_BODY

    with tempfile.TemporaryDirectory(prefix="labsafe-bounds-") as tmp:
        instance = Path(tmp)
        url = f"sqlite:///{instance / 'bench.sqlite3'}"
        load.build_database(url, instance)
        from app import create_app

        app = create_app("production", SECRET_KEY="bench-" + "x" * 40, SQLALCHEMY_DATABASE_URI=url,
                         INSTANCE_PATH=str(instance), API_RATE_LIMIT="",
                         PUBLIC_BASE_URL="https://localhost")  # production requires it (the QR codes' address)
        anon, anon_token = _client(app, None)
        inspector, token = _client(app, "inspector")
        spec = largest_inspection(app, inspector)
        biggest = submission(spec, note_chars=4000, photos=20)
        print(f"largest real inspection: list {spec['key']!r}, {len(spec['items'])} applicable items in lab "
              f"{spec['lab_id']}; every answer failed, 4,000-character notes, 20 photos: "
              f"{len(json.dumps(biggest, ensure_ascii=False).encode()):,} bytes, {_items(biggest):,} values and keys "
              f"(limit {SUBMISSION_BODY.max_bytes:,} bytes, {SUBMISSION_BODY.max_items:,})")
        emoji = "\\ud83d\\ude00"  # one character as a 12-byte escape: the longest a character can be
        million_keys = b"{" + b",".join(b'"k%d":0' % i for i in range(1_000_000)) + b"}"
        few_hundred_keys = b"{" + b",".join(b'"%d":0' % i for i in range(400)) + b"}"
        flat_zeros = b'{"answers":[' + b",".join([b"0"] * ((SUBMISSION_BODY.max_bytes - 20) // 2)) + b"]}"
        empty_objects = b'{"answers":[' + b",".join([b"{}"] * ((SUBMISSION_BODY.max_bytes - 20) // 3)) + b"]}"

        def big_submit():
            return json.dumps({**biggest, "uuid": str(uuid.uuid4())}, ensure_ascii=False).encode()

        def wrong_submit():
            bad = submission(spec, note_chars=0, photos=0)
            for a in bad["answers"]:
                a["result"] = "maybe"
            return json.dumps(bad).encode()

        cases = [
            (
                "login",
                "accepted: the longest login (64 + 256 characters, each escaped)",
                anon,
                anon_token,
                "/api/login",
                lambda: f'{{"username":"{emoji * 64}","password":"{emoji * 256}"}}'.encode(),
            ),
            (
                "login",
                "refused: 12 MB, a million unknown keys",
                anon,
                anon_token,
                "/api/login",
                lambda: million_keys,
            ),
            (
                "login",
                "refused: 400 unknown keys within 4 KB",
                anon,
                anon_token,
                "/api/login",
                lambda: few_hundred_keys,
            ),
            (
                "login",
                "refused: 2,000 '[' (nested past orjson's 1,024 levels)",
                anon,
                anon_token,
                "/api/login",
                lambda: b"[" * 2000,
            ),
            (
                "submit",
                "refused: anonymous, 2 MB of '{}' (before login_required: not parsed)",
                anon,
                anon_token,
                "/api/inspections",
                lambda: empty_objects,
            ),
            ("submit", "accepted: the largest real inspection", inspector, token, "/api/inspections", big_submit),
            (
                "submit",
                "refused: every answer invalid (errors named: 10, the rest counted)",
                inspector,
                token,
                "/api/inspections",
                wrong_submit,
            ),
            (
                "submit",
                "refused: one byte over the limit",
                inspector,
                token,
                "/api/inspections",
                lambda: b" " * (SUBMISSION_BODY.max_bytes + 1),
            ),
            (
                "submit",
                "refused: 2 MB of numbers (parsed, then counted)",
                inspector,
                token,
                "/api/inspections",
                lambda: flat_zeros,
            ),
            (
                "submit",
                "refused: 2 MB of empty objects (the costliest parse)",
                inspector,
                token,
                "/api/inspections",
                lambda: empty_objects,
            ),
        ]
        print(f"login limit: {LOGIN_BODY.max_bytes:,} bytes, {LOGIN_BODY.max_items} values and keys")
        print(f"{'path':<8}{'status':>7}{'body bytes':>12}{'CPU ms':>9}{'answer B':>10}  case")
        for path_name, label, client, tok, path, make in cases:
            r = measure(client, tok, path, make, args.runs)
            print(
                f"{path_name:<8}{r['status']:>7}{r['body_bytes']:>12,}{r['cpu_ms']:>9.1f}"
                f"{r['answer_bytes']:>10,}  {label}"
            )
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
