"""The PWA's server side: manifest, service worker, shell pages, the offline bundle."""
from __future__ import annotations

from datetime import timedelta

from app.auth.models import Role
from app.timeutil import utcnow
from tests.factories import (
    load_shipped_checklists,
    login,
    make_college,
    make_daily_check,
    make_lab,
    make_ticket,
    make_user,
)
from tests.pwa import statements_for


def test_manifest_is_installable(client):
    resp = client.get("/manifest.webmanifest")
    assert resp.status_code == 200
    assert resp.mimetype == "application/manifest+json"
    m = resp.get_json()
    assert m["name"] == "实验室安全检查 / LabSafe"
    assert m["display"] == "standalone" and m["theme_color"] and m["start_url"].startswith("/app")
    sizes = {(i["sizes"], i["purpose"]) for i in m["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= sizes
    for icon in m["icons"]:
        png = client.get(icon["src"])
        assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
        from io import BytesIO

        from PIL import Image

        w, h = Image.open(BytesIO(png.data)).size
        assert f"{w}x{h}" == icon["sizes"]


def test_service_worker_scope_and_caching_headers(client):
    resp = client.get("/sw.js")
    assert resp.status_code == 200
    assert resp.mimetype == "text/javascript"
    assert resp.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in resp.headers["Cache-Control"]
    body = resp.get_data(as_text=True)
    # Versioned caches; every precached shell file exists.
    assert "labsafe-static-" in body and "labsafe-pages-" in body
    import json
    import re

    static_urls = json.loads(re.search(r"const STATIC_URLS = (\[.*?\]);", body).group(1))
    # The same hashed URLs the pages use: what the page loaded is what the worker keeps.
    app_css = next(u for u in static_urls if u.startswith("/static/css/app.css?v="))
    assert "/offline" in static_urls
    for url in static_urls:
        assert client.get(url).status_code == 200, url
    assert client.get(app_css).headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_sw_version_changes_with_the_shell(app, client, monkeypatch):
    from app.pwa import views

    first = client.get("/sw.js").get_data(as_text=True)
    views._asset_version.cache_clear()
    monkeypatch.setattr(views, "SHELL_STATIC", views.SHELL_STATIC[:-1])
    second = client.get("/sw.js").get_data(as_text=True)
    views._asset_version.cache_clear()
    assert first.splitlines()[0] != second.splitlines()[0]


def test_shell_pages_render_in_chinese_by_default_and_english_on_request(client):
    user = make_user(Role.inspector)
    login(client, user)
    zh = client.get("/app").get_data(as_text=True)
    assert "扫描实验室二维码" in zh and 'lang="zh-CN"' in zh
    assert 'id="i18n"' in zh and "同步" in zh
    client.post("/lang/en")
    en = client.get("/app").get_data(as_text=True)
    assert "Scan a lab QR code" in en and 'lang="en"' in en


def test_pages_require_login(client):
    for path in ("/app", "/app/scan", "/app/shell/inspect", "/app/tickets"):
        resp = client.get(path)
        assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]
    assert client.get("/api/offline/bundle").status_code == 401


def _world():
    load_shipped_checklists()
    a, b = make_college(), make_college()
    lab_a = make_lab(a, category="chemistry", hazard_tags=["hazardous_chemicals"])
    lab_a2 = make_lab(a, category="general")
    lab_b = make_lab(b, category="biology", hazard_tags=["pathogens"])
    return a, b, lab_a, lab_a2, lab_b


def test_bundle_for_a_college_inspector_holds_their_colleges_labs_only(client):
    a, b, lab_a, lab_a2, lab_b = _world()
    make_ticket(lab_a, title="走廊堆放杂物")
    make_ticket(lab_b, title="other college")
    inspector = make_user(Role.inspector, college=a)
    login(client, inspector)
    bundle = client.get("/api/offline/bundle").get_json()
    assert bundle["user_id"] == inspector.id
    ids = {lab["id"] for lab in bundle["labs"]}
    assert ids == {lab_a.id, lab_a2.id}
    card = next(lab for lab in bundle["labs"] if lab["id"] == lab_a.id)
    assert card["qr_token"] == lab_a.qr_token and card["phone"]
    assert [t["title"] for t in card["open_tickets"]] == ["走廊堆放杂物"]
    assert card["daily_done_today"] is None  # not this user's lab
    levels = {c["key"]: c["levels"] for c in card["checklists"]}
    assert levels.get("full") == ["college"] and "daily" not in levels
    full = next(c for c in card["checklists"] if c["key"] == "full")
    version = bundle["checklist_versions"][str(full["version_id"])]
    all_ids = {i["id"] for i in version["items"]}
    assert full["item_ids"] and set(full["item_ids"]) <= all_ids
    # The general lab's list is shorter: chemistry-only items do not apply to it (art. 22).
    general = next(lab for lab in bundle["labs"] if lab["id"] == lab_a2.id)
    g_full = next(c for c in general["checklists"] if c["key"] == "full")
    assert len(g_full["item_ids"]) < len(full["item_ids"])


def test_bundle_for_a_lab_officer_says_whether_today_is_done(client):
    a, b, lab_a, lab_a2, lab_b = _world()
    officer = make_user(Role.lab_officer, lab=lab_a)
    login(client, officer)
    bundle = client.get("/api/offline/bundle").get_json()
    assert [lab["id"] for lab in bundle["labs"]] == [lab_a.id]
    card = bundle["labs"][0]
    assert card["daily_done_today"] is False
    assert [c["levels"] for c in card["checklists"] if c["key"] == "daily"] == [["daily"]]
    make_daily_check(lab_a, officer, utcnow() - timedelta(minutes=1))
    card = client.get("/api/offline/bundle").get_json()["labs"][0]
    assert card["daily_done_today"] is True


def test_bundle_is_empty_for_readers_who_inspect_nothing(client):
    a, b, lab_a, lab_a2, lab_b = _world()
    head = make_user(Role.college_head, college=a)
    login(client, head)
    resp = client.get("/api/offline/bundle")
    assert resp.status_code == 200 and resp.get_json()["labs"] == []
    assert "no-store" in resp.headers["Cache-Control"]


def test_bundle_issues_a_fixed_number_of_queries(client, app):
    a, b, lab_a, lab_a2, lab_b = _world()
    admin = make_user(Role.school_admin)
    make_ticket(lab_a)
    login(client, admin)

    def count():
        return statements_for(client, app, "/api/offline/bundle")

    few = count()
    for _ in range(6):
        lab = make_lab(a)
        make_ticket(lab)
    assert count() == few


def test_offline_page_carries_no_user_data(client):
    # It is precached in the static cache, which logout does not clear.
    user = make_user(Role.inspector, name="张三丰")
    login(client, user)
    body = client.get("/offline").get_data(as_text=True)
    assert "张三丰" not in body and 'data-user-id=""' in body
    assert 'name="csrf-token" content=""' in body
    assert "张三丰" in client.get("/app").get_data(as_text=True)
