"""The general API rate limit (the `limits` storage; Redis where RATELIMIT_STORAGE_URI says so)."""
from __future__ import annotations

from app import create_app
from app.extensions import db
from tests.factories import login, make_user


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
