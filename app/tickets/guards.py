"""Tickets and their history are never deleted (art. 30): ORM guards on every session, and row
triggers that refuse DELETE in the database itself. Importing this module registers them
(app.models imports it, so create_all installs the triggers)."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

from .models import RectificationTicket, TicketEvent, TicketEventPhoto


class TicketDeletionRefused(RuntimeError):
    """Raised when anything tries to delete a ticket or rewrite its history."""


_APPEND_ONLY = (RectificationTicket, TicketEvent, TicketEventPhoto)


@event.listens_for(Session, "before_flush")
def _refuse_deleting_tickets(session, flush_context, instances):
    for obj in session.deleted:
        if isinstance(obj, _APPEND_ONLY):
            raise TicketDeletionRefused(
                f"{type(obj).__name__} rows are never deleted (art. 30: no hiding or delaying a hazard report)."
            )
    for obj in session.dirty:
        if isinstance(obj, (TicketEvent, TicketEventPhoto)) and session.is_modified(obj):
            raise TicketDeletionRefused("Ticket history is append-only (art. 30).")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_delete(orm_execute_state):
    if orm_execute_state.is_delete:
        tables = {getattr(m, "__table__", None) for m in _APPEND_ONLY}
        target = getattr(orm_execute_state.statement, "table", None)
        if target is not None and target in tables:
            raise TicketDeletionRefused(f"DELETE on {target.name} is refused (art. 30).")


# A row trigger also refuses DELETE in the database itself, whatever the client (psql, sqlite3,
# another app), on PostgreSQL and SQLite alike (migrations 0003 and 0005 install the same ones).
# TRUNCATE (the PostgreSQL test harness between tests) fires no row trigger, on purpose.
def sqlite_refuse_delete_trigger(table: str) -> str:
    """SQLite's form of the guard (no trigger functions there: the body raises itself)."""
    return (
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are never deleted (art. 30)'); END"
    )


_PG_GUARD_FN = db.DDL(
    """
    CREATE OR REPLACE FUNCTION labsafe_refuse_delete() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'rows of %% are never deleted (art. 30)', TG_TABLE_NAME;
    END; $$ LANGUAGE plpgsql
    """
)
for _model in _APPEND_ONLY:
    _table = _model.__table__
    event.listen(_table, "after_create", _PG_GUARD_FN.execute_if(dialect="postgresql"))
    event.listen(
        _table,
        "after_create",
        db.DDL(
            f"CREATE TRIGGER {_table.name}_no_delete BEFORE DELETE ON {_table.name} "
            "FOR EACH ROW EXECUTE FUNCTION labsafe_refuse_delete()"
        ).execute_if(dialect="postgresql"),
    )
    event.listen(
        _table,
        "after_create",
        db.DDL(sqlite_refuse_delete_trigger(_table.name)).execute_if(dialect="sqlite"),
    )
