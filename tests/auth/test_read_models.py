"""The signed-in user's read models (Principal, RoleGrant) read like User and RoleAssignment."""
from __future__ import annotations

import typing

from sqlalchemy import inspect

from app.auth.models import Principal, RoleAssignment, RoleGrant, User
from tests.read_models import assert_reads_like, read_model_fields


def test_principal_reads_like_user():
    checked = assert_reads_like(Principal, User, except_fields=("roles",))
    assert checked == ["id", "username", "name", "email", "phone", "locale", "active", "session_version"]
    # Every field is a slot: nothing else can be set on it.
    assert set(read_model_fields(Principal)) <= set(Principal.__slots__)
    # roles is User.roles, each a RoleGrant for a RoleAssignment.
    assert inspect(User).relationships["roles"].mapper.class_ is RoleAssignment
    assert typing.get_args(read_model_fields(Principal)["roles"]) == (RoleGrant, Ellipsis)


def test_role_grant_reads_like_role_assignment():
    assert assert_reads_like(RoleGrant, RoleAssignment) == ["role", "college_id", "lab_id", "department_id"]
