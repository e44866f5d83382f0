"""Load benchmark of the hot paths under gunicorn, against a bare-Flask ceiling.

    .venv/bin/python -m bench.load                 # SQLite, then PostgreSQL
    .venv/bin/python -m bench.load --db sqlite --rounds 3 --duration 5 --connections 32 --only qr_api

For each database: a fresh database with the demo university (`flask demo-data`: 7 colleges,
60+ labs, a user per role) and the shipped checklists; LabSafe under gunicorn (ProductionConfig,
2 workers, gthread with 4 threads each, 127.0.0.1 only) and, beside it, the ceiling:
bench/bare_app.py (one trivial JSON endpoint) served by gunicorn with the same flags. wrk drives
each path in --rounds rounds of --duration seconds with --connections connections, each round
between two runs of the ceiling; a round's ratio is to the mean of those two, and the path's
ratio is the median of its rounds' ratios (see combine).

Paths (each logged in through POST /api/login, as the PWA is):
  qr_api      GET  /api/qr/<token>                     school inspector, tokens of every lab in turn
  qr_page     GET  /l/<token>                          the door QR in a browser (302 to the lab page)
  checklist   GET  /api/labs/<id>/checklists/full      school inspector, several labs in turn
  submit      POST /api/inspections                    every applicable item (59: no lab has fewer on
                                                       the full list), a new UUID per request, 1 fail
  tickets     GET  /api/tickets                        a college leader's tickets (after submit ran)

Prints one table per database and a JSON line with every number (for docs/PERFORMANCE.md).
Columns: "cpu ms" is CPU per request through Flask's test client in one process (no server, no
concurrency); "srv ms" and "db ms" are the CPU the gunicorn processes and the PostgreSQL server's
processes spent per request served during the rounds (from /proc, median of the rounds), so a
path's cost under load can be split between the app and its database and set against the
ceiling's own "srv ms".
Requires wrk (apt-get install wrk); PostgreSQL at LABSAFE_BENCH_PG (default
postgresql://postgres@127.0.0.1:5432/postgres; a database is created and dropped).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("LABSAFE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
DEMO_PASSWORD = "labsafe-demo"
TARGETS = {"qr_api": 0.3, "qr_page": 0.3, "checklist": 0.3, "submit": 0.1, "tickets": 0.3}
P99_TARGET_MS = 100.0
# The phone logs in and then calls the API with one and the same browser. Flask-Login's session
# protection ("basic") hashes the address and the User-Agent at login and marks the session
# non-fresh (a changed cookie, re-signed on every response) when a request's hash differs: the
# login and wrk must therefore send the same User-Agent, or every request pays for a new cookie
# that no browser would cause (it was ~17 % of a read's CPU before 2026-12-03).
USER_AGENT = "LabSafe-bench/1 (wrk)"


# ---- the database -----------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app_env(database_url: str, instance: Path) -> dict:
    env = dict(os.environ)
    env.update(
        LABSAFE_CONFIG="production",
        SECRET_KEY="bench-" + "x" * 40,
        DATABASE_URL=database_url,
        LABSAFE_INSTANCE_PATH=str(instance),
        LABSAFE_API_RATE_LIMIT="",  # the general per-user API limit would refuse a benchmark
        LABSAFE_PUBLIC_BASE_URL="https://localhost",  # production requires it (the QR codes' address)
        PYTHONPATH=str(ROOT),
    )
    return env


def seed_demo_university(app) -> None:
    """In the app's context: the schema, the shipped checklists and the demo university, committed."""
    from app.checklists import services as checklists
    from app.demo import data as demo
    from app.extensions import db

    db.create_all()
    checklists.load_directory(app.config["CHECKLIST_DIR"], db.session)
    db.session.commit()
    demo.load()
    db.session.commit()


