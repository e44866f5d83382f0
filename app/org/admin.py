"""School-admin pages for the organisation (art. 9(1)): colleges, departments, labs, closures,
QR re-issue and the CSV import. Every view asks the policy for Action.ADMIN_ORG."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.auth import services as auth_services
from app.auth.services import lab_officer_contacts, officer_counts
from app.db import write_lock_at_first_write
from app.errors import DomainError
from app.extensions import db
from app.policy import Action, authorize
from app.security import public_base_url
from app.spreadsheet import csv_text
from app.timeutil import school_today, utcnow
from app.validation_messages import localize

from . import closures, csv_import, risk, services
from .labels import CATEGORY_LABELS, HAZARD_LABELS, KIND_LABELS
from .models import HAZARD_TAGS, LabCategory
from .schemas import ClosureForm, CollegeForm, DepartmentForm, LabForm

bp = Blueprint("org_admin", __name__, url_prefix="/admin")

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def form_data(lists: tuple[str, ...] = ()) -> dict:
    """The posted form without empty values (so schema defaults apply) and with list fields."""
    data = {k: v for k, v in request.form.items() if k not in lists and v.strip() != ""}
    for name in lists:
        data[name] = request.form.getlist(name)
    return data


def field_errors(err: Exception) -> dict:
    if isinstance(err, ValidationError):
        messages = localize(err.messages)
        return {k: "; ".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in messages.items()}
    return dict(getattr(err, "details", {}).get("fields", {}))


def refused(err: Exception) -> tuple[str, int, dict]:
    """A refused form: roll back, and say why on the same page with the request's status."""
    db.session.rollback()
    if isinstance(err, ValidationError):
        return _("Some fields are missing or invalid."), 400, field_errors(err)
    return err.message, err.status, field_errors(err)


def _admin():
    authorize(current_user, Action.ADMIN_ORG)


@bp.get("/")
@login_required
def index():
    _admin()
    return render_template("admin/index.html")


# ---- colleges -------------------------------------------------------------------------------

@bp.route("/colleges", methods=["GET", "POST"])
@login_required
def colleges():
    _admin()
    error, status, fields, form = None, 200, {}, {}
    if request.method == "POST":
        form = request.form
        try:
            data = CollegeForm().load(form_data())
            college = services.save_college(None, **data)
            flash(_("Saved %(name)s.", name=college.name))
            return redirect(url_for(".colleges"))
        except (ValidationError, DomainError) as err:
            error, status, fields = refused(err)
    return render_template("admin/colleges.html", colleges=services.colleges(), kinds=KIND_LABELS,
                           error=error, fields=fields, form=form), status


@bp.route("/colleges/<int:college_id>", methods=["GET", "POST"])
@login_required
def college(college_id: int):
    _admin()
    college = services.get_college(college_id)
    error, status, fields = None, 200, {}
    if request.method == "POST":
        try:
            data = CollegeForm().load(form_data())
            services.save_college(college, **data)
            flash(_("Saved %(name)s.", name=college.name))
            return redirect(url_for(".colleges"))
        except (ValidationError, DomainError) as err:
            error, status, fields = refused(err)
            college = services.get_college(college_id)
    return render_template("admin/college_edit.html", college=college, kinds=KIND_LABELS,
                           error=error, fields=fields), status


# ---- departments ----------------------------------------------------------------------------

@bp.route("/departments", methods=["GET", "POST"])
@login_required
def departments():
    _admin()
    error, status, fields, form = None, 200, {}, {}
    if request.method == "POST":
        form = request.form
        try:
            dept = services.save_department(None, **DepartmentForm().load(form_data()))
            flash(_("Saved %(name)s.", name=dept.name))
            return redirect(url_for(".departments"))
        except (ValidationError, DomainError) as err:
            error, status, fields = refused(err)
    return render_template("admin/departments.html", departments=services.departments(),
                           error=error, fields=fields, form=form), status


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@login_required
def department(department_id: int):
    _admin()
    dept = services.get_department(department_id)
    error, status, fields = None, 200, {}
    if request.method == "POST":
        try:
            services.save_department(dept, **DepartmentForm().load(form_data()))
            flash(_("Saved %(name)s.", name=dept.name))
            return redirect(url_for(".departments"))
        except (ValidationError, DomainError) as err:
            error, status, fields = refused(err)
            dept = services.get_department(department_id)
    return render_template("admin/department_edit.html", dept=dept, error=error, fields=fields), status


