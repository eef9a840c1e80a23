"""Queue state per record and stage, kept by triggers, so the next record is an indexed read.

Finding a reviewer's next record aggregated every vote and assignment of the project on every
vote (40,000 claims in a 20,000-record project assigned for dual screening). ``lit_queue``
holds, per record and stage, the votes cast, the reviewers who claimed it (voted or assigned)
and whether it was resolved. Triggers recount a record's row from the base tables after every
insert, update or delete of a vote, assignment or resolution, and add rows for new records, on
SQLite and PostgreSQL alike: no code path (or future one) can forget to keep it. Existing
databases are filled from their rows.

Revision ID: 0009_queue_state
Revises: 0008_text_columns
Create Date: 2026-12-02 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_queue_state"
down_revision = "0008_text_columns"
branch_labels = None
depends_on = None

STAGES = ("title_abstract", "full_text")
#: The tables whose rows name a (record_id, stage) that the queue state counts.
SOURCES = ("lit_vote", "lit_assignment", "lit_resolution")


def _counts(rid: str, stage: str) -> str:
    """SELECT list recounting one record's state from the base tables."""
    return f"""
        (SELECT count(*) FROM lit_vote v WHERE v.record_id = {rid} AND v.stage = {stage}),
        (SELECT count(*) FROM (
            SELECT reviewer_id FROM lit_vote WHERE record_id = {rid} AND stage = {stage}
            UNION
            SELECT reviewer_id FROM lit_assignment WHERE record_id = {rid} AND stage = {stage}
        ) AS claims),
        EXISTS (SELECT 1 FROM lit_resolution x WHERE x.record_id = {rid} AND x.stage = {stage})"""


def _upsert(rid: str, stage: str, *, postgres: bool) -> str:
    head = "INSERT INTO" if postgres else "INSERT OR REPLACE INTO"
    tail = (
        " ON CONFLICT (record_id, stage) DO UPDATE SET votes = EXCLUDED.votes, "
        "claimers = EXCLUDED.claimers, resolved = EXCLUDED.resolved"
        if postgres
        else ""
    )
    return (
        f"{head} lit_queue (record_id, stage, project_id, votes, claimers, resolved) "
        f"SELECT r.id, {stage}, r.project_id, {_counts(rid, stage)} "
        f"FROM lit_record r WHERE r.id = {rid}{tail}"
    )


def upgrade() -> None:
    op.create_table(
        "lit_queue",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("claimers", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["lit_record.id"], name=op.f("fk_lit_queue_record_id_lit_record"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["lit_project.id"], name=op.f("fk_lit_queue_project_id_lit_project")
        ),
        sa.PrimaryKeyConstraint("record_id", "stage", name=op.f("pk_lit_queue")),
    )  # fmt: skip
    op.create_index("ix_lit_queue_open", "lit_queue", ["project_id", "stage", "claimers", "votes"])
    op.create_index(
        "ix_lit_assignment_reviewer", "lit_assignment", ["reviewer_id", "stage", "project_id"]
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for stage in STAGES:  # fill from what the database holds now
        op.execute(
            "INSERT INTO lit_queue (record_id, stage, project_id, votes, claimers, resolved) "
            f"SELECT r.id, '{stage}', r.project_id, {_counts('r.id', repr(stage))} "
            "FROM lit_record r"
        )
    if postgres:
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _postgres_triggers() -> None:
    op.execute(f"""
CREATE FUNCTION lit_queue_recount(rid integer, st text) RETURNS void AS $$
BEGIN
  -- Lock the row first: the recount below then runs on a fresh snapshot that includes what a
  -- concurrent transaction on the same record committed while this one waited (READ
  -- COMMITTED), so an assignment racing a vote cannot leave a stale count behind.
  PERFORM 1 FROM lit_queue WHERE record_id = rid AND stage = st FOR UPDATE;
  {_upsert("rid", "st", postgres=True)};
END $$ LANGUAGE plpgsql""")
    op.execute("""
CREATE FUNCTION lit_queue_claim() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM lit_queue_recount(OLD.record_id, OLD.stage); END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN PERFORM lit_queue_recount(NEW.record_id, NEW.stage); END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""")
    for table in SOURCES:
        op.execute(
            f"CREATE TRIGGER {table}_queue AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION lit_queue_claim()"
        )
    op.execute(f"""
CREATE FUNCTION lit_queue_new_record() RETURNS trigger AS $$
BEGIN
  INSERT INTO lit_queue (record_id, stage, project_id, votes, claimers, resolved)
  VALUES {", ".join(f"(NEW.id, '{s}', NEW.project_id, 0, 0, false)" for s in STAGES)}
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$ LANGUAGE plpgsql""")
    op.execute(
        "CREATE TRIGGER lit_record_queue AFTER INSERT ON lit_record "
        "FOR EACH ROW EXECUTE FUNCTION lit_queue_new_record()"
    )


def _sqlite_triggers() -> None:
    for table in SOURCES:
        for event, rows in (("INSERT", ("NEW",)), ("DELETE", ("OLD",)), ("UPDATE", ("OLD", "NEW"))):
            body = "; ".join(
                _upsert(f"{row}.record_id", f"{row}.stage", postgres=False) for row in rows
            )
            op.execute(
                f"CREATE TRIGGER {table}_queue_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {body}; END"
            )
    values = ", ".join(f"(NEW.id, '{s}', NEW.project_id, 0, 0, 0)" for s in STAGES)
    op.execute(
        "CREATE TRIGGER lit_record_queue AFTER INSERT ON lit_record BEGIN "
        "INSERT OR IGNORE INTO lit_queue (record_id, stage, project_id, votes, claimers, "
        f"resolved) VALUES {values}; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*SOURCES, "lit_record"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_queue ON {table}")
        op.execute("DROP TRIGGER IF EXISTS lit_record_queue ON lit_record")
        for function in ("lit_queue_claim()", "lit_queue_new_record()",
                         "lit_queue_recount(integer, text)"):  # fmt: skip
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    else:
        for table in SOURCES:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_queue_{event}")
        op.execute("DROP TRIGGER IF EXISTS lit_record_queue")
    op.drop_index("ix_lit_assignment_reviewer", table_name="lit_assignment")
    op.drop_index("ix_lit_queue_open", table_name="lit_queue")
    op.drop_table("lit_queue")
