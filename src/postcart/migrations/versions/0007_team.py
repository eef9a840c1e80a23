"""Team work in the browser: invitations, per-person screening keys, calibration rounds.

New tables only, so upgrading a database in use touches none of a team's rows. Invitations keep
the SHA-256 of their token, never the token; a calibration round stores its seed and its sample.

Revision ID: 0007_team
Revises: 0006_extraction
Create Date: 2026-12-02 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_team"
down_revision = "0006_extraction"
branch_labels = None
depends_on = None

PROJECT_ROLES = "role IN ('owner', 'reviewer', 'resolver', 'viewer')"


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "lit_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_by", sa.Integer(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(PROJECT_ROLES, name=op.f("ck_lit_invitation_role")),
        _fk("lit_invitation", "project_id", "lit_project"),
        _fk("lit_invitation", "created_by", "lit_reviewer"),
        _fk("lit_invitation", "accepted_by", "lit_reviewer"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_invitation")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_lit_invitation_token_digest")),
    )
    op.create_index(op.f("ix_lit_invitation_project_id"), "lit_invitation", ["project_id"])
    op.create_table(
        "lit_screen_keys",
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=False),
        _fk("lit_screen_keys", "reviewer_id", "lit_reviewer"),
        sa.PrimaryKeyConstraint("reviewer_id", name=op.f("pk_lit_screen_keys")),
    )
    op.create_table(
        "lit_calibration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.Column("started_by", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "stage IN ('title_abstract', 'full_text')", name=op.f("ck_lit_calibration_stage")
        ),
        _fk("lit_calibration", "project_id", "lit_project"),
        _fk("lit_calibration", "started_by", "lit_reviewer"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_calibration")),
    )
    op.create_index(op.f("ix_lit_calibration_project_id"), "lit_calibration", ["project_id"])
    op.create_table(
        "lit_calibration_vote",
        sa.Column("calibration_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cast_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "decision IN ('yes', 'maybe', 'no')", name=op.f("ck_lit_calibration_vote_decision")
        ),
        _fk("lit_calibration_vote", "calibration_id", "lit_calibration"),
        _fk("lit_calibration_vote", "record_id", "lit_record"),
        _fk("lit_calibration_vote", "reviewer_id", "lit_reviewer"),
        sa.PrimaryKeyConstraint(
            "calibration_id", "record_id", "reviewer_id", name=op.f("pk_lit_calibration_vote")
        ),
    )


def downgrade() -> None:
    op.drop_table("lit_calibration_vote")
    op.drop_index(op.f("ix_lit_calibration_project_id"), table_name="lit_calibration")
    op.drop_table("lit_calibration")
    op.drop_table("lit_screen_keys")
    op.drop_index(op.f("ix_lit_invitation_project_id"), table_name="lit_invitation")
    op.drop_table("lit_invitation")