# ---- labs -------------------------------------------------------------------------------------

def _lab_form_context(**extra):
    return dict(colleges=services.colleges(), categories=CATEGORY_LABELS, hazards=HAZARD_LABELS,
                hazard_tags=HAZARD_TAGS, LabCategory=LabCategory, **extra)


@bp.get("/labs")
@login_required
def labs():
    _admin()
    college_id = request.args.get("college", type=int)
    q = request.args.get("q", "").strip()
    risk_filter = request.args.get("risk", "").strip()
    if risk_filter and risk_filter not in services.RISK_FILTERS:
        risk_filter = ""  # an unknown value (an old bookmark) lists every lab, as "All" does
    rows = services.all_labs(college_id=college_id, search=q, risk_level=risk_filter or None)
    counts = officer_counts([lab.id for lab in rows]) if rows else {}
    return render_template("admin/labs.html", labs=rows, counts=counts, colleges=services.colleges(),
                           college_id=college_id, q=q, categories=CATEGORY_LABELS, risk=risk_filter,
                           risk_filters=risk.FILTER_LABELS.items())


@bp.route("/labs/new", methods=["GET", "POST"])
@login_required
def lab_new():
    _admin()
    error, status, fields = None, 200, {}
    form = {"active": True, "hazard_tags": []}
    if request.method == "POST":
        form = dict(request.form) | {"hazard_tags": request.form.getlist("hazard_tags"),
                                     "active": bool(request.form.get("active"))}
        try:
            data = LabForm().load(form_data(lists=("hazard_tags",)))
            officers = [u for u in data.pop("officers").replace("，", ",").replace(";", ",").split(",") if u.strip()]
            lab = services.create_lab(data, [u.strip() for u in officers])
            flash(_("Created lab %(code)s.", code=lab.code))
            return redirect(url_for(".lab", lab_id=lab.id))
        except (ValidationError, DomainError) as err:
            error, status, fields = refused(err)
    return render_template("admin/lab_form.html", lab=None, form=form,
                           **_lab_form_context(error=error, fields=fields)), status


@bp.route("/labs/<int:lab_id>", methods=["GET", "POST"])
@login_required
def lab(lab_id: int):
    _admin()
    lab = services.get_lab(lab_id)
    error, status, fields = None, 200, {}
    form = {f: getattr(lab, f) or "" for f in ("code", "name", "name_en", "building", "floor", "room", "phone")}
    form.update(college_id=lab.college_id, category=lab.category.value, hazard_tags=list(lab.hazard_tags or []),
                active=lab.active)
    if request.method == "POST":
        form = dict(request.form) | {"hazard_tags": request.form.getlist("hazard_tags"),
                                     "active": bool(request.form.get("active"))}
        try:
            data = LabForm().load(form_data(lists=("hazard_tags",)))
            data.pop("officers", None)
            services.update_lab(lab, data)
            flash(_("Saved %(code)s.", code=lab.code))
            return redirect(url_for(".lab", lab_id=lab.id))
        except (ValidationError, DomainError) as err:
            error, status, fields = refused(err)
            lab = services.get_lab(lab_id)
    return _render_lab(lab, form, error, fields, status)


def _render_lab(lab, form=None, error=None, fields=None, status=200):
    if form is None:
        form = {f: getattr(lab, f) or "" for f in ("code", "name", "name_en", "building", "floor", "room", "phone")}
        form.update(college_id=lab.college_id, category=lab.category.value,
                    hazard_tags=list(lab.hazard_tags or []), active=lab.active)
    return render_template("admin/lab_form.html", lab=lab, form=form, officers=lab_officer_contacts(lab.id),
                           qr_url=public_base_url() + url_for("org.lab_by_qr", token=lab.qr_token),
                           **_lab_form_context(error=error, fields=fields or {})), status


def _lab_action(lab_id: int, action, done_message):
    """POST actions on a lab: do it, or show the lab page with the refusal."""
    _admin()
    lab = services.get_lab(lab_id)
    try:
        action(lab)
    except (ValidationError, DomainError) as err:
        error, status, fields = refused(err)
        return _render_lab(services.get_lab(lab_id), error=error, fields=fields, status=status)
    flash(done_message)
    return redirect(url_for(".lab", lab_id=lab_id))


