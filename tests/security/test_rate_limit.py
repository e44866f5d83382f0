"""The general API rate limit (the `limits` storage; Redis where RATELIMIT_STORAGE_URI says so)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from app import create_app
from app.extensions import db
from tests.factories import login, make_user

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def test_api_rate_limit_per_user_answers_429_with_retry_after(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'r.sqlite3'}",
                     INSTANCE_PATH=str(tmp_path / "instance"), API_RATE_LIMIT="5 per minute")
    from tests.conftest import CsrfClient

    app.test_client_class = CsrfClient
    with app.app_context():
        db.create_all()
        a, b = make_user("inspector"), make_user("inspector")
        ca, cb = app.test_client(), app.test_client()
        login(ca, a)  # before login the key is the address (4 hits for both logins: under 5)
        login(cb, b)
        assert [ca.get("/api/me").status_code for _ in range(5)] == [200] * 5
        resp = ca.get("/api/me")
        assert resp.status_code == 429
        assert resp.get_json()["error"]["code"] == "rate_limited"
        assert 0 < int(resp.headers["Retry-After"]) <= 60
        # Another user is counted separately; pages outside /api are not limited.
        assert cb.get("/api/me").status_code == 200
        assert ca.get("/login").status_code in (200, 302)
        # The limit is documented on every operation while it is on.
        spec = app.test_client().get("/api/openapi.json")
        assert spec.status_code == 429 or "429" in spec.get_json()["paths"]["/api/me"]["get"]["responses"]
        db.session.remove()
        db.engine.dispose()


def test_no_limit_when_not_configured(client):
    login(client, make_user("inspector"))
    assert all(client.get("/api/me").status_code == 200 for _ in range(30))


# ---- several workers: one count in Redis, or production refuses to start ----------------------

@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A real redis-server on 127.0.0.1 on a free port (nothing leaves the machine)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    yield {"url": f"redis://127.0.0.1:{port}/0", "proc": proc}
    proc.terminate()
    proc.wait(10)


def _limited_app(app, **overrides):
    from tests.conftest import CsrfClient

    other = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       INSTANCE_PATH=app.instance_path, **overrides)
    other.test_client_class = CsrfClient
    return other


def test_two_workers_sharing_redis_share_one_count(app, redis_server):
    """Two app instances (two gunicorn workers) on one Redis: 20 requests at a limit of 6 let 6 through."""
    import redis

    redis.Redis.from_url(redis_server["url"]).flushall()
    workers = [_limited_app(app, API_RATE_LIMIT="6 per minute", RATELIMIT_STORAGE_URI=redis_server["url"])
               for _ in range(2)]
    user = make_user("inspector")
    clients = [w.test_client() for w in workers]
    cookie = app.config["SESSION_COOKIE_NAME"]
    login(clients[0], user)  # one session, served by either worker (the address's hits are another key)
    clients[1].set_cookie(cookie, clients[0].get_cookie(cookie).value)
    codes = [clients[n % 2].get("/api/me").status_code for n in range(20)]
    assert codes.count(200) == 6 and codes[6:] == [429] * 14
    for w in workers:
        with w.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_redis_outage_serves_requests_rather_than_failing_them(app, tmp_path, caplog):
    """The limit is a brake, not an access rule: with its store unreachable, /api answers (logged)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there
    other = _limited_app(app, API_RATE_LIMIT="6 per minute", RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0")
    client = other.test_client()
    login(client, make_user("inspector"))
    assert client.get("/api/me").status_code == 200
    assert "rate limit storage unavailable" in caplog.text
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _production(tmp_path, **overrides):
    settings = dict(SECRET_KEY="x" * 40, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.sqlite3'}",
                    INSTANCE_PATH=str(tmp_path / "instance"), PUBLIC_BASE_URL="https://labsafe.example.edu.cn")
    settings.update(overrides)
    return create_app("production", **settings)


def test_production_refuses_counters_in_memory_with_several_workers(tmp_path):
    with pytest.raises(RuntimeError) as err:
        _production(tmp_path, RATELIMIT_STORAGE_URI="memory://", SINGLE_PROCESS=False)
    message = str(err.value)
    assert "LABSAFE_RATELIMIT_STORAGE_URI=redis://" in message and "LABSAFE_SINGLE_PROCESS=1" in message
    # One process says so explicitly; a shared store, or no limit at all, needs nothing more.
    assert _production(tmp_path, RATELIMIT_STORAGE_URI="memory://", SINGLE_PROCESS=True)
    assert _production(tmp_path, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")
    assert _production(tmp_path, RATELIMIT_STORAGE_URI="memory://", API_RATE_LIMIT="")
