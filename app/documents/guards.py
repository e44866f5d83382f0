"""Issued documents are never changed or deleted (art. 30): ORM guards on every session, and row
triggers that refuse UPDATE and DELETE in the database itself, on SQLite and PostgreSQL alike
(migration 0015 installs the same ones; app.models imports this module, so create_all does too).
TRUNCATE (the PostgreSQL test harness between tests) fires no row trigger, on purpose."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

from .models import IssuedDocument

TABLE = IssuedDocument.__tablename__


class DocumentChangeRefused(RuntimeError):
    """Raised when anything tries to change or delete an issued document."""


@event.listens_for(Session, "before_flush")
def _refuse_changing_documents(session, flush_context, instances):
    for obj in session.deleted:
        if isinstance(obj, IssuedDocument):
            raise DocumentChangeRefused("Issued documents are never deleted (art. 30).")
    for obj in session.dirty:
        if isinstance(obj, IssuedDocument) and session.is_modified(obj):
            raise DocumentChangeRefused("Issued documents are never changed (art. 30): issue a new one.")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(orm_execute_state):
    if orm_execute_state.is_delete or orm_execute_state.is_update:
        target = getattr(orm_execute_state.statement, "table", None)  # an annotated copy of the table
        if getattr(target, "name", None) == TABLE:
            raise DocumentChangeRefused(f"{TABLE} rows are never changed or deleted (art. 30).")


def sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER {TABLE}_no_{op.lower()} BEFORE {op} ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, 'issued documents are never changed or deleted (art. 30)'); END"
        for op in ("UPDATE", "DELETE")
    ]


PG_FUNCTION = """
    CREATE OR REPLACE FUNCTION labsafe_refuse_change() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'rows of %% are never changed or deleted (art. 30)', TG_TABLE_NAME;
    END; $$ LANGUAGE plpgsql
"""


def pg_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER {TABLE}_no_{op.lower()} BEFORE {op} ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION labsafe_refuse_change()"
        for op in ("UPDATE", "DELETE")
    ]


_table = IssuedDocument.__table__
event.listen(_table, "after_create", db.DDL(PG_FUNCTION).execute_if(dialect="postgresql"))
for _ddl in pg_triggers():
    event.listen(_table, "after_create", db.DDL(_ddl).execute_if(dialect="postgresql"))
for _ddl in sqlite_triggers():
    event.listen(_table, "after_create", db.DDL(_ddl).execute_if(dialect="sqlite"))
