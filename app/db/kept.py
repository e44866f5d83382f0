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
# Frozen rows (an issued document: its bytes and hash are what was signed and sent) refuse UPDATE too.
PG_REFUSE_CHANGE_FUNCTION = (
    "CREATE OR REPLACE FUNCTION labsafe_refuse_change() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'rows of %% are never changed or deleted (art. 30)', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
)


# Every table kept for ever, by name: tests/test_migrations.py holds the migrations to a trigger on each.
KEPT_TABLES: set[str] = set()


def trigger_sql(table: str, dialect: str, op: str = "DELETE", frozen: bool = False) -> str:
    """The statement creating ``table``'s trigger refusing ``op`` (DELETE, or UPDATE for frozen rows;
    PostgreSQL's needs the function above)."""
    if dialect == "postgresql":
        function = "labsafe_refuse_change" if frozen else "labsafe_refuse_delete"
        return (f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()")
    what = "changed or deleted" if frozen else "deleted"
    return (f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are never {what} (art. 30)'); END")


def keep(models: tuple, *, unchanged: tuple = (), refused: type[Exception], frozen: bool = False) -> None:
    """Refuse deleting rows of ``models`` and changing rows of ``unchanged`` (see the module docstring).
    ``frozen``: every row of ``models`` is never changed either, and the database refuses UPDATE too."""
    tables = {m.__table__ for m in models}
    KEPT_TABLES.update(t.name for t in tables)
    if frozen:
        unchanged = models

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
        if orm_execute_state.is_delete or (frozen and orm_execute_state.is_update):
            # Compared by name: a bulk statement's table may be an annotated copy of the Table.
            name = getattr(getattr(orm_execute_state.statement, "table", None), "name", None)
            if name in {t.name for t in tables}:
                verb = "DELETE" if orm_execute_state.is_delete else "UPDATE"
                raise refused(f"{verb} on {name} is refused (art. 30).")

    function = PG_REFUSE_CHANGE_FUNCTION if frozen else PG_REFUSE_DELETE_FUNCTION
    for table in tables:
        event.listen(table, "after_create", db.DDL(function).execute_if(dialect="postgresql"))
        for op in ("UPDATE", "DELETE") if frozen else ("DELETE",):
            for dialect in ("postgresql", "sqlite"):
                event.listen(table, "after_create",
                             db.DDL(trigger_sql(table.name, dialect, op, frozen)).execute_if(dialect=dialect))
