"""Text columns that hold what real exports and curated files contain: unbounded ``TEXT``.

Covidence puts whole affiliation strings in the issue field (255 characters into a
``VARCHAR(100)``), authors and journal names exceed 200, and a curated section name can be long;
SQLite never enforced the widths, so the same import or build passed there and failed on
PostgreSQL. Only PostgreSQL changes: SQLite stores text of any length whatever the declared
type, and rebuilding its tables would gain nothing.

Revision ID: 0008_text_columns
Revises: 0007_team
Create Date: 2026-12-02 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_text_columns"
down_revision = "0007_team"
branch_labels = None
depends_on = None

#: (column, old width) per table.
WIDENED: dict[str, tuple[tuple[str, int], ...]] = {
    "cohort": (
        ("n_section", 300),
        ("n_locator", 300),
        ("file", 300),
    ),
    "indication": (
        ("pivotal_trial", 200),
        ("section", 300),
        ("locator", 300),
    ),
    "lit_import_batch": (("source", 200),),
    "lit_record": (
        ("volume", 100),
        ("issue", 100),
        ("pages", 100),
        ("record_type", 100),
        ("language", 100),
    ),
    "mechanism": (
        ("name", 300),
        ("section", 300),
        ("locator", 300),
        ("file", 300),
    ),
    "outcome": (
        ("label", 300),
        ("criteria", 200),
        ("section", 300),
        ("locator", 300),
        ("file", 300),
    ),
    "overlap_group": (
        ("section", 300),
        ("locator", 300),
        ("file", 300),
    ),
    "product": (
        ("generic_name", 200),
        ("brand_name", 200),
        ("target", 80),
        ("costimulatory_domain", 80),
        ("section", 300),
        ("locator", 300),
        ("file", 300),
    ),
    "risk_factor": (
        ("endpoint", 200),
        ("section", 300),
        ("locator", 300),
        ("file", 300),
    ),
    "source": (
        ("first_author", 200),
        ("journal", 300),
        ("doi", 300),
        ("checked_against", 40),
        ("file", 300),
    ),
    "study": (
        ("name", 300),
        ("region", 200),
        ("registration", 200),
        ("file", 300),
    ),
    "therapy": (
        ("name", 300),
        ("target_antigen", 80),
        ("file", 300),
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in WIDENED.items():
        for column, _width in columns:
            op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(_width))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in WIDENED.items():
        for column, width in columns:
            op.alter_column(
                table, column, type_=sa.String(width), existing_type=sa.Text(),
                postgresql_using=f"left({column}, {width})",
            )  # fmt: skip
