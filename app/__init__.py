"""LabSafe application factory."""
from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, g, has_request_context, request

from config import CONFIGS, Config, load_dev_secret

from . import validation_messages

validation_messages.install()  # before any schema is defined: fields copy their messages when built

# The composition root: create_app wires every domain, so it imports them at the top; nothing
# inside the app imports this package (the import contract in pyproject.toml).
from flask import current_app, redirect, url_for  # noqa: E402
from flask_babel import get_locale  # noqa: E402
from flask_babel import gettext as _  # noqa: E402
from flask_login import current_user  # noqa: E402
from flask_wtf.csrf import generate_csrf  # noqa: E402

from . import (  # noqa: E402
    models,  # noqa: E402,F401  (register every table on the metadata)
    policy,
    semesters,
)
from .accidents.services import labs_of_accident_photo, reporters_of_accident_photo  # noqa: E402
from .auth.language import LANG_COOKIE  # noqa: E402
from .auth.services import load_user_from_session_id, use_org_rules  # noqa: E402
from .db import transactions  # noqa: E402
from .documents.issuing import attachment_of  # noqa: E402
from .errors import error_response, register_error_handlers, wants_json  # noqa: E402
from .extensions import babel, csrf, db, login_manager, migrate, rate_limits  # noqa: E402
from .hazards.services import labs_of_report_photo, reporters_of_photo  # noqa: E402
from .inspections.services import (  # noqa: E402
    answer_photo_uuids,
    check_rounds_with,
    inspectors_of_answer_photo,
    labs_of_answer_photo,
)
from .jsonio import OrjsonProvider  # noqa: E402
from .jsonio import init_app as init_json_bodies  # noqa: E402
from .language import locale_object  # noqa: E402
from .monitoring import setup as monitoring  # noqa: E402
from .notifications.services import read_attachments_with, read_ticket_facts_from  # noqa: E402
from .org.designees import designated_lab_ids  # noqa: E402
from .org.services import check_role_scope, lab_and_college, labs_left_without_officer  # noqa: E402
from .photos.services import attach_with  # noqa: E402
from .rounds.services import check_submit_round  # noqa: E402
from .security import BoundedIntConverter, init_security  # noqa: E402
from .tickets.escalation import TICKET_FACTS  # noqa: E402
from .tickets.events import actors_of_event_photo, labs_of_event_photo, read_evidence_with  # noqa: E402
from .timeutil import school_today  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# Each domain package exposes `bp` in views.py (pages) and/or api.py (JSON under /api).
BLUEPRINT_MODULES = [
    "app.apidoc",
    "app.auth.views",
    "app.auth.api",
    "app.auth.sso_views",
    "app.org.views",
    "app.org.api",
    "app.org.admin",
    "app.org.users_admin",
    "app.org.closures_api",
    "app.org.closures_views",
    "app.checklists.views",
    "app.checklists.api",
    "app.inspections.views",
    "app.inspections.api",
    "app.rounds.api",
    "app.rounds.views",
    "app.rounds.rules_api",
    "app.rounds.rules_views",
    "app.photos.views",
    "app.photos.api",
    "app.tickets.views",
    "app.tickets.api",
    "app.notifications.views",
    "app.notifications.api",
    "app.notifications.admin",
    "app.reports.views",
    "app.reports.api",
    "app.documents.views",
    "app.documents.api",
    "app.pwa.views",
    "app.pwa.api",
    "app.hazards.api",
    "app.hazards.views",
    "app.monitoring.views",
    "app.roster.api",
    "app.roster.views",
    "app.accidents.api",
    "app.accidents.views",
    "app.documents.accident_views",
]

# Each domain's cli.py exposes register(app).
CLI_MODULES = [
    "app.org.cli",
    "app.checklists.cli",
    "app.inspections.cli",
    "app.rounds.cli",
    "app.jobs.cli",
    "app.reports.cli",
    "app.documents.cli",
    "app.ops.cli",
    "app.photos.cli",
    "app.demo.cli",
]