def build_database(database_url: str, instance: Path) -> dict:
    """Schema, checklists and the demo university; answers what the load scripts need."""
    os.environ.update(_app_env(database_url, instance))
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from app.extensions import db
    from app.org.models import Lab

    app = create_app("production", SECRET_KEY="bench-" + "x" * 40, SQLALCHEMY_DATABASE_URI=database_url,
                     INSTANCE_PATH=str(instance), API_RATE_LIMIT="", PUBLIC_BASE_URL="https://localhost")
    with app.app_context():
        seed_demo_university(app)
        labs = list(db.session.scalars(db.select(Lab).where(Lab.active).order_by(Lab.id)))
        info = {"labs": len(labs), "tokens": [lab.qr_token for lab in labs], "lab_ids": [lab.id for lab in labs]}
        # Find labs whose full checklist has about 40 applicable items (the submit body).
        client = app.test_client()
        token = client.get("/api/csrf", base_url="https://localhost").get_json()["csrf_token"]
        r = client.post("/api/login", json={"username": "inspector", "password": DEMO_PASSWORD},
                        headers={"X-CSRFToken": token, "Referer": "https://localhost/"}, base_url="https://localhost")
        assert r.status_code == 200, r.get_data(as_text=True)
        candidates = []
        for lab in labs:
            lists = client.get(f"/api/labs/{lab.id}/checklists", base_url="https://localhost")
            if lists.status_code != 200:
                continue
            for cl in lists.get_json():
                if "school" not in cl["levels"]:
                    continue
                full = client.get(f"/api/labs/{lab.id}/checklists/{cl['key']}", base_url="https://localhost").get_json()
                candidates.append((abs(len(full["items"]) - 40), lab.id, lab.college_id, full))
        candidates.sort(key=lambda c: (c[0], c[1]))
        chosen = candidates[:8]
        info["checklist_key"] = chosen[0][3]["key"]
        info["checklist_labs"] = [c[1] for c in chosen]
        info["submit"] = [
            {"lab_id": lab_id, "college_id": college_id, "version_id": full["version_id"],
             "items": [i["id"] for i in full["items"]], "key": full["key"]}
            for _, lab_id, college_id, full in chosen
        ]
        from app.org.models import College

        college = db.session.get(College, chosen[0][2])
        info["leader"] = f"{college.code.lower()}.leader"
        db.session.remove()
        db.engine.dispose()
    return info


# ---- gunicorn ---------------------------------------------------------------------------

class Server:
    def __init__(self, target: str, env: dict, workers: int, threads: int, log: Path):
        self.port = _free_port()
        self.log = log
        log_fh = open(log, "ab")  # a file, not a pipe: a full pipe would block the workers
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(workers), "-k", "gthread", "--threads", str(threads),
             "-b", f"127.0.0.1:{self.port}", "--backlog", "2048", "--log-level", "warning", target],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log_fh, start_new_session=True,
        )
        log_fh.close()

    def wait(self, path: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + path, timeout=1)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def _cookie(resp, name: str) -> str | None:
    for header in resp.headers.get_all("Set-Cookie") or []:
        if header.startswith(name + "="):
            return header.split(";", 1)[0].split("=", 1)[1]
    return None


def login(base: str, username: str, cookie_name: str) -> tuple[str, str]:
    """Log in over HTTP like the PWA; answers (Cookie header, CSRF token)."""
    r = urllib.request.urlopen(urllib.request.Request(base + "/api/csrf", headers={"User-Agent": USER_AGENT}))
    pre = _cookie(r, cookie_name)
    token = json.loads(r.read())["csrf_token"]
    req = urllib.request.Request(
        base + "/api/login", method="POST",
        data=json.dumps({"username": username, "password": DEMO_PASSWORD}).encode(),
        headers={"Content-Type": "application/json", "X-CSRFToken": token, "Cookie": f"{cookie_name}={pre}",
                 "User-Agent": USER_AGENT},
    )
    r = urllib.request.urlopen(req)
    body = json.loads(r.read())
    return f"{cookie_name}={_cookie(r, cookie_name)}", body["csrf_token"]


# ---- wrk --------------------------------------------------------------------------------

