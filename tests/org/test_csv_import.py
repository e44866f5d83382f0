"""CSV import: good files upsert, the same file twice changes nothing, bad files change nothing."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.auth.models import RoleAssignment, User
from app.auth.services import lab_officers
from app.errors import InvalidInput
from app.extensions import db
from app.org import csv_import
from app.org.models import Lab
from tests.factories import login, make_college, make_user

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

HEADER = "code,name,college,category,building,floor,room,phone,hazard_tags,officers,active\n"


def _counts():
    return (
        db.session.scalar(select(func.count(Lab.id))),
        db.session.scalar(select(func.count(User.id))),
        db.session.scalar(select(func.count(RoleAssignment.id))),
    )


def _refused(data: bytes, kind="labs") -> list[dict]:
    before = _counts()
    with pytest.raises(InvalidInput) as err:
        (csv_import.import_labs if kind == "labs" else csv_import.import_users)(data)
    db.session.rollback()
    assert _counts() == before, "a refused file wrote something"
    assert err.value.details["errors"], "no row-numbered errors"
    return err.value.details["rows"]


@pytest.fixture
def world(app):
    make_college(code="CHEM", name="化学与材料工程学院")
    make_college(code="LIFE", name="生命科学学院")
    make_user(username="wang.fang")
    make_user(username="li.qiang")
    return app


def test_example_files_import_and_reimport_changes_nothing(app):
    make_college(code="CHEM")
    make_college(code="LIFE")
    from app.org.models import Department
    db.session.add(Department(code="security", name="保卫处"))
    db.session.commit()
    users = (EXAMPLES / "users.csv").read_bytes()
    labs = (EXAMPLES / "labs.csv").read_bytes()
    assert users.startswith(b"\xef\xbb\xbf")  # as Excel writes "CSV UTF-8"
    r1 = csv_import.import_users(users)
    r2 = csv_import.import_labs(labs)
    assert (len(r1.created), len(r2.created)) == (6, 3)
    lab = db.session.scalar(select(Lab).where(Lab.code == "LIFE-201"))
    assert lab.category.value == "biology"  # 生物
    assert lab.hazard_tags == ["pathogens", "special_equipment"]  # 病原微生物;特种设备
    assert {u.username for u in lab_officers(db.session.scalar(select(Lab.id).where(Lab.code == "CHEM-201")))} == {
        "wang.fang", "li.qiang"}
    before = _counts()
    again_users = csv_import.import_users(users)
    again_labs = csv_import.import_labs(labs)
    assert (again_users.created, again_users.updated, len(again_users.unchanged)) == ([], [], 6)
    assert (again_labs.created, again_labs.updated, len(again_labs.unchanged)) == ([], [], 3)
    assert _counts() == before


def test_without_bom_and_updates(world):
    data = (HEADER + "C-1,实验室一,CHEM,chemistry,化学楼,1,101,0572-1,hazardous_chemicals,wang.fang,1\n").encode()
    assert csv_import.import_labs(data).created == ["C-1"]
    changed = data.replace(b"0572-1", b"0572-2").replace(b"wang.fang", b"li.qiang")
    report = csv_import.import_labs(changed)
    assert report.updated == ["C-1"]
    lab = db.session.scalar(select(Lab).where(Lab.code == "C-1"))
    assert lab.phone == "0572-2"
    assert [u.username for u in lab_officers(lab.id)] == ["li.qiang"]  # the officers column is the whole list


def test_missing_column_is_refused(world):
    rows = _refused(b"code,name,college,category,phone\nC-1,x,CHEM,chemistry,1\n")
    assert {"row": 1, "column": "officers"} == {k: rows[0][k] for k in ("row", "column")}


def test_unknown_column_is_refused(world):
    rows = _refused((HEADER.strip() + ",buiding\n").encode() + b"C-1,x,CHEM,chemistry,,,,1,,wang.fang,1,y\n")
    assert rows[0]["row"] == 1 and rows[0]["column"] == "buiding"


def test_unknown_college_is_refused_whole(world):
    data = (HEADER
            + "C-1,good,CHEM,chemistry,,,,0572-1,,wang.fang,1\n"
            + "C-2,bad,NOPE,chemistry,,,,0572-1,,wang.fang,1\n").encode()
    rows = _refused(data)
    assert [(r["row"], r["column"]) for r in rows] == [(3, "college")]
    assert "NOPE" in rows[0]["message"]


def test_bad_category_and_hazard_tag_are_refused(world):
    data = (HEADER
            + "C-1,x,CHEM,alchemy,,,,0572-1,,wang.fang,1\n"
            + "C-2,y,CHEM,chemistry,,,,0572-1,hazardous_chemicals;dragons,wang.fang,1\n").encode()
    rows = _refused(data)
    assert [(r["row"], r["column"]) for r in rows] == [(2, "category"), (3, "hazard_tags")]
    assert "dragons" in rows[1]["message"]


def test_duplicate_code_in_the_file_is_refused(world):
    data = (HEADER
            + "C-1,x,CHEM,chemistry,,,,0572-1,,wang.fang,1\n"
            + "C-1,y,CHEM,chemistry,,,,0572-1,,wang.fang,1\n").encode()
    rows = _refused(data)
    assert rows[0]["row"] == 3 and rows[0]["column"] == "code" and "2" in rows[0]["message"]


def test_lab_without_officer_or_unknown_officer_is_refused(world):
    data = (HEADER
            + "C-1,x,CHEM,chemistry,,,,0572-1,,,1\n"
            + "C-2,y,CHEM,chemistry,,,,0572-1,,ghost,1\n").encode()
    rows = _refused(data)
    assert [(r["row"], r["column"]) for r in rows] == [(2, "officers"), (3, "officers")]


def test_malformed_encoding_is_refused_with_its_row(world):
    good = (HEADER + "C-1,x,CHEM,chemistry,,,,0572-1,,wang.fang,1\n").encode()
    gbk = "C-2,有机化学实验室,CHEM,chemistry,,,,0572-1,,wang.fang,1\n".encode("gbk")
    rows = _refused(good + gbk)
    assert rows[0]["row"] == 3 and "UTF-8" in rows[0]["message"]


def test_empty_and_header_only_files_are_refused(world):
    _refused(b"")
    _refused(HEADER.encode())


def test_users_import_refuses_bad_rows_whole(world):
    data = ("username,name,password,roles\n"
            "new.one,新用户,long-enough-pw,inspector:CHEM\n"
            "bad name,空格,long-enough-pw,\n"
            "new.two,,short,\n"
            "new.three,三,long-enough-pw,college_leader:NOPE;wizard\n"
            "NEW.ONE,重复,long-enough-pw,\n").encode()
    rows = _refused(data, kind="users")
    assert [(r["row"], r["column"]) for r in rows] == [
        (3, "username"), (4, "name"), (4, "password"), (5, "roles"), (5, "roles"), (6, "username")]


def test_users_import_adds_roles_and_reimport_is_unchanged(world):
    data = ("username,name,email,password,roles\n"
            "zhao.min,赵敏,zhao@example.edu.cn,long-enough-pw,inspector:CHEM;college_leader:CHEM\n"
            "sun.li,孙丽,,long-enough-pw,inspector\n").encode()
    assert csv_import.import_users(data).created == ["zhao.min", "sun.li"]
    user = db.session.scalar(select(User).where(User.username == "zhao.min"))
    assert sorted(r.role.value for r in user.roles) == ["college_leader", "inspector"]
    assert user.check_password("long-enough-pw")
    again = csv_import.import_users(data)
    assert (again.created, again.updated, again.unchanged) == ([], [], ["zhao.min", "sun.li"])


def test_admin_upload_page_imports_and_refuses(client, world):
    login(client, make_user("school_admin"))
    good = (HEADER + "C-1,x,CHEM,chemistry,,,,0572-1,,wang.fang,1\n").encode("utf-8-sig")
    import io
    resp = client.post("/admin/import/labs?lang=en", data={"file": (io.BytesIO(good), "labs.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200 and "1 created, 0 updated, 0 unchanged" in resp.get_data(as_text=True)
    bad = (HEADER + "C-9,x,NOPE,chemistry,,,,0572-1,,wang.fang,1\n").encode()
    resp = client.post("/admin/import/labs?lang=en", data={"file": (io.BytesIO(bad), "labs.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "Row 2, column college" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Lab.id).where(Lab.code == "C-9")) is None


def test_cli_import(runner, world, tmp_path):
    path = tmp_path / "labs.csv"
    path.write_bytes((HEADER + "C-1,x,CHEM,chemistry,,,,0572-1,,wang.fang,1\n").encode("utf-8-sig"))
    result = runner.invoke(args=["import-labs", str(path)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(Lab.id))) == 1
    result = runner.invoke(args=["import-labs", str(path)])
    assert result.exit_code == 0 and "C-1" not in result.output  # nothing created or updated
    assert db.session.scalar(select(func.count(Lab.id))) == 1
    path.write_bytes((HEADER + "C-2,x,NOPE,chemistry,,,,0572-1,,wang.fang,1\n").encode())
    result = runner.invoke(args=["import-labs", str(path)])
    assert result.exit_code == 1
    assert "NOPE" in result.output
    assert db.session.scalar(select(Lab.id).where(Lab.code == "C-2")) is None


def test_broken_quoting_is_refused_with_its_row(world):
    data = (
        HEADER + "C-1,x,CHEM,chemistry,,,,0572-1,,wang.fang,1\n" + 'C-2,"bad"quote,CHEM,chemistry,,,,1,,wang.fang,1\n'
    ).encode()
    rows = _refused(data)
    assert rows[0]["row"] == 3


def test_an_import_that_loses_a_race_is_409_and_writes_nothing(client, world, monkeypatch):
    """The import hashes the new users' passwords after its reads and before its first write, without
    SQLite's write lock (the view takes it at its first write): a user created by someone else in that
    time stops the import by its unique username, with a 409 and nothing of the file written."""
    import io

    from sqlalchemy import create_engine, insert

    from app.auth import models as auth_models

    login(client, make_user("school_admin"))
    data = "username,name,password,roles\nrace.one,甲,long-enough-pw,inspector:CHEM\nrace.two,乙,long-enough-pw,\n"
    real_hash, done = auth_models.hash_password, []

    def hash_meanwhile(password):
        if not done:  # another admin creates race.two now, on a connection of its own
            done.append(True)
            url = world.config["SQLALCHEMY_DATABASE_URI"]
            other = create_engine(url)
            with other.begin() as conn:
                conn.execute(insert(User).values(username="race.two", name="别人", password_hash="x"))
            other.dispose()
        return real_hash(password)

    monkeypatch.setattr(auth_models, "hash_password", hash_meanwhile)
    before = _counts()
    resp = client.post("/admin/import/users?lang=en", data={"file": (io.BytesIO(data.encode()), "users.csv")},
                       content_type="multipart/form-data")
    assert done and resp.status_code == 409, resp.get_data(as_text=True)[:500]
    assert "nothing was imported" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert _counts() == (before[0], before[1] + 1, before[2])  # only the other admin's user
    assert db.session.scalar(select(User.id).where(User.username == "race.one")) is None


def test_nul_and_control_characters_are_refused_with_row_and_column(world):
    """PostgreSQL refuses a NUL in text (a 500 before); SQLite stored it silently."""
    data = (HEADER
            + "C-1,x,CHEM,chemistry,,,,0572-1,,wang.fang,1\n"
            + "C-2,有机\x00化学,CHEM,chemistry,,,,0572-1,,wang.fang,1\n"
            + "C-3,y,CHEM,chemistry,,,,0572\x07-1,,wang.fang,1\n"
            + 'C-4,"two\nlines",CHEM,chemistry,,,,0572-1,,wang.fang,1\n').encode()
    rows = _refused(data)
    assert [(r["row"], r["column"]) for r in rows] == [(3, "name"), (4, "phone"), (5, "name")]
    assert "U+0000" in rows[0]["message"]
    rows = _refused(("username,name,password\n"
                     "new.one,新\x00用户,long-enough-pw\n").encode(), kind="users")
    assert [(r["row"], r["column"]) for r in rows] == [(2, "name")]


def test_line_breaks_separate_the_items_of_a_list_column(world):
    """Alt+Enter in an Excel cell: the officers on two lines are two officers."""
    data = (HEADER + 'C-1,x,CHEM,chemistry,,,,0572-1,,"wang.fang\nli.qiang",1\n').encode()
    assert csv_import.import_labs(data).created == ["C-1"]
    lab_id = db.session.scalar(select(Lab.id).where(Lab.code == "C-1"))
    assert {u.username for u in lab_officers(lab_id)} == {"wang.fang", "li.qiang"}


def test_a_nul_byte_upload_is_a_400_not_a_500(client, world):
    import io
    login(client, make_user("school_admin"))
    bad = (HEADER + "C-1,有机\x00化学,CHEM,chemistry,,,,0572-1,,wang.fang,1\n").encode()
    resp = client.post("/admin/import/labs?lang=en", data={"file": (io.BytesIO(bad), "labs.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "Row 2, column name" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Lab.id).where(Lab.code == "C-1")) is None
