"""Records kept for ever (art. 30: inspection records and hazard reports are kept, never hidden).

``keep(models, unchanged=..., refused=...)`` registers, for the models given:
- ORM guards on every session: deleting such a row, or changing one of the ``unchanged`` ones (an
  append-only history), raises ``refused`` before anything is flushed; a bulk ``delete()`` too;
- row triggers created with the tables (create_all: the tests' schema, a fresh database) that refuse
  DELETE in the database itself, whatever the client (psql, sqlite3, another program), on
  PostgreSQL and SQLite alike. Migrations install the same triggers with ``trigger_sql`` written
  out in their own files (a migration never imports the app: it must read the same in ten years).

TRUNCATE (the PostgreSQL test harness between tests) fires no row trigger, on purpose.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

PG_REFUSE_DELETE_FUNCTION = (
    "CREATE OR REPLACE FUNCTION labsafe_refuse_delete() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'rows of %% are never deleted (art. 30)', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
)


# Every table kept for ever, by name: tests/test_migrations.py holds the migrations to a trigger on each.
KEPT_TABLES: set[str] = set()


def trigger_sql(table: str, dialect: str) -> str:
    """The statement creating ``table``'s refuse-delete trigger (PostgreSQL's needs the function above)."""
    if dialect == "postgresql":
        return (f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION labsafe_refuse_delete()")
    return (f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are never deleted (art. 30)'); END")


def keep(models: tuple, *, unchanged: tuple = (), refused: type[Exception]) -> None:
    """Refuse deleting rows of ``models`` and changing rows of ``unchanged`` (see the module docstring)."""
    tables = {m.__table__ for m in models}
    KEPT_TABLES.update(t.name for t in tables)

    @event.listens_for(Session, "before_flush")
    def _refuse_in_flush(session, flush_context, instances):
        for obj in session.deleted:
            if isinstance(obj, models):
                raise refused(f"{type(obj).__name__} rows are never deleted (art. 30).")
        for obj in session.dirty:
            if isinstance(obj, unchanged) and session.is_modified(obj):
                raise refused(f"{type(obj).__name__} rows are never changed (art. 30).")

    @event.listens_for(Session, "do_orm_execute")
    def _refuse_bulk_delete(orm_execute_state):
        if orm_execute_state.is_delete:
            target = getattr(orm_execute_state.statement, "table", None)
            if target is not None and target in tables:
                raise refused(f"DELETE on {target.name} is refused (art. 30).")

    for table in tables:
        event.listen(table, "after_create", db.DDL(PG_REFUSE_DELETE_FUNCTION).execute_if(dialect="postgresql"))
        for dialect in ("postgresql", "sqlite"):
            event.listen(table, "after_create", db.DDL(trigger_sql(table.name, dialect)).execute_if(dialect=dialect))
