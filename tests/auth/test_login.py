from tests.factories import DEFAULT_PASSWORD, login, make_user


def test_json_login_and_me(client):
    user = make_user("school_admin")
    login(client, user)
    me = client.get("/api/me").get_json()
    assert me["username"] == user.username
    assert me["roles"][0]["role"] == "school_admin"


def test_bad_login_is_refused_with_a_message(client):
    user = make_user("school_admin")
    resp = client.post("/api/login", json={"username": user.username, "password": "wrong"})
    assert resp.status_code == 401
    assert "password" in resp.get_json()["error"]["message"].lower() or resp.get_json()["error"]["message"]
    assert client.get("/api/me").status_code == 401


def test_form_login_redirects_back(client):
    user = make_user("school_admin")
    resp = client.post("/login?next=/labs/1", data={"username": user.username, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/labs/1")


def test_open_redirect_is_refused(client):
    user = make_user("school_admin")
    resp = client.post(
        "/login", data={"username": user.username, "password": DEFAULT_PASSWORD, "next": "//evil.example"}
    )
    assert resp.headers["Location"] == "/reports/monthly"  # the school admin's landing page instead


def test_post_without_csrf_token_is_refused(client):
    user = make_user("school_admin")
    resp = client.post("/api/login", json={"username": user.username, "password": DEFAULT_PASSWORD},
                       headers={"X-CSRFToken": ""})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "csrf"


def test_logout_kills_copied_session_cookie(app):
    user = make_user("school_admin")
    a = app.test_client()
    login(a, user)
    cookie = a.get_cookie(app.config["SESSION_COOKIE_NAME"])
    b = app.test_client()
    b.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie.value)
    assert b.get("/api/me").status_code == 200
    a.post("/api/logout")
    assert b.get("/api/me").status_code == 401
