"""Login throttling per account and per address, counted in the database."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from app.auth.models import LoginAttempt
from app.extensions import db
from tests.factories import DEFAULT_PASSWORD, make_user


def _api_login(client, username, password, address="10.0.0.1"):
    return client.post(
        "/api/login", json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_account_locks_after_max_failures_even_for_the_right_password(app, client):
    user = make_user("inspector")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _api_login(client, user.username, "wrong").status_code == 401
    resp = _api_login(client, user.username, DEFAULT_PASSWORD)
    assert resp.status_code == 429
    body = resp.get_json()["error"]
    assert body["code"] == "too_many_attempts"
    assert "Try again in" in body["message"] or "分钟" in body["message"]
    retry = int(resp.headers["Retry-After"])
    assert 0 < retry <= app.config["LOGIN_LOCK_MINUTES"] * 60
    assert body["details"]["retry_after"] == retry
    # Another address does not unlock the account.
    assert _api_login(client, user.username, DEFAULT_PASSWORD, address="10.9.9.9").status_code == 429


def test_form_login_shows_the_lock_on_the_login_page(app, client):
    user = make_user("inspector")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        resp = client.post("/login", data={"username": user.username, "password": "wrong"})
        assert resp.status_code == 401
    resp = client.post("/login", data={"username": user.username, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert 'role="alert"' in resp.get_data(as_text=True)
    assert "<form" in resp.get_data(as_text=True)


def test_lock_lifts_when_failures_age_out(app, client):
    user = make_user("inspector")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _api_login(client, user.username, "wrong")
    assert _api_login(client, user.username, DEFAULT_PASSWORD).status_code == 429
    _age_attempts(app.config["LOGIN_LOCK_MINUTES"] * 60)
    assert _api_login(client, user.username, DEFAULT_PASSWORD).status_code == 200


def test_success_forgets_the_accounts_failures(app, client):
    user = make_user("inspector")
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        _api_login(client, user.username, "wrong")
    assert _api_login(client, user.username, DEFAULT_PASSWORD).status_code == 200
    db.session.remove()
    assert (
        db.session.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == user.username))
        == 0
    )
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        _api_login(client, user.username, "wrong")
    assert _api_login(client, user.username, DEFAULT_PASSWORD).status_code == 200


def test_address_locks_after_many_failures_across_accounts(app, client):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 6
    victim = make_user("inspector")
    for n in range(6):  # spraying: one try per username, never reaching an account's limit
        assert _api_login(client, f"guess{n}", "wrong", address="10.6.6.6").status_code == 401
    assert _api_login(client, victim.username, DEFAULT_PASSWORD, address="10.6.6.6").status_code == 429
    assert _api_login(client, victim.username, DEFAULT_PASSWORD, address="10.7.7.7").status_code == 200


def test_the_counter_holds_across_workers(app, client, database_url):
    """Two app instances (two gunicorn workers) on one database share the count."""
    user = make_user("inspector")
    other = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       INSTANCE_PATH=app.instance_path)
    other_client = other.test_client()
    half = app.config["LOGIN_MAX_FAILURES"] // 2
    for n in range(app.config["LOGIN_MAX_FAILURES"]):
        c, a = (client, app) if n < half else (other_client, other)
        with a.app_context():
            token = c.get("/api/csrf").get_json()["csrf_token"]
            resp = c.post("/api/login", json={"username": user.username, "password": "wrong"},
                          headers={"X-CSRFToken": token})
            assert resp.status_code == 401
    assert _api_login(client, user.username, DEFAULT_PASSWORD).status_code == 429
    with other.app_context():
        token = other_client.get("/api/csrf").get_json()["csrf_token"]
        resp = other_client.post("/api/login", json={"username": user.username, "password": DEFAULT_PASSWORD},
                                 headers={"X-CSRFToken": token})
        assert resp.status_code == 429
        db.session.remove()
        db.engine.dispose()


def test_usernames_are_counted_case_insensitively(app, client):
    make_user("inspector", username="MixedCase")
    for n in range(app.config["LOGIN_MAX_FAILURES"]):
        _api_login(client, "mixedcase" if n % 2 else " MIXEDCASE ", "wrong")
    assert _api_login(client, "MixedCase", DEFAULT_PASSWORD).status_code == 429


def test_behind_a_trusted_proxy_the_client_address_counts(app, client):
    from werkzeug.middleware.proxy_fix import ProxyFix

    other = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       INSTANCE_PATH=app.instance_path, TRUSTED_PROXIES=1, LOGIN_MAX_FAILURES_PER_ADDRESS=3)
    assert isinstance(other.wsgi_app, ProxyFix)
    victim = make_user("inspector")
    c = other.test_client()
    with other.app_context():
        for n in range(3):
            token = c.get("/api/csrf").get_json()["csrf_token"]
            c.post("/api/login", json={"username": f"x{n}", "password": "wrong"},
                   headers={"X-CSRFToken": token, "X-Forwarded-For": "203.0.113.9"})
        token = c.get("/api/csrf").get_json()["csrf_token"]
        locked = c.post("/api/login", json={"username": victim.username, "password": DEFAULT_PASSWORD},
                        headers={"X-CSRFToken": token, "X-Forwarded-For": "203.0.113.9"})
        assert locked.status_code == 429
        token = c.get("/api/csrf").get_json()["csrf_token"]
        ok = c.post("/api/login", json={"username": victim.username, "password": DEFAULT_PASSWORD},
                    headers={"X-CSRFToken": token, "X-Forwarded-For": "198.51.100.7"})
        assert ok.status_code == 200
        db.session.remove()
        db.engine.dispose()
    assert db.session.scalar(select(LoginAttempt.address).limit(1)) == "203.0.113.9"


def _in_flight(app, monkeypatch, attempts):
    """Send ``attempts`` ((username, password, address) each) at once, each held inside its password
    check until the caller releases them; answers (release, join -> status codes)."""
    import threading

    from app.auth import services

    real = services.authenticate
    arrived = threading.Semaphore(0)
    release = threading.Event()

    def held(username, password):
        arrived.release()
        release.wait(10)
        return real(username, password)

    monkeypatch.setattr(services, "authenticate", held)
    codes = [None] * len(attempts)

    def send(n, username, password, address):
        codes[n] = _api_login(app.test_client(), username, password, address).status_code

    threads = [threading.Thread(target=send, args=(n, *a)) for n, a in enumerate(attempts)]
    for t in threads:
        t.start()
    for _ in attempts:
        assert arrived.acquire(timeout=10)

    def join():
        release.set()
        for t in threads:
            t.join(30)
        monkeypatch.setattr(services, "authenticate", real)
        return codes

    return join


def test_attempts_in_flight_count_against_their_account(app, monkeypatch):
    """Guesses sent in parallel count each other: the limit holds however many are in flight."""
    app.config["LOGIN_MAX_FAILURES"] = 2
    user = make_user("inspector")
    join = _in_flight(app, monkeypatch, [(user.username, "wrong1", "10.0.0.1"), (user.username, "wrong2", "10.0.0.2")])
    # Both guesses are being checked: a third attempt, even with the right password, waits for the lock.
    assert _api_login(app.test_client(), user.username, DEFAULT_PASSWORD, "10.0.0.3").status_code == 429
    assert join() == [401, 401]
    assert _api_login(app.test_client(), user.username, DEFAULT_PASSWORD, "10.0.0.3").status_code == 429


def test_logins_in_flight_from_one_address_do_not_lock_it(app, monkeypatch):
    """Many people logging in at once behind one address (a campus NAT) are not failures."""
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 2
    users = [make_user("inspector") for _ in range(3)]
    join = _in_flight(app, monkeypatch, [(u.username, DEFAULT_PASSWORD, "10.8.8.8") for u in users[:2]])
    assert _api_login(app.test_client(), users[2].username, DEFAULT_PASSWORD, "10.8.8.8").status_code == 200
    assert join() == [200, 200]
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0  # successes leave no row


def test_a_success_deleting_a_wrong_guess_in_flight_answers_401_and_the_guess_still_counts(app, monkeypatch):
    """The owner logs in while someone's wrong password for the account is being checked: the success
    deletes the account's in-flight rows, the guess's included. The guess is still refused with a 401
    (not a 500 on its vanished row) and still counts against the account and its address."""
    import threading

    from app.auth import services

    username = make_user("inspector").username
    real = services.authenticate
    checking, release = threading.Event(), threading.Event()

    def held_if_wrong(username, password):
        if password == "wrong":
            checking.set()
            release.wait(10)
        return real(username, password)

    monkeypatch.setattr(services, "authenticate", held_if_wrong)
    codes = []
    guess = threading.Thread(target=lambda: codes.append(
        _api_login(app.test_client(), username, "wrong", "10.6.6.6").status_code))
    guess.start()
    assert checking.wait(10)
    assert _api_login(app.test_client(), username, DEFAULT_PASSWORD, "10.0.0.3").status_code == 200
    release.set()
    guess.join(30)
    assert codes == [401]
    db.session.remove()
    rows = db.session.execute(select(LoginAttempt.username, LoginAttempt.address)).all()
    assert rows == [(username, "10.6.6.6")]


# ---- every refused login costs the same -------------------------------------------------------

@pytest.fixture
def password_checks(monkeypatch):
    """The hashes each password check was run against (werkzeug's check, counted where it is called)."""
    from app.auth import models

    calls, real = [], models.check_password_hash

    def counted(password_hash, password):
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(models, "check_password_hash", counted)
    return calls


def test_every_refused_login_costs_one_password_check(app, client, password_checks):
    """Timing must not tell an unknown, a deactivated, a locked account from a wrong password."""
    active, deactivated, locked = make_user("inspector"), make_user("inspector"), make_user("inspector")
    deactivated.active = False
    db.session.commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _api_login(client, locked.username, "wrong", "10.4.4.4").status_code == 401
    cases = {
        "unknown": ("nobody-at-all", DEFAULT_PASSWORD, 401),
        "deactivated, right password": (deactivated.username, DEFAULT_PASSWORD, 401),
        "deactivated, wrong password": (deactivated.username, "wrong", 401),
        "wrong password": (active.username, "wrong", 401),
        "locked": (locked.username, DEFAULT_PASSWORD, 429),
        "right password": (active.username, DEFAULT_PASSWORD, 200),
    }
    for case, (username, password, status) in cases.items():
        password_checks.clear()
        assert _api_login(app.test_client(), username, password, "10.5.5.5").status_code == status, case
        assert len(password_checks) == 1, case


# ---- one person cannot lock out a building, nor an account's own devices ----------------------

def _age_attempts(seconds: int) -> None:
    """Move every attempt back in time (row by row: SQLite stores the times as text)."""
    db.session.remove()
    for attempt in db.session.scalars(select(LoginAttempt)):
        attempt.attempted_at -= timedelta(seconds=seconds)
    db.session.commit()


def _known_device(app, user, address="10.1.1.1"):
    """A client on which ``user`` has logged in once (then logged out): a known device."""
    device = app.test_client()
    assert _api_login(device, user.username, DEFAULT_PASSWORD, address).status_code == 200
    assert device.get_cookie(app.config["KNOWN_DEVICE_COOKIE_NAME"]) is not None
    assert device.post("/api/logout").status_code == 204
    return device


def test_a_spraying_address_slows_new_devices_down_and_known_devices_go_on(app):
    """Behind a campus NAT: twenty wrong passwords from the address do not lock the building out."""
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 6
    nat = "10.8.0.1"
    regular, newcomer = make_user("inspector"), make_user("inspector")
    phone = _known_device(app, regular, nat)
    for n in range(6):  # spraying: one guess per username
        assert _api_login(app.test_client(), f"guess{n}", "wrong", nat).status_code == 401
    assert _api_login(phone, regular.username, DEFAULT_PASSWORD, nat).status_code == 200
    # A device the account does not know waits one interval (15 min / 6), not the whole window.
    interval = app.config["LOGIN_LOCK_MINUTES"] * 60 // 6
    resp = _api_login(app.test_client(), newcomer.username, DEFAULT_PASSWORD, nat)
    assert resp.status_code == 429 and 0 < int(resp.headers["Retry-After"]) <= interval
    _age_attempts(interval + 1)
    assert _api_login(app.test_client(), newcomer.username, DEFAULT_PASSWORD, nat).status_code == 200
    # The spraying goes on at that pace at most: one more guess, then a wait again.
    assert _api_login(app.test_client(), "guess9", "wrong", nat).status_code == 401
    assert _api_login(app.test_client(), "guess10", "wrong", nat).status_code == 429


def test_a_strangers_wrong_passwords_do_not_lock_the_accounts_known_devices(app):
    admin = make_user("school_admin")
    pc = _known_device(app, admin)
    stranger = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _api_login(stranger, admin.username, "wrong", "10.6.6.6").status_code == 401
    # Guesses stay limited, from the stranger's address and any other, for devices the account does not know...
    assert _api_login(stranger, admin.username, DEFAULT_PASSWORD, "10.6.6.6").status_code == 429
    assert _api_login(app.test_client(), admin.username, DEFAULT_PASSWORD, "10.1.1.1").status_code == 429
    # ...while the administrator's own PC logs in, and that does not give the stranger new guesses.
    assert _api_login(pc, admin.username, DEFAULT_PASSWORD, "10.1.1.1").status_code == 200
    assert _api_login(stranger, admin.username, DEFAULT_PASSWORD, "10.6.6.6").status_code == 429


def test_a_known_device_has_its_own_limit(app):
    user = make_user("inspector")
    phone = _known_device(app, user)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _api_login(phone, user.username, "wrong").status_code == 401
    assert _api_login(phone, user.username, DEFAULT_PASSWORD).status_code == 429
    assert _api_login(app.test_client(), user.username, DEFAULT_PASSWORD, "10.2.2.2").status_code == 200


def test_the_device_cookie_counts_only_for_accounts_that_logged_in_on_it_and_only_when_ours(app):
    mine, other = make_user("inspector"), make_user("inspector")
    device = _known_device(app, mine)
    name = app.config["KNOWN_DEVICE_COOKIE_NAME"]
    for user in (mine, other):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            assert _api_login(app.test_client(), user.username, "wrong", "10.3.3.3").status_code == 401
    assert _api_login(device, other.username, DEFAULT_PASSWORD).status_code == 429  # never logged in here
    forged = app.test_client()
    forged.set_cookie(name, device.get_cookie(name).value[:-4] + "AAAA")
    assert _api_login(forged, mine.username, DEFAULT_PASSWORD).status_code == 429
    assert _api_login(device, mine.username, DEFAULT_PASSWORD).status_code == 200


def test_a_burst_of_parallel_guesses_never_gets_past_the_limit(app, monkeypatch):
    """Attempts sent at once: each is written down before it is counted, so at most the limit are checked."""
    import threading

    from app.auth import services, throttle

    app.config["LOGIN_MAX_FAILURES"] = 3
    username = make_user("inspector").username
    n = 8
    barrier = threading.Barrier(n, timeout=20)
    real_claim, real_authenticate = throttle._claim, services.authenticate
    checked = []

    def claim(*args, **kwargs):  # every attempt gets this far before any is written down
        barrier.wait()
        return real_claim(*args, **kwargs)

    def authenticate(username, password):
        checked.append(username)
        return real_authenticate(username, password)

    monkeypatch.setattr(throttle, "_claim", claim)
    monkeypatch.setattr(services, "authenticate", authenticate)
    codes = [None] * n

    def send(k):
        codes[k] = _api_login(app.test_client(), username, f"wrong{k}", f"10.9.0.{k}").status_code

    threads = [threading.Thread(target=send, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(checked) <= 3 and codes.count(401) == len(checked)
    assert codes.count(429) == n - len(checked)


def test_the_login_form_makes_the_device_known_too(app):
    user = make_user("inspector")
    browser = app.test_client()
    resp = browser.post("/login", data={"username": user.username, "password": DEFAULT_PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert resp.status_code == 302
    browser.post("/logout")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _api_login(app.test_client(), user.username, "wrong", "10.6.6.6").status_code == 401
    resp = browser.post("/login", data={"username": user.username, "password": DEFAULT_PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert resp.status_code == 302
