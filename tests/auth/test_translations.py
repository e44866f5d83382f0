"""The campus login's pages (issue 25) speak zh_CN and English fully: every string of app/auth/sso*.py and
its templates is translated, and the login page with both campus logins and the refusal pages show no
string of the other language."""
from __future__ import annotations

from tests.factories.sso import cas_round_trip, use_cas
from tests.translations_check import catalogue, chinese_in, english_left_in, msgids

FILES = ("app/auth/sso.py", "app/auth/sso_views.py", "app/auth/views.py", "templates/auth/login.html",
         "templates/auth/sso_refused.html")


def test_every_string_of_the_campus_login_is_translated():
    missing = msgids(*FILES) - set(catalogue())
    assert not missing, f"untranslated: {sorted(missing)}"


def _pages(app, client, cas_server, lang: str) -> dict[str, str]:
    client.set_cookie("labsafe_lang", lang)
    app.config.update(CAS_SERVER_URL="", OIDC_DISCOVERY_URL="")
    resp = client.get("/login/cas")
    assert resp.status_code == 404
    pages = {"not set up": resp.get_data(as_text=True)}
    use_cas(app, cas_server)
    app.config.update(OIDC_DISCOVERY_URL="http://127.0.0.1:9/.well-known/openid-configuration",
                      OIDC_CLIENT_ID="labsafe", OIDC_CLIENT_SECRET="s")
    pages["login"] = client.get("/login").get_data(as_text=True)
    resp = client.get("/login/cas/callback?s=forged&ticket=ST-1")
    assert resp.status_code == 400 and 'id="sso-refused"' in resp.get_data(as_text=True)
    pages["bad state"] = resp.get_data(as_text=True)
    cas_server.user = ("99999999", {})
    resp, _ = cas_round_trip(client)
    assert resp.status_code == 403
    pages["unknown account"] = resp.get_data(as_text=True)
    resp = client.get("/login/oidc")  # the provider's discovery document cannot be fetched
    assert resp.status_code == 503 and 'id="sso-refused"' in resp.get_data(as_text=True)
    pages["oidc unreachable"] = resp.get_data(as_text=True)
    return pages


def test_the_campus_login_pages_render_in_one_language(app, client, cas_server):
    zh = _pages(app, client, cas_server, "zh_CN")
    for name, page in zh.items():
        assert not english_left_in(page), (name, english_left_in(page))
    assert "统一身份认证" in zh["login"]
    en = _pages(app, client, cas_server, "en")
    for name, page in en.items():
        assert not chinese_in(page), (name, chinese_in(page))
    assert "Log in with the campus account" in en["login"]
    assert len(english_left_in(en["login"])) > 2 and len(chinese_in(zh["login"])) > 2
