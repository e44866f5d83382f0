"""Two app hosts behind one load balancer: two app servers, each its own process on its own port,
over one PostgreSQL database and one S3-compatible object store (moto's server, tests/photos/conftest.py),
sharing nothing else but the SECRET_KEY. The races the suite runs within one process (threads) are
run across both hosts: the same inspection submitted to both at once is recorded once; the same
photo uploaded to both at once is one row and one object per file; two people acting on one ticket,
one on each host, make exactly one transition. A session started on one host works on the other.

PostgreSQL only: a SQLite database is one file on one host, so two hosts cannot share it.
"""
from __future__ import annotations

import functools
import io
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests
from flask import current_app
from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db
from app.inspections.models import Inspection
from app.photos.models import Photo
from app.photos.storage import storage_for
from app.tickets import lifecycle
from app.tickets.models import RectificationTicket, TicketEvent
from tests.factories import DEFAULT_PASSWORD, make_photo_row, make_ticket, make_user, photo_bytes
from tests.factories.inspections import inspection_payload, make_small_world, new_uuid
from tests.photos.conftest import s3_env, s3_server, s3_settings  # noqa: F401  (s3_server: a fixture)

ROOT = Path(__file__).resolve().parents[1]
SECRET = "two-hosts-share-this-secret-key-0123456789"

_SERVE = """
import sys
from werkzeug.serving import make_server
from app import create_app

url, instance, secret = sys.argv[1:4]
app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, INSTANCE_PATH=instance, SECRET_KEY=secret)
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.fixture
def hosts(app, database_url, s3_server, tmp_path):  # noqa: F811
    if not database_url:
        pytest.skip("two hosts share one PostgreSQL database; a SQLite file belongs to one host")
    app.config.update(s3_settings(s3_server, f"labsafe-{uuid.uuid4().hex[:12]}"))
    store = storage_for(app.config)
    store.client.create_bucket(Bucket=store.bucket)
    env = {**os.environ, **s3_env(app.config)}
    procs, urls = [], []
    try:
        for name in ("host-a", "host-b"):
            proc = subprocess.Popen([sys.executable, "-c", _SERVE, database_url, str(tmp_path / name), SECRET],
                                    cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            procs.append(proc)
            port = proc.stdout.readline().strip()
            assert port.isdigit(), f"{name} did not start"
            urls.append(f"http://127.0.0.1:{port}")
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


class Browser:
    """One user's phone: a cookie jar, sending to whichever host the load balancer picks."""

    def __init__(self, user):
        self.http = requests.Session()
        self.user = user

    def send(self, base, method, path, **kwargs):
        token = self.http.get(f"{base}/api/csrf", timeout=30).json()["csrf_token"]
        return self.http.request(method, f"{base}{path}", headers={"X-CSRFToken": token}, timeout=60, **kwargs)

    def login(self, base):
        r = self.send(base, "POST", "/api/login", json={"username": self.user.username, "password": DEFAULT_PASSWORD})
        assert r.status_code == 200, r.text
        return self


def at_once(*calls):
    """Run the calls in threads released together; answer their results in order."""
    barrier = threading.Barrier(len(calls))
    out = [None] * len(calls)

    def run(i, call):
        barrier.wait(10)
        try:
            out[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the assertions
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def statuses(results) -> list:
    return [getattr(r, "status_code", r) for r in results]


def texts(results) -> list:
    return [getattr(r, "text", r) for r in results]


def test_a_session_started_on_one_host_works_on_the_other(hosts, app):
    w = make_small_world()
    phone = Browser(w.inspector_a).login(hosts[0])
    r = phone.http.get(f"{hosts[1]}/api/me", timeout=30)
    assert r.status_code == 200, r.text


def test_the_same_submission_to_both_hosts_is_one_inspection(hosts, app):
    w = make_small_world()
    phone = Browser(w.inspector_a).login(hosts[0])
    payload = inspection_payload(w.lab_a, w.full)
    for _ in range(3):  # a few rounds: the race is won by either host
        payload = {**payload, "uuid": new_uuid()}
        results = at_once(*(functools.partial(phone.send, base, "POST", "/api/inspections", json=payload)
                            for base in hosts))
        assert sorted(statuses(results)) == [200, 201], texts(results)
        bodies = [r.json() for r in results]
        assert bodies[0]["uuid"] == bodies[1]["uuid"] == payload["uuid"]
        db.session.expire_all()
        assert db.session.scalar(select(func.count(Inspection.id)).where(Inspection.uuid == payload["uuid"])) == 1


def _put(phone, base, photo_uuid, data):
    return phone.send(base, "PUT", f"/api/photos/{photo_uuid}",
                      files={"file": ("photo.jpg", io.BytesIO(data), "image/jpeg")})


def test_the_same_photo_to_both_hosts_is_one_row_and_one_object_per_file(hosts, app):
    w = make_small_world()
    phone = Browser(w.inspector_a).login(hosts[0])
    other = Browser(w.inspector_a).login(hosts[1])  # another phone of the same inspector
    store = storage_for(app.config)
    for seed in range(3):
        data, photo_uuid = photo_bytes(seed=40 + seed), new_uuid()
        results = at_once(functools.partial(_put, phone, hosts[0], photo_uuid, data),
                          functools.partial(_put, phone, hosts[1], photo_uuid, data))
        assert sorted(statuses(results)) == [200, 201], texts(results)
        # The same bytes under two UUIDs from two phones at once: two rows sharing one object per file.
        a, b = new_uuid(), new_uuid()
        same = photo_bytes(seed=60 + seed)
        results = at_once(functools.partial(_put, phone, hosts[0], a, same),
                          functools.partial(_put, other, hosts[1], b, same))
        assert statuses(results) == [201, 201], texts(results)
    db.session.expire_all()
    photos = db.session.scalars(select(Photo)).all()
    assert len(photos) == 9
    keys = {k for p in photos for k in (p.original_key, p.display_key, p.thumb_key)}
    assert sorted(store.keys()) == sorted(keys)  # every file once, none missing, none left over
    for p in photos:
        with store.open(p.original_key) as fh:
            assert len(fh.read()) == p.byte_size


def test_two_people_on_two_hosts_act_on_one_ticket_once(hosts, app):
    w = make_small_world()
    leader2 = make_user(Role.college_leader, college=w.college_a)
    for _ in range(3):
        ticket = make_ticket(w.lab_a)
        lifecycle.perform_action(w.officer_a, ticket.id, "start_fix", config=current_app.config)
        lifecycle.perform_action(w.officer_a, ticket.id, "submit_fix", config=current_app.config, note="done",
                                 photos=[make_photo_row(w.officer_a).uuid])
        db.session.expire_all()
        version = db.session.get(RectificationTicket, ticket.id).version
        events = _events(ticket.id)
        a, b = Browser(w.leader_a).login(hosts[0]), Browser(leader2).login(hosts[1])
        path = f"/api/tickets/{ticket.id}/actions"
        verify = {"action": "verify", "note": "checked", "version": version}
        reject = {"action": "reject", "note": "not fixed", "version": version}
        results = at_once(functools.partial(a.send, hosts[0], "POST", path, json=verify),
                          functools.partial(b.send, hosts[1], "POST", path, json=reject))
        assert sorted(statuses(results)) == [200, 409], texts(results)
        db.session.expire_all()
        assert _events(ticket.id) == events + 1


def _events(ticket_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.ticket_id == ticket_id))
