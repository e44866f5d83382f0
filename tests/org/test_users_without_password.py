"""Users imported without a password: no hashing in the import (a 5,000-row file fits a request);
each sets their own password through a signed, expiring, one-time link the lab office hands out."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from app.auth import services as auth_services
from app.auth.models import NO_PASSWORD, User
from app.errors import InvalidInput
from app.extensions import db
from app.org import csv_import
from tests.factories import login, make_college, make_user


@pytest.fixture
def world(app):
    make_college(code="CHEM", name="化学与材料工程学院")
    return app


def _upload(client, data: bytes):
    return client.post("/admin/import/users?lang=en", data={"file": (io.BytesIO(data), "users.csv")},
                       content_type="multipart/form-data")


def _links(client) -> dict[str, str]:
    resp = client.get("/admin/import/set-password-links.csv?lang=en")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8" and resp.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Username", "Name", "E-mail", "Set-password link"]
    return {r[0]: r[3] for r in rows[1:]}


def test_a_full_file_without_passwords_imports_at_once(world):
    """The row limit, 5,000 users, in one import: no password hash is computed."""
    lines = ["username,name,email,roles"] + [f"u{i:05d},用户{i},u{i}@example.edu.cn,inspector:CHEM"
                                             for i in range(csv_import.MAX_ROWS)]
    report = csv_import.import_users(("\n".join(lines) + "\n").encode())
    assert len(report.created) == len(report.without_password) == csv_import.MAX_ROWS
    assert db.session.scalar(select(func.count()).where(User.password_hash == NO_PASSWORD)) == csv_import.MAX_ROWS
    assert len(auth_services.set_password_links(world.config, "https://labsafe.example.edu.cn")) == csv_import.MAX_ROWS


def test_the_link_sets_the_password_once(client, world):
    login(client, make_user("school_admin"))
    resp = _upload(client, "username,name,email\nzhao.min,赵敏,zhao@example.edu.cn\nsun.li,孙丽,\n".encode())
    assert resp.status_code == 200
    assert "2 new users have no password yet" in resp.get_data(as_text=True)
    links = _links(client)
    assert set(links) == {"sun.li", "zhao.min"}
    client.post("/logout")

    anon = world.test_client()
    for guess in ("", "!", NO_PASSWORD, "correct horse battery"):
        assert anon.post("/api/login", json={"username": "zhao.min", "password": guess}).status_code in (400, 401)
    path = links["zhao.min"].removeprefix("http://localhost")
    assert path.startswith("/set-password/")
    page = anon.get(path + "?lang=en")
    assert page.status_code == 200 and 'value="zhao.min"' in page.get_data(as_text=True)
    assert (
        anon.post(path, data={"new_password": "long-enough-pw", "confirm_password": "other-pw-xx"}).status_code == 400
    )
    assert anon.post(path, data={"new_password": "short", "confirm_password": "short"}).status_code == 400
    resp = anon.post(path, data={"new_password": "long-enough-pw", "confirm_password": "long-enough-pw"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert anon.post("/api/login", json={"username": "zhao.min", "password": "long-enough-pw"}).status_code == 200

    other = world.test_client()
    again = other.get(path + "?lang=en")
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    assert (
        other.post(path, data={"new_password": "attacker-pw-1", "confirm_password": "attacker-pw-1"}).status_code == 400
    )
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.username == "zhao.min")).check_password("long-enough-pw")
    login(client, make_user("school_admin"))
    assert set(_links(client)) == {"sun.li"}
    listing = client.get("/admin/users?lang=en").get_data(as_text=True)
    assert listing.count("no password yet") == 1 and "(sun.li)" in listing
    sun = db.session.scalar(select(User).where(User.username == "sun.li"))
    assert "No password yet" in client.get(f"/admin/users/{sun.id}?lang=en").get_data(as_text=True)


def test_expired_tampered_and_deactivated_links_are_refused(world, monkeypatch):
    user = User(username="late.user", name="迟到", password_hash=NO_PASSWORD)
    db.session.add(user)
    db.session.commit()
    import itsdangerous.timed

    real = itsdangerous.timed.time.time
    with monkeypatch.context() as m:
        m.setattr(itsdangerous.timed.time, "time", lambda: real() - 15 * 86400)
        old = auth_services.set_password_links(world.config, "")[0][3]
    fresh = auth_services.set_password_links(world.config, "")[0][3]
    client = world.test_client()
    resp = client.get(old + "?lang=en")
    assert resp.status_code == 400 and "expired" in resp.get_data(as_text=True)
    assert client.get(fresh[:-2] + "xx").status_code == 400
    assert client.get(fresh).status_code == 200
    user.active = False
    db.session.commit()
    assert client.get(fresh).status_code == 400
    with pytest.raises(InvalidInput):
        auth_services.set_first_password(fresh.rsplit("/", 1)[1], "long-enough-pw", world.config)


def test_initial_passwords_are_limited_per_file(world):
    lines = ["username,name,password"] + [f"p{i:04d},用户{i},initial-pw-{i:04d}"
                                          for i in range(csv_import.MAX_NEW_PASSWORDS + 1)]
    with pytest.raises(InvalidInput) as err:
        csv_import.import_users(("\n".join(lines) + "\n").encode())
    assert [(r["row"], r["column"]) for r in err.value.details["rows"]] == [
        (csv_import.MAX_NEW_PASSWORDS + 2, "password")
    ]
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_cli_writes_the_links(runner, world, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("username,name\nqian.wei,钱伟\n", encoding="utf-8")
    result = runner.invoke(args=["import-users", str(path)])
    assert result.exit_code == 0 and "1 new user(s) without a password" in result.output
    out = tmp_path / "links.csv"
    result = runner.invoke(args=["set-password-links", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8").lstrip("\ufeff"))))
    assert rows[1][0] == "qian.wei" and "/set-password/" in rows[1][3]