def _lua_list(values) -> str:
    return "{" + ",".join(json.dumps(v) for v in values) + "}"


def lua_get(paths: list[str], cookie: str) -> str:
    return f"""
local paths = {_lua_list(paths)}
local i = 0
wrk.headers["Cookie"] = {json.dumps(cookie)}
wrk.headers["User-Agent"] = {json.dumps(USER_AGENT)}
wrk.headers["Accept"] = "application/json"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""


def lua_submit(templates: list[str], cookie: str, token: str) -> str:
    # Each request names a new inspection: a UUID from the thread's id, a counter and random bits.
    return f"""
local bodies = {_lua_list(templates)}
local i = 0
tid = 0  -- a global: setup() gives each thread its own
local counter = 1
local threads = {{}}
bad = 0
last_bad = ""
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
response = function(status, headers, body)
  if status ~= 201 and status ~= 200 then
    bad = bad + 1
    last_bad = status .. " " .. string.sub(body or "", 1, 300)
  end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    if t:get("bad") > 0 then
      io.write("REFUSED " .. t:get("bad") .. " last: " .. t:get("last_bad") .. "\\n")
    end
  end
end
function init(args)
  math.randomseed(os.time() * 1000 + tid)
end
wrk.method = "POST"
wrk.headers["Cookie"] = {json.dumps(cookie)}
wrk.headers["User-Agent"] = {json.dumps(USER_AGENT)}
wrk.headers["X-CSRFToken"] = {json.dumps(token)}
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  local id = string.format("%08x-%04x-4%03x-a%03x-%04x%08x", math.random(0, 0x7fffffff), tid % 0x10000,
      math.random(0, 0xfff), math.random(0, 0xfff), math.random(0, 0xffff), i)
  local body = string.gsub(bodies[(i % #bodies) + 1], "@UUID@", id)
  return wrk.format(nil, "/api/inspections", nil, body)
end
"""


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def drain(url: str, limit_s: float = 60.0) -> None:
    """Wait until the server has worked off the previous path's queue (wrk leaves requests queued
    in gunicorn's backlog when it stops), so one path's backlog is not charged to the next."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        t = time.monotonic()
        try:
            urllib.request.urlopen(url, timeout=10).read()
        except OSError:
            pass
        if time.monotonic() - t < 0.05:
            return
        time.sleep(0.5)


_TICK = os.sysconf("SC_CLK_TCK")
# Whose CPU a round is charged to: the app servers (LabSafe or the ceiling: only one is loaded at a
# time), the database server's processes, and the load generator.
_ACCOUNTED = ("gunicorn", "postgres", "wrk")


def cpu_by_command() -> dict[str, float]:
    """CPU seconds (user + system) used so far by the live processes of each accounted command,
    from /proc. A process that exits between two readings takes its seconds with it: wrk is read
    from the child's own rusage instead, and the servers and the database's pooled backends live
    through a round."""
    seconds = dict.fromkeys(_ACCOUNTED, 0.0)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        command = stat[stat.index("(") + 1:stat.rindex(")")]
        if command in seconds:
            fields = stat[stat.rindex(")") + 2:].split()
            seconds[command] += (int(fields[11]) + int(fields[12])) / _TICK
    return seconds


def run_wrk(url: str, script: str | None, duration: int, connections: int, threads: int, workdir: Path) -> dict:
    load_before = os.getloadavg()[0]
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script:
        path = workdir / f"s{abs(hash(script))}.lua"
        path.write_text(script)
        cmd += ["-s", str(path)]
    cpu_before, children_before = cpu_by_command(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=duration + 60)
    cpu_after, children_after = cpu_by_command(), resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.stderr.strip():  # a Lua error makes wrk fall back to plain GETs of the URL: never report those
        raise RuntimeError(f"wrk: {proc.stderr.strip()[:500]}")
    out = proc.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    m = re.search(r"\s99%\s+([\d.]+)(us|ms|s|m)\b", out)
    p99 = float(m.group(1)) * _UNITS[m.group(2)]
    m50 = re.search(r"\s50%\s+([\d.]+)(us|ms|s|m)\b", out)
    p50 = float(m50.group(1)) * _UNITS[m50.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    refused = re.findall(r"REFUSED (\d+) last: (.*)", out)
    wrk_seconds = (children_after.ru_utime + children_after.ru_stime
                   - children_before.ru_utime - children_before.ru_stime)
    # CPU milliseconds per request served, by who spent them (see cpu_by_command).
    served = {"server": cpu_after["gunicorn"] - cpu_before["gunicorn"],
              "database": cpu_after["postgres"] - cpu_before["postgres"], "wrk": wrk_seconds}
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "requests": total, "loadavg_1m_before": round(load_before, 2),
            "served_cpu_ms": {k: round(v / max(total, 1) * 1000, 3) for k, v in served.items()},
            "non_2xx_3xx": int(bad.group(1)) if bad else 0, "socket_errors": errors.group(1) if errors else "",
            "refused_examples": [r[1][:200] for r in refused],
            "raw": out}


def combine(rounds: list[dict], beside: list[dict]) -> dict:
    """Rounds of one path (and the ceiling runs around them) as one result.

    Each round runs between two ceiling runs (ceiling, path, ceiling, path, ..., ceiling); a round's
    ratio is its throughput over the mean of the two ceilings on either side of it, and the path's
    ratio is the median of its rounds' ratios. Why paired and why medians: this VM has phases
    of several seconds in which the bare endpoint alone runs at half speed (2,100-2,600 req/s
    between runs of ~6,000; 30-40 % of the CPU then stays idle, so it is not other load), and a
    ratio of medians taken over different phases moved by 0.05-0.1 from one run to the next.
    The worst round's p99 is reported (wrk reports percentiles per run; the worst is the
    conservative reading). ``beside`` may also be the ceiling runs alone (rounds is beside)."""
    paired = len(beside) == len(rounds) + 1
    if paired:
        ratios = [r["rps"] / ((beside[i]["rps"] + beside[i + 1]["rps"]) / 2) for i, r in enumerate(rounds)]
    else:
        ratios = [r["rps"] / statistics.median(c["rps"] for c in beside) for r in rounds]
    rps = statistics.median(r["rps"] for r in rounds)
    ceiling_rps = statistics.median(c["rps"] for c in beside)
    p50s = sorted(r["p50_ms"] for r in rounds)
    return {
        "rps": rps, "ceiling_rps": ceiling_rps, "ratio": statistics.median(ratios),
        "ratio_rounds": ratios, "ratio_of_medians": rps / ceiling_rps,
        "rps_rounds": [r["rps"] for r in rounds],
        "p50_ms": p50s[len(p50s) // 2], "p99_ms": max(r["p99_ms"] for r in rounds),
        "p99_rounds": [r["p99_ms"] for r in rounds], "ceiling_rounds": [c["rps"] for c in beside],
        "requests": sum(r["requests"] for r in rounds),
        "non_2xx_3xx": sum(r["non_2xx_3xx"] for r in rounds),
        "socket_errors": "; ".join(r["socket_errors"] for r in rounds if r["socket_errors"]),
        "refused_examples": [e for r in rounds for e in r["refused_examples"]][:5],
        "loadavg_1m_before": rounds[0]["loadavg_1m_before"],
        "served_cpu_ms": {k: statistics.median(r["served_cpu_ms"][k] for r in rounds)
                          for k in rounds[0].get("served_cpu_ms", {})},
        "raw": "\n".join(r.get("raw", "") for r in rounds),
    }


def submit_templates(info: dict) -> list[str]:
    now = datetime.now(UTC)
    bodies = []
    for s in info["submit"]:
        answers = [{"item_id": item, "result": "pass", "note": ""} for item in s["items"]]
        answers[-1] = {"item_id": s["items"][-1], "result": "fail", "note": "bench: one hazard per inspection"}
        body = {"uuid": "@UUID@", "lab_id": s["lab_id"], "checklist_version_id": s["version_id"], "level": "school",
                "started_at": (now - timedelta(minutes=20)).isoformat(), "finished_at": now.isoformat(),
                "note": "", "answers": answers}
        bodies.append(json.dumps(body, ensure_ascii=False))
    return bodies


def cpu_per_request(database_url: str, instance: Path, info: dict, n: int = 60) -> dict:
    """CPU milliseconds per request in one process through the test client (no HTTP server, no
    concurrency): a figure that other load on the machine barely moves, to see where time goes."""
    from app import create_app
    from app.extensions import db
    from bench.bare_app import app as bare

    app = create_app("production", SECRET_KEY="bench-" + "x" * 40, SQLALCHEMY_DATABASE_URI=database_url,
                     INSTANCE_PATH=str(instance), API_RATE_LIMIT="", PUBLIC_BASE_URL="https://localhost")
    kw = {"base_url": "https://localhost"}

    def client(username):
        c = app.test_client()
        token = c.get("/api/csrf", **kw).get_json()["csrf_token"]
        r = c.post("/api/login", json={"username": username, "password": DEMO_PASSWORD},
                   headers={"X-CSRFToken": token, "Referer": "https://localhost/"}, **kw)
        return c, r.get_json()["csrf_token"]

    def measure(c, paths, count=n):
        for p in paths[:3]:
            c.get(p, **kw)
        t = time.process_time()
        for i in range(count):
            c.get(paths[i % len(paths)], **kw)
        return round((time.process_time() - t) / count * 1000, 2)

    out = {"ceiling": measure(bare.test_client(), ["/ping"], 500)}
    inspector, token = client("inspector")
    leader, _ = client(info["leader"])
    out["qr_api"] = measure(inspector, [f"/api/qr/{t}" for t in info["tokens"]])
    out["qr_page"] = measure(inspector, [f"/l/{t}" for t in info["tokens"]])
    out["checklist"] = measure(inspector, [f"/api/labs/{i}/checklists/{info['checklist_key']}"
                                           for i in info["checklist_labs"]])
    bodies = submit_templates(info)
    t = time.process_time()
    for i in range(n // 3):
        inspector.post("/api/inspections", data=bodies[i % len(bodies)].replace("@UUID@", str(uuid.uuid4())),
                       headers={"X-CSRFToken": token, "Content-Type": "application/json",
                                "Referer": "https://localhost/"}, **kw)
    out["submit"] = round((time.process_time() - t) / (n // 3) * 1000, 2)
    out["tickets"] = measure(leader, ["/api/tickets"], n // 3)
    with app.app_context():
        db.engine.dispose()
    return out


# ---- one database -----------------------------------------------------------------------

def bench_database(kind: str, args, workdir: Path) -> dict:
    instance = workdir / f"instance-{kind}"
    pg_name = None
    if kind == "sqlite":
        url = f"sqlite:///{instance / 'bench.sqlite3'}"
    else:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        pg_name = f"labsafe_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin_url = make_url(PG_ADMIN).set(drivername="postgresql+psycopg")
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        url = admin_url.set(drivername="postgresql", database=pg_name).render_as_string(hide_password=False)
    try:
        t0 = time.monotonic()
        info = build_database(url, instance)
        print(f"[{kind}] built: {info['labs']} active labs, checklist {info['checklist_key']!r} with "
              f"{len(info['submit'][0]['items'])} items for the submit body ({time.monotonic() - t0:.1f}s)", flush=True)
        env = _app_env(url, instance)
        cpu = cpu_per_request(url, instance, info)
        print(f"[{kind}] CPU ms per request in one process: {cpu}", flush=True)
        results = {"cpu_ms": cpu, "answers": len(info["submit"][0]["items"]), "labs": info["labs"]}
        # The ceiling and LabSafe are both up for the whole half, and every path alternates short
        # runs with the ceiling: on this VM the bare endpoint alone varied 1,400-4,300 req/s between
        # identical 5 s runs a minute apart, so a path is compared with ceilings measured beside it.
        ceiling = Server("bench.bare_app:app", env, args.workers, args.threads, workdir / f"ceiling-{kind}.log")
        server = Server("wsgi:app", env, args.workers, args.threads, workdir / f"labsafe-{kind}.log")
        try:
            ceiling.wait("/ping")
            server.wait("/api/csrf")
            cookie_name = "__Host-labsafe_session"
            # A fresh login per path: a browser's cookie is never more than a minute stale (it takes
            # each rewritten "last seen"); wrk keeps the one it was given for the whole path.
            def plan_for(name):
                insp_cookie, insp_token = login(server.url, "inspector", cookie_name)
                leader_cookie, _ = login(server.url, info["leader"], cookie_name)
                return dict(plan_scripts(insp_cookie, insp_token, leader_cookie))[name]

            def plan_scripts(insp_cookie, insp_token, leader_cookie):
                return [
                ("qr_api", lua_get([f"/api/qr/{t}" for t in info["tokens"]], insp_cookie)),
                ("qr_page", lua_get([f"/l/{t}" for t in info["tokens"]], insp_cookie)),
                ("checklist", lua_get([f"/api/labs/{i}/checklists/{info['checklist_key']}"
                                       for i in info["checklist_labs"]], insp_cookie)),
                ("submit", lua_submit(submit_templates(info), insp_cookie, insp_token)),
                ("tickets", lua_get(["/api/tickets"], leader_cookie)),
                ]
            ceilings = []
            for name in TARGETS:
                if args.only and name not in args.only:
                    continue
                drain(server.url + "/api/csrf")
                if kind == "postgresql":
                    analyze(url)  # the previous path's writes (submit: ~2,000 tickets) in the planner's statistics
                script = plan_for(name)
                log_at = server.log.stat().st_size
                rounds, beside = [], []
                for _ in range(args.rounds):
                    beside.append(run_wrk(ceiling.url + "/ping", None, args.duration, args.connections,
                                          args.wrk_threads, workdir))
                    rounds.append(run_wrk(server.url, script, args.duration, args.connections, args.wrk_threads,
                                          workdir))
                # One more ceiling run after the last round: every round then sits between two.
                beside.append(run_wrk(ceiling.url + "/ping", None, args.duration, args.connections,
                                      args.wrk_threads, workdir))
                ceilings += beside
                results[name] = r = combine(rounds, beside)
                with open(server.log, "rb") as fh:
                    fh.seek(log_at)
                    tail = fh.read().decode("utf-8", "replace")
                r["server_errors_logged"] = tail.count("unhandled error")
                kinds = re.findall(r"^([\w.]+(?:Error|Exception)[^\n]{0,160})$", tail, re.M)
                r["server_error_kinds"] = sorted(set(kinds))[:5]
                print(f"[{kind}] {name}: {r['rps']:.0f} req/s, ceiling beside it {r['ceiling_rps']:.0f} "
                      f"(rounds {', '.join(f'{c:.0f}' for c in r['ceiling_rounds'])}), ratio {r['ratio']:.3f} "
                      f"(rounds {', '.join(f'{x:.2f}' for x in r['ratio_rounds'])}), "
                      f"p99 {r['p99_ms']:.1f} ms (rounds {', '.join(f'{p:.0f}' for p in r['p99_rounds'])}), "
                      f"non-2xx/3xx {r['non_2xx_3xx']} {r.get('refused_examples') or ''} "
                      f"server errors logged {r['server_errors_logged']} {r['server_error_kinds'] or ''}", flush=True)
            if ceilings:
                results["ceiling"] = combine(ceilings, ceilings)
            results["tickets_listed_from"] = _count_tickets(url, instance)
        finally:
            server.stop()
            ceiling.stop()
        return results
    finally:
        if pg_name:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            admin.dispose()


def analyze(url: str) -> None:
    """ANALYZE the benchmark's PostgreSQL database. This machine's server runs with autovacuum off
    (`SHOW autovacuum`), so the rows the benchmark writes in seconds never reach the planner's
    statistics; a production server's autovacuum analyses a table once ~10 % of it changed. With the
    stale statistics the tickets page sorted all of a college's open tickets (6.2 ms per query at
    7,000) instead of walking the deadline index (0.23 ms)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    eng = create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        eng.dispose()


def _count_tickets(url: str, instance: Path) -> int:
    from sqlalchemy import create_engine, text

    from app import create_app

    app = create_app("production", SECRET_KEY="bench-" + "x" * 40, SQLALCHEMY_DATABASE_URI=url,
                     INSTANCE_PATH=str(instance), API_RATE_LIMIT="", PUBLIC_BASE_URL="https://localhost")
    eng = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with eng.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM rectification_tickets")).scalar_one()
    finally:
        eng.dispose()


def table(kind: str, r: dict) -> str:
    cpu = r.get("cpu_ms", {})
    c = r["ceiling"]
    lines = [f"{kind}: ceiling (bare Flask /ping) {c['rps']:.0f} req/s on average over all its runs "
             f"({min(c['ceiling_rounds']):.0f}-{max(c['ceiling_rounds']):.0f}), p99 up to {c['p99_ms']:.1f} ms, "
             f"CPU {cpu.get('ceiling', 0):.2f} ms/req in one process, "
             f"{c.get('served_cpu_ms', {}).get('server', 0):.2f} ms/req served",
             f"{'path':10} {'req/s':>8} {'beside':>7} {'ratio':>6} {'target':>6} {'p50 ms':>7} {'p99 ms':>7} "
             f"{'errors':>6} {'cpu ms':>7} {'srv ms':>7} {'db ms':>6} {'load':>5}  ok?"]
    for name, target in TARGETS.items():
        if name not in r:
            continue
        x = r[name]
        ok = x["ratio"] >= target and x["p99_ms"] < P99_TARGET_MS and x["non_2xx_3xx"] == 0
        lines.append(f"{name:10} {x['rps']:8.0f} {x['ceiling_rps']:7.0f} {x['ratio']:6.3f} {target:6.2f} "
                     f"{x['p50_ms']:7.1f} {x['p99_ms']:7.1f} {x['non_2xx_3xx']:6d} {cpu.get(name, 0):7.2f} "
                     f"{x['served_cpu_ms'].get('server', 0):7.2f} {x['served_cpu_ms'].get('database', 0):6.2f} "
                     f"{x['loadavg_1m_before']:5.1f}  {'yes' if ok else 'NO'}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument(
        "--duration", type=int, default=4, help="seconds per round, for a path and for the ceiling (default 4)"
    )
    ap.add_argument("--rounds", type=int, default=5,
                    help="rounds per path, each between two ceiling runs (default 5)")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="measure only these paths")
    ap.add_argument("--keep-raw", action="store_true", help="print wrk's own output too")
    args = ap.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(
        f"machine: {os.cpu_count()} cores; gunicorn {args.workers} workers x gthread {args.threads} threads; "
        f"wrk {args.wrk_threads} threads, {args.connections} connections, {args.rounds} rounds of {args.duration}s "
        f"per path, each between two {args.duration}s ceiling runs",
        flush=True,
    )
    all_results = {}
    with tempfile.TemporaryDirectory(prefix="labsafe-bench-") as tmp:
        for kind in kinds:
            all_results[kind] = bench_database(kind, args, Path(tmp))
    for kind, r in all_results.items():
        print()
        print(table(kind, r))
        if args.keep_raw:
            for name, x in r.items():
                if isinstance(x, dict) and "raw" in x:
                    print(f"--- {kind} {name}\n{x['raw']}")
    for r in all_results.values():
        for x in r.values():
            if isinstance(x, dict):
                x.pop("raw", None)
    print()
    print("JSON " + json.dumps(all_results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
