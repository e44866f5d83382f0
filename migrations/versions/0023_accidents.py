"""accidents: reports, photos, events and written reports (issue 24; art. 5, 31-34)

Accidents, their photos and events are never deleted; events and photos never changed; the written
reports (the unit's, art. 31; the investigation's, art. 32) are frozen: row triggers refuse DELETE (and
UPDATE for the frozen ones) on SQLite and PostgreSQL alike, as app.db.kept installs with create_all.
issued_documents gains accident_id (an accident report's PDF; plain ADD COLUMN, no table rebuilt).

Revision ID: 0023
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, length=max(len(v) for v in values))


GRADE = ("I", "II", "III", "IV")
KEPT = ("accidents", "accident_photos", "accident_events")
FROZEN = ("accident_reports",)


def upgrade():
    op.create_table(
        "accidents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_uuid", sa.String(36), nullable=False),
        sa.Column("lab_id", sa.Integer(), sa.ForeignKey("labs.id"), nullable=False),
        sa.Column("college_id", sa.Integer(), sa.ForeignKey("colleges.id"), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("deaths", sa.Integer(), nullable=False),
        sa.Column("serious_injuries", sa.Integer(), nullable=False),
        sa.Column("light_injuries", sa.Integer(), nullable=False),
        sa.Column("property_loss_yuan", sa.Integer(), nullable=False),
        sa.Column("environment", _enum("environmentdamage", "none", "local_repairable", "partly_repairable",
                                       "severe"), nullable=False),
        sa.Column("environment_note", sa.Text(), nullable=False),
        sa.Column("stability", _enum("stabilityharm", "none", "some", "larger", "serious", "grave"), nullable=False),
        sa.Column("stability_note", sa.Text(), nullable=False),
        sa.Column("first_measures", sa.Text(), nullable=False),
        sa.Column("proposed_grade", _enum("accidentgrade", *GRADE), nullable=False),
        sa.Column("grade", _enum("accidentgrade", *GRADE), nullable=True),
        sa.Column("state", _enum("accidentstate", "reported", "unit_reported", "investigated", "closed"),
                  nullable=False),
        sa.Column("unit_report_due_at", sa.DateTime(), nullable=False),
        sa.Column("reported_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("client_uuid", name="uq_accidents_client_uuid"),
    )
    op.create_index("ix_accidents_lab_id", "accidents", ["lab_id"])
    op.create_index("ix_accidents_college_id", "accidents", ["college_id"])
    op.create_index("ix_accidents_occurred_at", "accidents", ["occurred_at"])
    op.create_table(
        "accident_photos",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("accident_id", sa.Integer(), sa.ForeignKey("accidents.id"), nullable=False),
        sa.Column("photo_uuid", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("accident_id", "photo_uuid", name="uq_accident_photos_accident_id_photo_uuid"),
    )
    op.create_index("ix_accident_photos_accident_id", "accident_photos", ["accident_id"])
    op.create_index("ix_accident_photos_photo_uuid", "accident_photos", ["photo_uuid"])
    op.create_table(
        "accident_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("accident_id", sa.Integer(), sa.ForeignKey("accidents.id"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_accident_events_accident_id", "accident_events", ["accident_id"])
    op.create_table(
        "accident_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("accident_id", sa.Integer(), sa.ForeignKey("accidents.id"), nullable=False),
        sa.Column("kind", _enum("reportkind", "unit", "investigation"), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("causes", sa.Text(), nullable=False),
        sa.Column("nature", sa.Text(), nullable=False),
        sa.Column("responsibility", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("proposals", sa.Text(), nullable=False),
        sa.Column("filed_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("filed_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("accident_id", "kind", name="uq_accident_reports_accident_id_kind"),
    )
    op.create_index("ix_accident_reports_accident_id", "accident_reports", ["accident_id"])

    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.add_column("issued_documents", sa.Column("accident_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_issued_documents_accident_id_accidents", "issued_documents", "accidents",
                              ["accident_id"], ["id"])
    else:  # SQLite adds a column with its reference inline (no ALTER of constraints, no table rebuilt)
        op.execute("ALTER TABLE issued_documents ADD COLUMN accident_id INTEGER "
                   "CONSTRAINT fk_issued_documents_accident_id_accidents REFERENCES accidents (id)")
    op.create_index("ix_issued_documents_accident_id", "issued_documents", ["accident_id"])

    if postgres:
        op.execute(
            "CREATE OR REPLACE FUNCTION labsafe_refuse_delete() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'rows of % are never deleted (art. 30)', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE OR REPLACE FUNCTION labsafe_refuse_change() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'rows of % are never changed or deleted (art. 30)', TG_TABLE_NAME; END; "
            "$$ LANGUAGE plpgsql"
        )
    for table, ops, frozen in [(t, ("DELETE",), False) for t in KEPT] + [(t, ("UPDATE", "DELETE"), True)
                                                                         for t in FROZEN]:
        what = "changed or deleted" if frozen else "deleted"
        for op_name in ops:
            trigger = f"{table}_no_{op_name.lower()}"
            if postgres:
                function = "labsafe_refuse_change" if frozen else "labsafe_refuse_delete"
                op.execute(f"CREATE TRIGGER {trigger} BEFORE {op_name} ON {table} "
                           f"FOR EACH ROW EXECUTE FUNCTION {function}()")
            else:
                op.execute(f"CREATE TRIGGER {trigger} BEFORE {op_name} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are never {what} (art. 30)'); END")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, ops in [(t, ("delete",)) for t in KEPT] + [(t, ("update", "delete")) for t in FROZEN]:
        for op_name in ops:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op_name}" + (f" ON {table}" if postgres else ""))
    op.drop_index("ix_issued_documents_accident_id", table_name="issued_documents")
    if postgres:
        op.drop_constraint("fk_issued_documents_accident_id_accidents", "issued_documents", type_="foreignkey")
        op.drop_column("issued_documents", "accident_id")
    else:  # a referencing column cannot be dropped in place: the table is rebuilt, then its triggers (0015) again
        with op.batch_alter_table("issued_documents") as batch:
            batch.drop_column("accident_id")
        for op_name in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER IF NOT EXISTS issued_documents_no_{op_name.lower()} BEFORE {op_name} "
                       "ON issued_documents BEGIN SELECT RAISE(ABORT, 'issued documents are never changed or "
                       "deleted (art. 30)'); END")
    for table in ("accident_reports", "accident_events", "accident_photos", "accidents"):
        op.drop_table(table)
