"""Extraction of included studies in the browser: each reviewer's answers and the accepted one.

A new table only, so upgrading a database in use touches none of a team's rows. The partial
unique index (``WHERE status = 'accepted'``, which SQLite and PostgreSQL both support) lets a
record be accepted into the evidence base exactly once.

Revision ID: 0006_extraction
Revises: 0005_screening_workflow
Create Date: 2026-12-04 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_extraction"
down_revision = "0005_screening_workflow"
branch_labels = None
depends_on = None

ACCEPTED = sa.text("status = 'accepted'")


def upgrade() -> None:
    op.create_table(
        "lit_extraction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('saved', 'accepted')", name=op.f("ck_lit_extraction_status")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["lit_project.id"],
            name=op.f("fk_lit_extraction_project_id_lit_project"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["lit_record.id"], name=op.f("fk_lit_extraction_record_id_lit_record")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["lit_reviewer.id"],
            name=op.f("fk_lit_extraction_reviewer_id_lit_reviewer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_extraction")),
        sa.UniqueConstraint("record_id", "reviewer_id", "status", name="one_extraction"),
    )
    op.create_index(op.f("ix_lit_extraction_project_id"), "lit_extraction", ["project_id"])
    op.create_index(op.f("ix_lit_extraction_record_id"), "lit_extraction", ["record_id"])
    op.create_index(
        "ix_lit_extraction_one_accepted",
        "lit_extraction",
        ["record_id"],
        unique=True,
        sqlite_where=ACCEPTED,
        postgresql_where=ACCEPTED,
    )


def downgrade() -> None:
    op.drop_index("ix_lit_extraction_one_accepted", table_name="lit_extraction")
    op.drop_index(op.f("ix_lit_extraction_record_id"), table_name="lit_extraction")
    op.drop_index(op.f("ix_lit_extraction_project_id"), table_name="lit_extraction")
    op.drop_table("lit_extraction")