def _import_optional(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:  # the module does not exist yet; anything else is a real error
            return None
        raise


def create_app(config: str | type[Config] | None = None, **overrides) -> Flask:
    if config is None:
        config = os.environ.get("LABSAFE_CONFIG", "development")
    config_cls = CONFIGS[config] if isinstance(config, str) else config

    app = Flask(
        __name__,
        instance_path=str(overrides.get("INSTANCE_PATH", config_cls.INSTANCE_PATH)),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(config_cls)
    app.json = OrjsonProvider(app)
    app.url_map.converters["int"] = BoundedIntConverter  # ids beyond 32 bits: 404, not 500
    app.config.update(overrides)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)

    if not app.config.get("SECRET_KEY"):
        if config_cls.ENV_NAME == "production":
            raise RuntimeError("SECRET_KEY must be set in production (an environment variable).")
        app.config["SECRET_KEY"] = load_dev_secret(instance)
    if config_cls.ENV_NAME == "production":
        _check_production_settings(app.config)

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'labsafe.sqlite3'}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql://") or uri.startswith("postgres://"):
        # psycopg 3 is the PostgreSQL driver.
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri.split("://", 1)[1]
    if not app.config.get("PHOTO_STORE"):
        app.config["PHOTO_STORE"] = str(instance / "photos")
    if str(app.config["PHOTO_STORE"]).startswith("s3://") and not app.config.get("PHOTO_UPLOAD_STAGING"):
        app.config["PHOTO_UPLOAD_STAGING"] = str(instance / "photo-uploads")  # parts in flight stay local

    semesters.configured(app.config)  # a LABSAFE_SEMESTERS that cannot be read stops the start, saying why
    _init_extensions(app)
    policy.locate_with(lab_and_college)  # org places labs and colleges; the policy judges
    # Art. 29: org keeps who is designated to do a lab's daily check today.
    policy.designees_with(lambda user_id, on_day=None: designated_lab_ids(
        user_id, on_day or school_today(app.config["SCHOOL_TIMEZONE"])))
    read_ticket_facts_from(TICKET_FACTS)  # tickets title their notices; notifications reads them with the inbox
    read_attachments_with(attachment_of)  # issued documents ride with the outbox's e-mails as PDFs
    read_evidence_with(answer_photo_uuids)  # a ticket's before-photos are its inspection's
    use_org_rules(check_scope=check_role_scope, labs_left_without_officer=labs_left_without_officer)
    # Inspections and tickets attach photos: they tell photos which labs a photo is evidence for.
    attach_with("inspections", labs_of_answer_photo, inspectors_of_answer_photo)
    attach_with("tickets", labs_of_event_photo, actors_of_event_photo)
    attach_with("hazards", labs_of_report_photo, reporters_of_photo)  # hazard reports' photos (issue 24)
    attach_with("accidents", labs_of_accident_photo, reporters_of_accident_photo)  # scene photos (art. 31)
    check_rounds_with(check_submit_round)  # a submit's round_id is the rounds domain's to check
    transactions.init_app(app)
    _register_blueprints(app)
    _register_cli(app)

    register_error_handlers(app)
    _register_request_hooks(app)
    monitoring.init_app(app)  # request ids, metrics, JSON logs (its middleware inside ProxyFix: real addresses)
    init_security(app)  # headers, session timeouts, throttle errors, audit
    init_json_bodies(app)  # JSON bodies bounded before anything reads them (after init_security: first hook)
    logging.basicConfig(level=logging.INFO)
    return app


def _check_production_settings(config) -> None:
    """Refuse to start production on settings that would be silently unsafe, saying what to set."""
    if len(config["SECRET_KEY"]) < 32:
        raise RuntimeError("SECRET_KEY is too short for production: use at least 32 random characters.")
    base = urlsplit(config.get("PUBLIC_BASE_URL") or "")
    if base.scheme not in ("http", "https") or not base.hostname:
        # Without it the nameplates' QR codes would print whatever Host header a request carried.
        raise RuntimeError(
            "LABSAFE_PUBLIC_BASE_URL must be set in production to the public address printed in the "
            "nameplates' QR codes, e.g. LABSAFE_PUBLIC_BASE_URL=https://labsafe.example.edu.cn "
            f"(got {config.get('PUBLIC_BASE_URL')!r})."
        )
    storage = (config.get("RATELIMIT_STORAGE_URI") or "memory://").lower()
    limited = config.get("API_RATE_LIMIT") and config.get("RATELIMIT_ENABLED", True)
    if limited and storage.startswith("memory://") and not config.get("SINGLE_PROCESS"):
        # Each gunicorn worker would count on its own: n workers let through n times the limit.
        raise RuntimeError(
            "LABSAFE_RATELIMIT_STORAGE_URI is memory://, so each worker process would count the API rate "
            "limit on its own (n workers let through n times the limit). Set "
            "LABSAFE_RATELIMIT_STORAGE_URI=redis://<host>:6379/0 so every worker shares one count, or, "
            "if the app runs as one process only (gunicorn --workers 1), set LABSAFE_SINGLE_PROCESS=1."
        )


def _translation_dirs() -> str:
    dirs = [str(ROOT / "app" / "translations")]
    for sub in sorted((ROOT / "app").iterdir()):
        if (sub / "translations").is_dir():
            dirs.append(str(sub / "translations"))
    return ";".join(dict.fromkeys(dirs))


def _select_locale() -> str:
    """``?lang=`` for this request, the user's choice, the device's (cookie), the browser's, zh_CN.

    See app/auth/language.py: the choice is kept per user and per device."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and jobs: the school's default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in languages:
        return chosen
    # Chinese first: the browser's languages only decide when they name one we have.
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _selected_locale_object():
    return locale_object(_select_locale())


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = _translation_dirs()
    babel.init_app(app, locale_selector=_selected_locale_object)
    rate_limits.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    login_manager.user_loader(load_user_from_session_id)

    @login_manager.unauthorized_handler
    def _unauthorized():
        if wants_json():
            return error_response(401, "unauthorized", _("Please log in first."))
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _register_blueprints(app: Flask) -> None:
    for name in BLUEPRINT_MODULES:
        module = _import_optional(name)
        if module is not None and hasattr(module, "bp"):
            app.register_blueprint(module.bp)


def _register_cli(app: Flask) -> None:
    for name in CLI_MODULES:
        module = _import_optional(name)
        if module is not None and hasattr(module, "register"):
            module.register(app)


def _register_request_hooks(app: Flask) -> None:
    @app.context_processor
    def _template_globals():
        return {
            "may": lambda action, obj=None: policy.may(current_user, action, obj),
            "Action": policy.Action,
            "current_locale": str(get_locale()),
            "csrf_token": generate_csrf,
        }

    @app.before_request
    def _remember_request_start():
        g.labsafe_user_checked = False
