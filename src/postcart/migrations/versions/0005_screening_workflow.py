"""Assignment of records to reviewers for team screening in the browser.

A new table only: the tables holding a team's votes and members are left exactly as they are,
so upgrading a database in use changes none of its rows.

Revision ID: 0005_screening_workflow
Revises: 0004_accounts_web
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_screening_workflow"
down_revision = "0004_accounts_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lit_assignment",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "stage IN ('title_abstract', 'full_text')", name=op.f("ck_lit_assignment_stage")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["lit_record.id"], name=op.f("fk_lit_assignment_record_id_lit_record")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["lit_reviewer.id"],
            name=op.f("fk_lit_assignment_reviewer_id_lit_reviewer"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["lit_project.id"],
            name=op.f("fk_lit_assignment_project_id_lit_project"),
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["lit_reviewer.id"],
            name=op.f("fk_lit_assignment_assigned_by_lit_reviewer"),
        ),
        sa.PrimaryKeyConstraint(
            "record_id", "reviewer_id", "stage", name=op.f("pk_lit_assignment")
        ),
    )
    op.create_index(op.f("ix_lit_assignment_project_id"), "lit_assignment", ["project_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_lit_assignment_project_id"), table_name="lit_assignment")
    op.drop_table("lit_assignment")
