"""Checklist pages: lists with versions, and a version's items grouped by article."""
from __future__ import annotations

from app.auth.models import Role
from app.checklists import services
from tests.factories import load_shipped_checklists, login, make_user


def test_index_lists_checklists_and_versions(app, client):
    load_shipped_checklists()
    login(client, make_user(Role.inspector))
    html = client.get("/checklists?lang=zh_CN").get_data(as_text=True)
    for title in ("实验室安全日查", "实验室安全检查表", "危险化学品安全专项检查", "消防安全专项检查"):
        assert title in html
    assert "full.toml" not in html  # only admins see the source file


def test_admin_sees_the_source_file(app, client):
    load_shipped_checklists()
    login(client, make_user(Role.school_admin))
    assert "full.toml" in client.get("/checklists").get_data(as_text=True)
    v = services.current_version("full")
    assert "full.toml" in client.get(f"/checklists/versions/{v.id}").get_data(as_text=True)


def test_version_page_groups_items_by_article(app, client):
    load_shipped_checklists()
    login(client, make_user(Role.lab_officer))
    v = services.current_version("full")
    resp = client.get(f"/checklists/versions/{v.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert html.index("第十二条") < html.index("第十六条（二）") < html.index("第二十四条（八）")
    assert "双把锁" in html
    assert "<script" not in html.split("</main>")[0].split("<main")[1]  # CSP: no inline script
    assert client.get("/checklists/versions/999999").status_code == 404


def test_english_page(app, client):
    load_shipped_checklists()
    login(client, make_user(Role.inspector))
    v = services.current_version("daily")
    html = client.get(f"/checklists/versions/{v.id}?lang=en").get_data(as_text=True)
    assert "Escape routes and emergency exits are clear" in html
