"""Evidence base: sources, studies, cohorts, outcomes, catalogues, discrepancies, risk factors.

Vocabulary CHECK constraints are frozen here as they stood; adding a term to ``vocab`` needs a
new migration that replaces the constraint.

Revision ID: 0001_evidence
Revises:
Create Date: 2026-11-24 15:30:11.623487
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_evidence"
down_revision = None
branch_labels = None
depends_on = None

# Vocabularies as they stood at this revision (copied from ``evidence.vocab``, then frozen).
MECHANISM_CATEGORIES = (
    "antigen_escape",
    "tumour_microenvironment",
    "tumour_burden",
    "prior_treatment",
    "exhaustion",
    "apoptosis",
    "manufacturing",
)
PROVENANCE_KINDS = ("review", "primary", "secondary")
STUDY_DESIGNS = (
    "pivotal_trial",
    "early_phase_trial",
    "real_world",
    "registry",
    "salvage_cohort",
    "case_series",
    "systematic_review",
    "meta_analysis",
)
DISEASES = (
    "LBCL",
    "DLBCL",
    "PMBCL",
    "HGBCL",
    "MCL",
    "FL",
    "MZL",
    "iNHL",
    "B-ALL",
    "CLL",
    "aggressive B-cell lymphoma",
    "NHL mixed",
    "B-cell malignancies mixed",
)
THERAPY_CLASSES = ("cellular", "systemic", "radiation", "transplant", "investigational", "mixed")
ANALYSIS_TYPES = ("multivariable", "univariable", "descriptive", "not_stated")
DIRECTIONS = ("worse", "better")
EVENTS_BASES = ("reported", "derived_exact", "none")
MEASURES = (
    "orr",
    "cr",
    "pr",
    "os_rate",
    "pfs_rate",
    "grfs_rate",
    "nrm_rate",
    "relapse_rate",
    "local_control_rate",
    "dor_rate",
    "median_os",
    "median_pfs",
    "median_dor",
    "median_followup",
    "crs_any",
    "crs_g3plus",
    "icans_any",
    "icans_g3plus",
    "ae_g3plus",
    "gvhd_acute_g2_4",
    "gvhd_acute_g3_4",
    "gvhd_chronic",
    "cd19_negative_relapse",
    "other",
)
STATISTICS = ("point", "median_across_studies", "range_across_studies")
UNITS = ("percent", "months", "weeks", "days", "count")


def _one_of(column: str, terms: tuple[str, ...]) -> str:
    """SQL for "column holds one of terms" (NULL passes the CHECK, as in the models)."""
    return f"{column} IN ({', '.join(repr(t) for t in terms)})"


def upgrade() -> None:
    op.create_table(
        "source",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("first_author", sa.String(length=200), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("journal", sa.String(length=300), nullable=True),
        sa.Column("pmid", sa.String(length=9), nullable=True),
        sa.Column("doi", sa.String(length=300), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("seed_ref", sa.Integer(), nullable=True),
        sa.Column("checked_against", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_source")),
    )
    op.create_table(
        "mechanism",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("provenance_kind", sa.String(length=20), nullable=False),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("section", sa.String(length=300), nullable=True),
        sa.Column("locator", sa.String(length=300), nullable=True),
        sa.Column("provenance_source_key", sa.String(length=120), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            _one_of("category", MECHANISM_CATEGORIES),
            name=op.f("ck_mechanism_category_vocab"),
        ),
        sa.CheckConstraint(
            _one_of("provenance_kind", PROVENANCE_KINDS),
            name=op.f("ck_mechanism_provenance_kind_vocab"),
        ),
        sa.ForeignKeyConstraint(
            ["provenance_source_key"],
            ["source.key"],
            name=op.f("fk_mechanism_provenance_source_key_source"),
        ),
        sa.ForeignKeyConstraint(
            ["source_key"], ["source.key"], name=op.f("fk_mechanism_source_key_source")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_mechanism")),
    )
    op.create_table(
        "product",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("generic_name", sa.String(length=200), nullable=False),
        sa.Column("brand_name", sa.String(length=200), nullable=True),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("costimulatory_domain", sa.String(length=80), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("provenance_kind", sa.String(length=20), nullable=True),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("section", sa.String(length=300), nullable=True),
        sa.Column("locator", sa.String(length=300), nullable=True),
        sa.Column("provenance_source_key", sa.String(length=120), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            _one_of("provenance_kind", PROVENANCE_KINDS),
            name=op.f("ck_product_provenance_kind_vocab"),
        ),
        sa.ForeignKeyConstraint(
            ["provenance_source_key"],
            ["source.key"],
            name=op.f("fk_product_provenance_source_key_source"),
        ),
        sa.ForeignKeyConstraint(
            ["source_key"], ["source.key"], name=op.f("fk_product_source_key_source")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_product")),
    )
    op.create_table(
        "study",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("design", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=True),
        sa.Column("disease", sa.String(length=40), nullable=False),
        sa.Column("post_cart_specific", sa.Boolean(), nullable=False),
        sa.Column("timing_subgroup", sa.Boolean(), nullable=False),
        sa.Column("antigen_status_required", sa.Boolean(), nullable=False),
        sa.Column("registration", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            _one_of("design", STUDY_DESIGNS),
            name=op.f("ck_study_design_vocab"),
        ),
        sa.CheckConstraint(
            _one_of("disease", DISEASES),
            name=op.f("ck_study_disease_vocab"),
        ),
        sa.ForeignKeyConstraint(
            ["source_key"], ["source.key"], name=op.f("fk_study_source_key_source")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_study")),
    )
    op.create_table(
        "therapy",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("therapy_class", sa.String(length=40), nullable=False),
        sa.Column("target_antigen", sa.String(length=80), nullable=True),
        sa.Column("cd19_directed", sa.Boolean(), nullable=False),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            _one_of("therapy_class", THERAPY_CLASSES),
            name=op.f("ck_therapy_therapy_class_vocab"),
        ),
        sa.ForeignKeyConstraint(
            ["source_key"], ["source.key"], name=op.f("fk_therapy_source_key_source")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_therapy")),
    )
    op.create_table(
        "cohort",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("study_key", sa.String(length=120), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("intervention", sa.Text(), nullable=False),
        sa.Column("therapy_key", sa.String(length=120), nullable=True),
        sa.Column("disease", sa.String(length=40), nullable=True),
        sa.Column("n", sa.Integer(), nullable=True),
        sa.Column("subgroup_of", sa.String(length=120), nullable=True),
        sa.Column("failure_days_min", sa.Integer(), nullable=True),
        sa.Column("failure_days_max", sa.Integer(), nullable=True),
        sa.Column("cd19_status", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            _one_of("disease", DISEASES),
            name=op.f("ck_cohort_disease_vocab"),
        ),
        sa.CheckConstraint("n IS NULL OR n >= 0", name=op.f("ck_cohort_n_nonnegative")),
        sa.ForeignKeyConstraint(
            ["study_key"], ["study.key"], name=op.f("fk_cohort_study_key_study")
        ),
        sa.ForeignKeyConstraint(
            ["subgroup_of"], ["cohort.key"], name=op.f("fk_cohort_subgroup_of_cohort")
        ),
        sa.ForeignKeyConstraint(
            ["therapy_key"], ["therapy.key"], name=op.f("fk_cohort_therapy_key_therapy")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_cohort")),
    )
    op.create_table(
        "indication",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("product_key", sa.String(length=120), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("indication", sa.Text(), nullable=False),
        sa.Column("agency", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("pivotal_trial", sa.String(length=200), nullable=True),
        sa.Column("provenance_kind", sa.String(length=20), nullable=False),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("section", sa.String(length=300), nullable=True),
        sa.Column("locator", sa.String(length=300), nullable=True),
        sa.Column("provenance_source_key", sa.String(length=120), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.CheckConstraint(
            _one_of("provenance_kind", PROVENANCE_KINDS),
            name=op.f("ck_indication_provenance_kind_vocab"),
        ),
        sa.ForeignKeyConstraint(
            ["product_key"], ["product.key"], name=op.f("fk_indication_product_key_product")
        ),
        sa.ForeignKeyConstraint(
            ["provenance_source_key"],
            ["source.key"],
            name=op.f("fk_indication_provenance_source_key_source"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indication")),
    )
    op.create_table(
        "risk_factor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("study_key", sa.String(length=120), nullable=False),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column("factor", sa.Text(), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("analysis", sa.String(length=20), nullable=False),
        sa.Column("provenance_kind", sa.String(length=20), nullable=False),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("section", sa.String(length=300), nullable=True),
        sa.Column("locator", sa.String(length=300), nullable=True),
        sa.Column("provenance_source_key", sa.String(length=120), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            _one_of("analysis", ANALYSIS_TYPES),
            name=op.f("ck_risk_factor_analysis_vocab"),
        ),
        sa.CheckConstraint(
            _one_of("direction", DIRECTIONS), name=op.f("ck_risk_factor_direction_vocab")
        ),
        sa.CheckConstraint(
            _one_of("provenance_kind", PROVENANCE_KINDS),
            name=op.f("ck_risk_factor_provenance_kind_vocab"),
        ),
        sa.ForeignKeyConstraint(
            ["provenance_source_key"],
            ["source.key"],
            name=op.f("fk_risk_factor_provenance_source_key_source"),
        ),
        sa.ForeignKeyConstraint(
            ["source_key"], ["source.key"], name=op.f("fk_risk_factor_source_key_source")
        ),
        sa.ForeignKeyConstraint(
            ["study_key"], ["study.key"], name=op.f("fk_risk_factor_study_key_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_factor")),
    )
    op.create_table(
        "cohort_product",
        sa.Column("cohort_key", sa.String(length=120), nullable=False),
        sa.Column("product_key", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_key"], ["cohort.key"], name=op.f("fk_cohort_product_cohort_key_cohort")
        ),
        sa.ForeignKeyConstraint(
            ["product_key"], ["product.key"], name=op.f("fk_cohort_product_product_key_product")
        ),
        sa.PrimaryKeyConstraint("cohort_key", "product_key", name=op.f("pk_cohort_product")),
    )
    op.create_table(
        "outcome",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(length=120), nullable=True),
        sa.Column("cohort_key", sa.String(length=120), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=True),
        sa.Column("statistic", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("timepoint_months", sa.Float(), nullable=True),
        sa.Column("range_low", sa.Float(), nullable=True),
        sa.Column("range_high", sa.Float(), nullable=True),
        sa.Column("events", sa.Integer(), nullable=True),
        sa.Column("events_basis", sa.String(length=20), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=True),
        sa.Column("analysis_unit", sa.String(length=40), nullable=False),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("ci_level", sa.Float(), nullable=True),
        sa.Column("criteria", sa.String(length=200), nullable=True),
        sa.Column("n_studies", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("provenance_kind", sa.String(length=20), nullable=False),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("section", sa.String(length=300), nullable=True),
        sa.Column("locator", sa.String(length=300), nullable=True),
        sa.Column("provenance_source_key", sa.String(length=120), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(events IS NULL AND events_basis = 'none') "
            "OR (events IS NOT NULL AND events_basis <> 'none')",
            name=op.f("ck_outcome_events_basis_consistent"),
        ),
        sa.CheckConstraint(
            _one_of("events_basis", EVENTS_BASES),
            name=op.f("ck_outcome_events_basis_vocab"),
        ),
        sa.CheckConstraint(
            _one_of("measure", MEASURES),
            name=op.f("ck_outcome_measure_vocab"),
        ),
        sa.CheckConstraint(
            _one_of("provenance_kind", PROVENANCE_KINDS),
            name=op.f("ck_outcome_provenance_kind_vocab"),
        ),
        sa.CheckConstraint(
            _one_of("statistic", STATISTICS),
            name=op.f("ck_outcome_statistic_vocab"),
        ),
        sa.CheckConstraint(
            "unit <> 'percent' OR ci_high IS NULL OR (ci_high >= 0 AND ci_high <= 100)",
            name=op.f("ck_outcome_ci_high_percent"),
        ),
        sa.CheckConstraint(
            "unit <> 'percent' OR ci_low IS NULL OR (ci_low >= 0 AND ci_low <= 100)",
            name=op.f("ck_outcome_ci_low_percent"),
        ),
        sa.CheckConstraint(
            "unit <> 'percent' OR range_high IS NULL OR (range_high >= 0 AND range_high <= 100)",
            name=op.f("ck_outcome_range_high_percent"),
        ),
        sa.CheckConstraint(
            "unit <> 'percent' OR range_low IS NULL OR (range_low >= 0 AND range_low <= 100)",
            name=op.f("ck_outcome_range_low_percent"),
        ),
        sa.CheckConstraint(
            "unit <> 'percent' OR value IS NULL OR (value >= 0 AND value <= 100)",
            name=op.f("ck_outcome_value_percent"),
        ),
        sa.CheckConstraint(
            _one_of("unit", UNITS),
            name=op.f("ck_outcome_unit_vocab"),
        ),
        sa.CheckConstraint(
            "events IS NULL OR denominator IS NULL OR events <= denominator",
            name=op.f("ck_outcome_events_within_denominator"),
        ),
        sa.ForeignKeyConstraint(
            ["cohort_key"], ["cohort.key"], name=op.f("fk_outcome_cohort_key_cohort")
        ),
        sa.ForeignKeyConstraint(
            ["provenance_source_key"],
            ["source.key"],
            name=op.f("fk_outcome_provenance_source_key_source"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome")),
        sa.UniqueConstraint("key", name=op.f("uq_outcome_key")),
    )
    op.create_table(
        "discrepancy",
        sa.Column("outcome_id", sa.Integer(), nullable=False),
        sa.Column("other_outcome_key", sa.String(length=120), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["other_outcome_key"],
            ["outcome.key"],
            name=op.f("fk_discrepancy_other_outcome_key_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["outcome_id"], ["outcome.id"], name=op.f("fk_discrepancy_outcome_id_outcome")
        ),
        sa.PrimaryKeyConstraint("outcome_id", name=op.f("pk_discrepancy")),
    )


def downgrade() -> None:
    op.drop_table("discrepancy")
    op.drop_table("outcome")
    op.drop_table("cohort_product")
    op.drop_table("risk_factor")
    op.drop_table("indication")
    op.drop_table("cohort")
    op.drop_table("therapy")
    op.drop_table("study")
    op.drop_table("product")
    op.drop_table("mechanism")
    op.drop_table("source")
