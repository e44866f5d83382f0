"""kept records: the database refuses DELETE on inspections and rounds (art. 28, 30)

Inspections (their answers, answer photos and missed-check flags) and rounds (their labs, changes
and late flags) were guarded by the ORM only; a row trigger now refuses DELETE whatever the client,
on SQLite and PostgreSQL alike, as app.db.kept installs with create_all. Tickets (0003, 0005) and
risk assessments (0011) have theirs already.

Revision ID: 0016
Revises: 0015
"""
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLES = ("inspections", "inspection_answers", "answer_photos", "missed_daily_checks",
          "inspection_rounds", "round_labs", "round_changes", "round_late_flags")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION labsafe_refuse_delete() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'rows of % are never deleted (art. 30)', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION labsafe_refuse_delete()")
    else:
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are never deleted (art. 30)'); END")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete" + (f" ON {table}" if postgres else ""))
