"""The admin sets a user's WeCom and DingTalk ids (issue 25): the users CSV import's wecom_userid and
dingtalk_userid columns (checked with the whole file) and the admin's user pages."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import Role, User
from app.errors import InvalidInput
from app.extensions import db
from app.org import csv_import
from tests.factories import login, make_user


def _ids(username: str):
    db.session.expire_all()
    return db.session.execute(select(User.wecom_userid, User.dingtalk_userid)
                              .where(User.username == username)).one()


def test_the_user_import_sets_messenger_ids(app):
    report = csv_import.import_users(
        "username,name,wecom_userid,dingtalk_userid\nwang.fang,王芳,WangFang,0123456789\nli.lei,李雷,,\n".encode())
    assert report.created == ["wang.fang", "li.lei"]
    assert tuple(_ids("wang.fang")) == ("WangFang", "0123456789") and tuple(_ids("li.lei")) == (None, None)
    # The same file again changes nothing; a file without the columns leaves the ids as they are.
    again = csv_import.import_users(
        "username,name,wecom_userid,dingtalk_userid\nwang.fang,王芳,WangFang,0123456789\nli.lei,李雷,,\n".encode())
    assert again.unchanged == ["wang.fang", "li.lei"]
    csv_import.import_users("username,name\nwang.fang,王芳\n".encode())
    assert tuple(_ids("wang.fang")) == ("WangFang", "0123456789")
    # One column only: the other stays; an empty cell clears.
    report = csv_import.import_users("username,name,dingtalk_userid\nwang.fang,王芳,\n".encode())
    assert report.updated == ["wang.fang"] and tuple(_ids("wang.fang")) == ("WangFang", None)


@pytest.mark.parametrize("cell,column", [("a b", "wecom_userid"), ("x" * 65, "wecom_userid"),
                                         ("张三", "dingtalk_userid"), ("a;b", "dingtalk_userid")])
def test_a_bad_id_refuses_the_whole_file(app, cell, column):
    make_user(username="kept.user")
    data = f"username,name,{column}\nnew.user,新用户,good.id\nkept.user,旧用户,{cell}\n".encode()
    with pytest.raises(InvalidInput) as err:
        csv_import.import_users(data)
    db.session.rollback()
    assert [(e["row"], e["column"]) for e in err.value.details["rows"]] == [(3, column)]
    assert db.session.scalar(select(User.id).where(User.username == "new.user")) is None
    assert tuple(_ids("kept.user")) == (None, None)


def test_the_admin_sets_and_clears_a_users_ids(client):
    login(client, make_user(Role.school_admin))
    user = make_user(Role.inspector)
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert 'name="wecom_userid"' in page and 'name="dingtalk_userid"' in page
    resp = client.post(f"/admin/users/{user.id}", data={"name": user.name, "wecom_userid": " zhang.san ",
                                                        "dingtalk_userid": "manager4711"})
    assert resp.status_code == 302
    assert tuple(_ids(user.username)) == ("zhang.san", "manager4711")
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert 'value="zhang.san"' in page and 'value="manager4711"' in page
    # Bad ids: a 400 page naming the field, nothing saved.
    for field, value in (("wecom_userid", "a b"), ("dingtalk_userid", "x" * 65)):
        resp = client.post(f"/admin/users/{user.id}", data={"name": "改名", field: value})
        assert resp.status_code == 400, resp.status_code
        assert tuple(_ids(user.username)) == ("zhang.san", "manager4711")
    client.post(f"/admin/users/{user.id}", data={"name": user.name, "wecom_userid": "", "dingtalk_userid": ""})
    assert tuple(_ids(user.username)) == (None, None)


def test_the_admin_creates_a_user_with_ids(client):
    login(client, make_user(Role.school_admin))
    assert 'name="dingtalk_userid"' in client.get("/admin/users/new").get_data(as_text=True)
    resp = client.post("/admin/users/new", data={"username": "zhao.min", "name": "赵敏", "password": "long-enough-pw",
                                                 "wecom_userid": "ZhaoMin", "dingtalk_userid": "dt-zhao"})
    assert resp.status_code == 302
    assert tuple(_ids("zhao.min")) == ("ZhaoMin", "dt-zhao")
    resp = client.post("/admin/users/new", data={"username": "qian.li", "name": "钱力", "password": "long-enough-pw",
                                                 "wecom_userid": "<script>"})
    assert resp.status_code == 400 and db.session.scalar(select(User.id).where(User.username == "qian.li")) is None
