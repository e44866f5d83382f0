"""Security headers on every response."""
from __future__ import annotations

from app import create_app
from tests.factories import login, make_user


def _csp(resp) -> dict[str, str]:
    parts = [p.strip() for p in resp.headers["Content-Security-Policy"].split(";")]
    return {p.split(" ", 1)[0]: p.split(" ", 1)[1] if " " in p else "" for p in parts}


def test_html_page_has_strict_csp_and_headers(client):
    resp = client.get("/login")
    assert resp.status_code == 200
    csp = _csp(resp)
    # No 'unsafe-inline', no nonce: the only inline script allowed is the import map, by its hash.
    self_src, *hashes = csp["script-src"].split()
    assert self_src == "'self'" and len(hashes) == 1 and hashes[0].startswith("'sha256-")
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' data: blob:"
    assert csp["connect-src"] == "'self'"
    assert csp["worker-src"] == "'self'"
    assert csp["manifest-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "camera=(self)" in resp.headers["Permissions-Policy"]
    # HSTS only where the site is served over HTTPS (production).
    assert "Strict-Transport-Security" not in resp.headers


def test_json_and_error_responses_carry_the_headers_too(client):
    for resp in (client.get("/api/me"), client.get("/api/no-such-thing"), client.get("/api/csrf")):
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


def test_production_sends_hsts(tmp_path):
    app = create_app(
        "production",
        SECRET_KEY="x" * 40,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.sqlite3'}",
        INSTANCE_PATH=str(tmp_path / "instance"),
        PUBLIC_BASE_URL="https://localhost",
        SINGLE_PROCESS=True,
    )
    resp = app.test_client().get("/login", base_url="https://localhost")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_production_session_cookie_is_host_prefixed_and_secure(tmp_path):
    from app.extensions import db

    app = create_app(
        "production",
        SECRET_KEY="x" * 40,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.sqlite3'}",
        INSTANCE_PATH=str(tmp_path / "instance"),
        PUBLIC_BASE_URL="https://localhost",
        SINGLE_PROCESS=True,
    )
    with app.app_context():
        db.create_all()
        user = make_user("school_admin")
        client = app.test_client()
        token = client.get("/api/csrf", base_url="https://localhost").get_json()["csrf_token"]
        resp = client.post(
            "/api/login",
            json={"username": user.username, "password": "correct horse battery"},
            headers={"X-CSRFToken": token, "Referer": "https://localhost/login"},
            base_url="https://localhost",
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)
        cookies = [v for k, v in resp.headers.items() if k == "Set-Cookie"]
        session_cookie = next(c for c in cookies if c.startswith("__Host-labsafe_session="))
        attrs = [a.strip().lower() for a in session_cookie.split(";")[1:]]
        assert "secure" in attrs and "httponly" in attrs and "path=/" in attrs
        assert "samesite=lax" in attrs
        assert not any(a.startswith("domain=") for a in attrs)  # __Host- forbids a Domain
        device_cookie = next(c for c in cookies if c.startswith("__Host-labsafe_device="))  # the known device
        attrs = [a.strip().lower() for a in device_cookie.split(";")[1:]]
        assert {"secure", "httponly", "path=/", "samesite=lax"} <= set(attrs)
        assert not any(a.startswith("domain=") for a in attrs)
        assert client.get("/api/me", base_url="https://localhost").status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_logged_in_pages_also_have_headers(client):
    login(client, make_user("school_admin"))
    resp = client.get("/")
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_signed_in_pages_and_api_answers_are_not_stored_by_any_cache(app, client):
    """After logout a shared phone's back button must not show the last user's pages from a cache."""
    from app.auth.models import Role

    login(client, make_user(Role.school_admin))
    for path in ("/api/me", "/", "/admin/users", "/api/no-such-thing", "/login"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    # What sets its own caching keeps it: the offline bundle, the service worker, static files.
    assert client.get("/api/offline/bundle").headers["Cache-Control"] == "private, no-store"
    assert client.get("/sw.js").headers["Cache-Control"] == "no-cache, no-store, must-revalidate"
    static = client.get("/static/css/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers["Cache-Control"]
