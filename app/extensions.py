"""Extensions are created here and bound to the app in create_app()."""
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class ApiRateLimits:
    """Counters for the general API rate limit in the `limits` library's storage: in memory,
    or Redis (RATELIMIT_STORAGE_URI) so every worker shares them. The login throttle is separate
    (app/auth/throttle.py, in the database).

    Flask-Limiter served only as this storage's holder; its own hooks ran on every request (~65 us
    evaluating decorator limits that nothing here declares), so the app keeps the storage itself.
    """

    def init_app(self, app) -> None:
        from limits.storage import storage_from_string
        from limits.strategies import FixedWindowRateLimiter

        storage = storage_from_string(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
        app.extensions["labsafe_api_rate_limits"] = FixedWindowRateLimiter(storage)  # per app: tests build many


rate_limits = ApiRateLimits()


def StrEnum(enum_cls):  # noqa: N802  (reads like a column type)
    """A portable enum column storing the member's value as VARCHAR (no native PG enum to migrate)."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
