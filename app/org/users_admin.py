"""School-admin pages for users and their roles with scope (art. 9(1), 10)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.auth import services as auth_services
from app.auth.labels import ROLE_LABELS
from app.auth.schemas import PasswordForm, RoleGrantForm, UserCreateForm, UserEditForm
from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.policy import Action, Role, authorize

from . import services
from .admin import form_data, refused
from .models import Lab

# The endpoints keep their name (auth_admin.*): the admin templates link to them.
bp = Blueprint("auth_admin", __name__, url_prefix="/admin/users")


def _admin():
    authorize(current_user, Action.ADMIN_ORG)


def scope_names() -> dict:
    """Names to show a role's scope: college / lab / department by id (one query each)."""
    return {
        "colleges": {c.id: c for c in services.colleges()},
        "departments": {d.id: d for d in services.departments()},
    }


@bp.get("")
@login_required
def users():
    _admin()
    q = request.args.get("q", "").strip()
    return render_template("admin/users.html", users=auth_services.list_users(q), q=q, roles=ROLE_LABELS,
                           **scope_names())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def user_new():
    _admin()
    error, status, fields, form = None, 200, {}, {}
    if request.method == "POST":
        form = request.form
        try:
            data = UserCreateForm().load(form_data())
            user = auth_services.create_user(data["username"], data["name"], data["password"],
                                        email=data["email"], phone=data["phone"], staff_no=data["staff_no"],
                                             wecom_userid=data["wecom_userid"],
                                             dingtalk_userid=data["dingtalk_userid"])

            db.session.commit()
            flash(_("Created user %(username)s. Now give them a role.", username=user.username))
            return redirect(url_for(".user", user_id=user.id))
        except (ValidationError, DomainError) as err:
            error, status, fields = refused(err)
    return render_template("admin/user_new.html", form=form, error=error, fields=fields), status


def _render_user(user, error=None, fields=None, status=200):
    lab_ids = [r.lab_id for r in user.roles if r.lab_id]
    labs = {lab.id: lab for lab in db.session.scalars(db.select(Lab).where(Lab.id.in_(lab_ids)))} if lab_ids else {}
    return render_template("admin/user_edit.html", user=user, error=error, fields=fields or {},
                           roles=ROLE_LABELS, Role=Role, labs=labs, **scope_names()), status


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@login_required
def user(user_id: int):
    _admin()
    user = auth_services.get_user(user_id)
    if request.method == "POST":
        try:
            data = UserEditForm().load(form_data())
            auth_services.update_user(user, **data)
            flash(_("Saved %(username)s.", username=user.username))
            return redirect(url_for(".user", user_id=user.id))
        except (ValidationError, DomainError) as err:
            error, status, fields = refused(err)
            return _render_user(auth_services.get_user(user_id), error, fields, status)
    return _render_user(user)


def _user_action(user_id: int, action, done_message):
    _admin()
    user = auth_services.get_user(user_id)
    try:
        action(user)
    except (ValidationError, DomainError) as err:
        error, status, fields = refused(err)
        return _render_user(auth_services.get_user(user_id), error, fields, status)
    flash(done_message)
    return redirect(url_for(".user", user_id=user_id))


@bp.post("/<int:user_id>/active")
@login_required
def user_active(user_id: int):
    active = request.form.get("active") == "1"
    return _user_action(
        user_id,
        lambda u: auth_services.set_user_active(u, active, by_user=current_user._get_current_object()),
        _("The account is active again.") if active else _("The account is deactivated; its sessions ended."),
    )


@bp.post("/<int:user_id>/password")
@login_required
def user_password(user_id: int):
    def reset(u):
        auth_services.reset_password(u, PasswordForm().load(form_data())["password"])

    return _user_action(user_id, reset, _("The password was reset; the user's sessions ended."))


@bp.post("/<int:user_id>/roles")
@login_required
def user_grant_role(user_id: int):
    def grant(u):
        data = RoleGrantForm().load(form_data())
        lab_id = None
        if data["role"] == Role.lab_officer:
            lab = services.find_lab_by_code(data["lab_code"])
            if lab is None:
                raise InvalidInput(_("Enter the code of an existing lab."), {"fields": {"lab_code": "unknown"}})
            lab_id = lab.id
        college_id = data["college_id"]
        if data["role"] == Role.inspector and not college_id:
            college_id = None  # a school inspector (all labs)
        auth_services.grant_role(u, data["role"], college_id=college_id, lab_id=lab_id,
                            department_id=data["department_id"])
        db.session.commit()

    return _user_action(user_id, grant, _("Role granted."))


@bp.post("/<int:user_id>/roles/<int:assignment_id>/revoke")
@login_required
def user_revoke_role(user_id: int, assignment_id: int):
    return _user_action(
        user_id,
        lambda u: auth_services.revoke_role(u, assignment_id, by_user=current_user._get_current_object()),
        _("Role revoked."),
    )