@bp.post("/labs/<int:lab_id>/officers")
@login_required
def lab_add_officer(lab_id: int):
    return _lab_action(lab_id, lambda lab: services.add_officer(lab, request.form.get("username", "")),
                       _("Safety officer added."))


@bp.post("/labs/<int:lab_id>/closures")
@login_required
def lab_add_closure(lab_id: int):
    def add(lab):
        data = ClosureForm().load(form_data())
        services.add_closure(lab, data["start_date"], data["end_date"], data["reason"])

    return _lab_action(lab_id, add, _("Closure added."))


@bp.post("/labs/<int:lab_id>/closures/<int:closure_id>/delete")
@login_required
def lab_remove_closure(lab_id: int, closure_id: int):
    # Never deleted (art. 30): reopened from today, recorded (closures.py).
    today = school_today(current_app.config["SCHOOL_TIMEZONE"])
    return _lab_action(lab_id, lambda lab: closures.reopen_lab_closure(
        lab, closure_id, on_day=today, by_user_id=current_user.id, now=utcnow()), _("Closure ended: open from today."))


@bp.post("/labs/<int:lab_id>/qr")
@login_required
def lab_reissue_qr(lab_id: int):
    return _lab_action(lab_id, lambda lab: services.reissue_qr_token(lab, current_user.id),
                       _("A new QR code was issued; the old code no longer works. Print a new nameplate."))


# ---- CSV import -------------------------------------------------------------------------------

@bp.get("/import")
@login_required
def import_page():
    _admin()
    return render_template("admin/import.html", lab_columns=csv_import.LAB_COLUMNS,
                           lab_optional=csv_import.LAB_OPTIONAL, user_columns=csv_import.USER_COLUMNS,
                           user_optional=csv_import.USER_OPTIONAL, hazard_tags=HAZARD_TAGS,
                           categories=CATEGORY_LABELS, hazards=HAZARD_LABELS, max_rows=csv_import.MAX_ROWS,
                           max_new_passwords=csv_import.MAX_NEW_PASSWORDS)


@bp.post("/import/<any(labs, users):kind>")
# Users' initial passwords (at most csv_import.MAX_NEW_PASSWORDS, ~130 ms each) are hashed before the first
# write; a username or lab code imported twice at once is settled by its unique key.
@write_lock_at_first_write
@login_required
def import_upload(kind: str):
    _admin()
    upload = request.files.get("file")
    report, error, errors, status = None, None, [], 200
    if upload is None or not upload.filename:
        error, status = _("Choose a CSV file to upload."), 400
    else:
        try:
            data = upload.read()
            report = csv_import.import_labs(data) if kind == "labs" else csv_import.import_users(data)
        except DomainError as err:
            db.session.rollback()
            error, status, errors = err.message, err.status, err.details.get("errors", [])
    return render_template("admin/import.html", kind=kind, report=report, error=error, errors=errors,
                           lab_columns=csv_import.LAB_COLUMNS, lab_optional=csv_import.LAB_OPTIONAL,
                           user_columns=csv_import.USER_COLUMNS, user_optional=csv_import.USER_OPTIONAL,
                           hazard_tags=HAZARD_TAGS, categories=CATEGORY_LABELS, hazards=HAZARD_LABELS,
                           max_rows=csv_import.MAX_ROWS, max_new_passwords=csv_import.MAX_NEW_PASSWORDS), status


@bp.get("/import/set-password-links.csv")
@login_required
def set_password_links():
    """Users imported without a password and the links they set one with (a CSV to hand out)."""
    _admin()
    base = public_base_url()  # never the Host header in production: the links are credentials
    rows = [[_("Username"), _("Name"), _("E-mail"), _("Set-password link")],
            *auth_services.set_password_links(current_app.config, base)]
    response = Response(csv_text(rows).encode("utf-8"), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=labsafe-set-password-links.csv"})
    response.headers["Cache-Control"] = "no-store"  # the links are credentials
    return response


@bp.get("/import/example/<any(labs, users):kind>.csv")
@login_required
def import_example(kind: str):
    _admin()
    path = EXAMPLES / f"{kind}.csv"
    if not path.is_file():
        abort(404)
    return Response(path.read_bytes(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=labsafe-{kind}-example.csv"})
