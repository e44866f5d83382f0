"""The staff number (工号, users.staff_no) the campus login finds users by: unique, set by the user
import (a staff_no column) and the admin's user forms."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import Role, User
from app.errors import InvalidInput
from app.extensions import db
from app.org import csv_import
from tests.factories import login, make_user


def test_the_user_import_sets_staff_numbers_and_refuses_duplicates(app):
    report = csv_import.import_users(
        "username,name,staff_no\nwang.fang,王芳,20190001\nli.lei,李雷,\n".encode())
    assert report.created == ["wang.fang", "li.lei"]
    assert db.session.scalar(select(User.staff_no).where(User.username == "wang.fang")) == "20190001"
    # A file without the column leaves the numbers as they are.
    csv_import.import_users(b"username,name\nwang.fang,\xe7\x8e\x8b\xe8\x8a\xb3\n")
    assert db.session.scalar(select(User.staff_no).where(User.username == "wang.fang")) == "20190001"
    for data in ("username,name,staff_no\nli.lei,李雷,20190001\n",  # another user's
                 "username,name,staff_no\na.b,甲,X1\nc.d,乙,X1\n"):  # twice in the file
        with pytest.raises(InvalidInput) as err:
            csv_import.import_users(data.encode())
        db.session.rollback()
        assert any(e["column"] == "staff_no" for e in err.value.details["rows"]), err.value.details
    assert db.session.scalar(select(User.staff_no).where(User.username == "li.lei")) is None


def test_the_admin_sets_a_staff_number_and_it_stays_unique(client):
    login(client, make_user(Role.school_admin))
    user, other = make_user(Role.inspector), make_user(Role.inspector)
    resp = client.post(f"/admin/users/{user.id}", data={"name": user.name, "staff_no": " 20190001 "})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).staff_no == "20190001"
    resp = client.post(f"/admin/users/{other.id}", data={"name": other.name, "staff_no": "20190001"})
    assert resp.status_code == 409
    resp = client.post("/admin/users/new", data={"username": "zhao.min", "name": "赵敏", "password": "long-enough-pw",
                                                 "staff_no": "20190002"})
    assert resp.status_code == 302
    assert db.session.scalar(select(User.staff_no).where(User.username == "zhao.min")) == "20190002"
