"""Literature pipeline: projects, reviewers, imports, records, duplicates, reports, studies,
search runs, votes and resolutions.

Revision ID: 0002_literature
Revises: 0001_evidence
Create Date: 2026-11-24 16:00:09.555500
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_literature"
down_revision = "0001_evidence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lit_reviewer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_salt", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_reviewer")),
        sa.UniqueConstraint("name", name=op.f("uq_lit_reviewer_name")),
    )
    op.create_table(
        "lit_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("reviewers_title_abstract", sa.Integer(), nullable=False),
        sa.Column("reviewers_full_text", sa.Integer(), nullable=False),
        sa.Column("exclusion_reasons", sa.JSON(), nullable=False),
        sa.Column("resolver_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "reviewers_full_text IN (1, 2)", name=op.f("ck_lit_project_reviewers_ft")
        ),
        sa.CheckConstraint(
            "reviewers_title_abstract IN (1, 2)", name=op.f("ck_lit_project_reviewers_ta")
        ),
        sa.ForeignKeyConstraint(
            ["resolver_id"],
            ["lit_reviewer.id"],
            name=op.f("fk_lit_project_resolver_id_lit_reviewer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_project")),
        sa.UniqueConstraint("name", name=op.f("uq_lit_project_name")),
    )
    op.create_table(
        "lit_duplicate_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("root_record_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["lit_project.id"],
            name=op.f("fk_lit_duplicate_group_project_id_lit_project"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_duplicate_group")),
    )
    op.create_table(
        "lit_membership",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["lit_project.id"],
            name=op.f("fk_lit_membership_project_id_lit_project"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["lit_reviewer.id"],
            name=op.f("fk_lit_membership_reviewer_id_lit_reviewer"),
        ),
        sa.PrimaryKeyConstraint("project_id", "reviewer_id", name=op.f("pk_lit_membership")),
    )
    op.create_table(
        "lit_search_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("database", sa.String(length=100), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("mindate", sa.String(length=20), nullable=False),
        sa.Column("maxdate", sa.String(length=20), nullable=False),
        sa.Column("run_at", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("pmids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["lit_project.id"],
            name=op.f("fk_lit_search_run_project_id_lit_project"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_search_run")),
    )
    op.create_table(
        "lit_study",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["lit_project.id"], name=op.f("fk_lit_study_project_id_lit_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_study")),
    )
    op.create_table(
        "lit_import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("update_no", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("search_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["lit_project.id"],
            name=op.f("fk_lit_import_batch_project_id_lit_project"),
        ),
        sa.ForeignKeyConstraint(
            ["search_run_id"],
            ["lit_search_run.id"],
            name=op.f("fk_lit_import_batch_search_run_id_lit_search_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_import_batch")),
    )
    op.create_table(
        "lit_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("duplicate_group_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("first_author", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("journal", sa.Text(), nullable=False),
        sa.Column("volume", sa.String(length=100), nullable=False),
        sa.Column("issue", sa.String(length=100), nullable=False),
        sa.Column("pages", sa.String(length=100), nullable=False),
        sa.Column("doi", sa.String(length=300), nullable=True),
        sa.Column("pmid", sa.String(length=20), nullable=True),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("record_type", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=100), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("source_format", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["lit_import_batch.id"],
            name=op.f("fk_lit_record_batch_id_lit_import_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_group_id"],
            ["lit_duplicate_group.id"],
            name=op.f("fk_lit_record_duplicate_group_id_lit_duplicate_group"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["lit_project.id"], name=op.f("fk_lit_record_project_id_lit_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_record")),
    )
    with op.batch_alter_table("lit_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lit_record_doi"), ["doi"], unique=False)
        batch_op.create_index(batch_op.f("ix_lit_record_pmid"), ["pmid"], unique=False)
        batch_op.create_index(batch_op.f("ix_lit_record_project_id"), ["project_id"], unique=False)

    op.create_table(
        "lit_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("retrieved", sa.Boolean(), nullable=True),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["lit_project.id"], name=op.f("fk_lit_report_project_id_lit_project")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["lit_record.id"], name=op.f("fk_lit_report_record_id_lit_record")
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["lit_study.id"], name=op.f("fk_lit_report_study_id_lit_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_report")),
        sa.UniqueConstraint("record_id", name=op.f("uq_lit_report_record_id")),
    )
    op.create_table(
        "lit_resolution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "decision IN ('yes', 'maybe', 'no')", name=op.f("ck_lit_resolution_decision")
        ),
        sa.CheckConstraint(
            "stage IN ('title_abstract', 'full_text')", name=op.f("ck_lit_resolution_stage")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["lit_record.id"], name=op.f("fk_lit_resolution_record_id_lit_record")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["lit_reviewer.id"],
            name=op.f("fk_lit_resolution_reviewer_id_lit_reviewer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_resolution")),
        sa.UniqueConstraint("record_id", "stage", name="one_resolution"),
    )
    op.create_table(
        "lit_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cast_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("decision IN ('yes', 'maybe', 'no')", name=op.f("ck_lit_vote_decision")),
        sa.CheckConstraint(
            "stage IN ('title_abstract', 'full_text')", name=op.f("ck_lit_vote_stage")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["lit_record.id"], name=op.f("fk_lit_vote_record_id_lit_record")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["lit_reviewer.id"], name=op.f("fk_lit_vote_reviewer_id_lit_reviewer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_vote")),
        sa.UniqueConstraint("record_id", "reviewer_id", "stage", name="one_vote"),
    )
    with op.batch_alter_table("lit_vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lit_vote_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lit_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lit_vote_record_id"))

    op.drop_table("lit_vote")
    op.drop_table("lit_resolution")
    op.drop_table("lit_report")
    with op.batch_alter_table("lit_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lit_record_project_id"))
        batch_op.drop_index(batch_op.f("ix_lit_record_pmid"))
        batch_op.drop_index(batch_op.f("ix_lit_record_doi"))

    op.drop_table("lit_record")
    op.drop_table("lit_import_batch")
    op.drop_table("lit_study")
    op.drop_table("lit_search_run")
    op.drop_table("lit_membership")
    op.drop_table("lit_duplicate_group")
    op.drop_table("lit_project")
    op.drop_table("lit_reviewer")
