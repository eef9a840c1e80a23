"""Cohort roles, denominator bases and the provenance of n; approximate events; overlap register.

Evidence rows are a copy of the curated files that every ``postcart evidence build`` (and so
``make run``) replaces whole, so the upgrade clears them first: SQLite rebuilds ``cohort`` and
``outcome`` to change their CHECK constraints, and dropping a table that other rows still point
at breaks its foreign keys. Literature tables (projects, votes) do not refer to evidence rows and
are untouched. Vocabularies are frozen here as they stood at this revision.

Revision ID: 0003_roles_overlaps
Revises: 0002_literature
Create Date: 2026-12-02 15:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_roles_overlaps"
down_revision = "0002_literature"
branch_labels = None
depends_on = None

ROLES = (
    "cart_all_comers",
    "cart_product_arm",
    "cart_selected",
    "relapse_after_cart",
    "salvage_after_cart",
    "salvage_mixed_population",
    "comparator",
    "aggregate",
    "other",
)
BASES = ("intention_to_treat", "treated", "evaluable", "not_stated")
PROVENANCE_KINDS = ("review", "primary", "secondary")
EVENTS_BASES_BEFORE = ("reported", "derived_exact", "none")
EVENTS_BASES = ("reported", "derived_exact", "approximate", "none")
RELATIONS = ("same_registry", "same_trial", "same_centres", "nested_series")
CERTAINTIES = ("certain", "likely", "possible")
KEEP_RULES = ("largest", "most_recent", "most_complete")


def _one_of(column: str, terms: tuple[str, ...]) -> str:
    """SQL for "column holds one of terms" (NULL passes the CHECK, as in the models)."""
    return f"{column} IN ({', '.join(repr(t) for t in terms)})"


#: Evidence tables, children before parents (the order rows can be deleted in).
EVIDENCE_TABLES = (
    "discrepancy",
    "risk_factor",
    "outcome",
    "cohort_product",
    "cohort",
    "study",
    "indication",
    "product",
    "therapy",
    "mechanism",
    "source",
)


def upgrade() -> None:
    for table in EVIDENCE_TABLES:
        op.execute(sa.text(f"DELETE FROM {table}"))  # rebuilt by `postcart evidence build`
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=40), nullable=False, server_default="other")
        )
        batch_op.add_column(
            sa.Column(
                "denominator_basis",
                sa.String(length=40),
                nullable=False,
                server_default="not_stated",
            )
        )
        batch_op.add_column(sa.Column("selection", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("n_provenance_kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("n_quote", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("n_section", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("n_locator", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("n_source_key", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("n_url", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cohort_n_source_key_source"), "source", ["n_source_key"], ["key"]
        )
        batch_op.create_check_constraint("role_vocab", _one_of("role", ROLES))
        batch_op.create_check_constraint(
            "denominator_basis_vocab", _one_of("denominator_basis", BASES)
        )
        batch_op.create_check_constraint(
            "n_provenance_kind_vocab", _one_of("n_provenance_kind", PROVENANCE_KINDS)
        )
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.add_column(sa.Column("denominator_basis", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("denominator_uncertain", sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            "denominator_basis_vocab", _one_of("denominator_basis", BASES)
        )
        batch_op.drop_constraint(op.f("ck_outcome_events_basis_vocab"), type_="check")
        batch_op.create_check_constraint(
            "events_basis_vocab", _one_of("events_basis", EVENTS_BASES)
        )
    op.create_table(
        "overlap_group",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("relation", sa.String(length=40), nullable=False),
        sa.Column("certainty", sa.String(length=20), nullable=False),
        sa.Column("keep", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column("provenance_kind", sa.String(length=20), nullable=True),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("section", sa.String(length=300), nullable=True),
        sa.Column("locator", sa.String(length=300), nullable=True),
        sa.Column("provenance_source_key", sa.String(length=120), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            _one_of("relation", RELATIONS), name=op.f("ck_overlap_group_relation_vocab")
        ),
        sa.CheckConstraint(
            _one_of("certainty", CERTAINTIES), name=op.f("ck_overlap_group_certainty_vocab")
        ),
        sa.CheckConstraint(_one_of("keep", KEEP_RULES), name=op.f("ck_overlap_group_keep_vocab")),
        sa.CheckConstraint(
            _one_of("provenance_kind", PROVENANCE_KINDS),
            name=op.f("ck_overlap_group_provenance_kind_vocab"),
        ),
        sa.ForeignKeyConstraint(
            ["source_key"], ["source.key"], name=op.f("fk_overlap_group_source_key_source")
        ),
        sa.ForeignKeyConstraint(
            ["provenance_source_key"],
            ["source.key"],
            name=op.f("fk_overlap_group_provenance_source_key_source"),
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_overlap_group")),
    )
    op.create_table(
        "overlap_member",
        sa.Column("group_key", sa.String(length=120), nullable=False),
        sa.Column("cohort_key", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_key"], ["cohort.key"], name=op.f("fk_overlap_member_cohort_key_cohort")
        ),
        sa.ForeignKeyConstraint(
            ["group_key"],
            ["overlap_group.key"],
            name=op.f("fk_overlap_member_group_key_overlap_group"),
        ),
        sa.PrimaryKeyConstraint("group_key", "cohort_key", name=op.f("pk_overlap_member")),
    )


def downgrade() -> None:
    op.drop_table("overlap_member")
    op.drop_table("overlap_group")
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outcome_events_basis_vocab"), type_="check")
        batch_op.create_check_constraint(
            "events_basis_vocab", _one_of("events_basis", EVENTS_BASES_BEFORE)
        )
        batch_op.drop_constraint(op.f("ck_outcome_denominator_basis_vocab"), type_="check")
        batch_op.drop_column("denominator_uncertain")
        batch_op.drop_column("denominator_basis")
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_cohort_n_provenance_kind_vocab"), type_="check")
        batch_op.drop_constraint(op.f("ck_cohort_denominator_basis_vocab"), type_="check")
        batch_op.drop_constraint(op.f("ck_cohort_role_vocab"), type_="check")
        batch_op.drop_constraint(op.f("fk_cohort_n_source_key_source"), type_="foreignkey")
        for column in ("n_url", "n_source_key", "n_locator", "n_section", "n_quote"):
            batch_op.drop_column(column)
        batch_op.drop_column("n_provenance_kind")
        batch_op.drop_column("selection")
        batch_op.drop_column("denominator_basis")
        batch_op.drop_column("role")
