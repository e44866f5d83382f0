"""The UI speaks Chinese by default; English is one click away; the shared catalogue is complete."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.auth.models import Role
from tests.factories import login, make_lab, make_user

CATALOGUE = Path(__file__).resolve().parents[2] / "app" / "translations" / "zh_CN" / "LC_MESSAGES"


@pytest.fixture(autouse=True, scope="module")
def compiled_catalogue():
    # `make` compiles every catalogue; compile this one here too so a bare pytest run sees it.
    po, mo = CATALOGUE / "messages.po", CATALOGUE / "messages.mo"
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        with po.open("rb") as f:
            catalog = read_po(f)
        # Renamed into place: another test process may be reading the catalogue.
        with tempfile.NamedTemporaryFile("wb", dir=CATALOGUE, suffix=".mo.tmp", delete=False) as f:
            write_mo(f, catalog)
        os.replace(f.name, mo)


def test_every_message_is_translated():
    with (CATALOGUE / "messages.po").open("rb") as f:
        catalog = read_po(f)
    untranslated = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    assert not untranslated


def test_chinese_by_default_and_english_on_request(client):
    page = client.get("/login").get_data(as_text=True)
    assert "用户名" in page and "密码" in page
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Username" in english


def test_language_switch_sticks_on_the_device(client):
    resp = client.post("/lang/en?next=/login")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert "Username" in client.get("/login").get_data(as_text=True)
    client.post("/lang/zh_CN", data={"next": "/login"})
    assert "用户名" in client.get("/login").get_data(as_text=True)


def test_admin_pages_and_refusals_in_chinese(client):
    login(client, make_user(Role.school_admin))
    lab = make_lab(hazard_tags=["highly_toxic"])
    officer = make_user(Role.lab_officer, lab=lab)
    page = client.get(f"/admin/labs/{lab.id}").get_data(as_text=True)
    assert "安全责任人" in page and "剧毒化学品" in page and "生成新的二维码" in page
    refused = client.post(f"/admin/users/{officer.id}/active", data={"active": "0"})
    assert refused.status_code == 409 and "第十条（三）" in refused.get_data(as_text=True)
