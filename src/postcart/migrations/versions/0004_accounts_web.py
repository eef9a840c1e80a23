"""Accounts for the web workbench: site and project roles, browser sessions, the audit log.

``lit_reviewer`` and ``lit_membership`` hold a team's data (votes point at them), so they gain
their columns in place (``ADD COLUMN``, with the CHECK written into the column on SQLite) and
are never rebuilt. The audit log refuses UPDATE and DELETE with a trigger on both databases.

Revision ID: 0004_accounts_web
Revises: 0003_roles_overlaps
Create Date: 2026-12-02 15:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_accounts_web"
down_revision = "0003_roles_overlaps"
branch_labels = None
depends_on = None

SITE_ROLES = ("owner", "member")
PROJECT_ROLES = ("owner", "reviewer", "resolver", "viewer")


def _one_of(column: str, terms: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(t) for t in terms)})"


def _add_role_column(table: str, column: str, default: str, terms: tuple[str, ...]) -> None:
    name = f"ck_{table}_{column}"
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR(20) NOT NULL DEFAULT '{default}' "
            f"CONSTRAINT {name} CHECK ({_one_of(column, terms)})"
        )
        return
    op.add_column(
        table, sa.Column(column, sa.String(length=20), nullable=False, server_default=default)
    )
    op.create_check_constraint(op.f(name), table, _one_of(column, terms))


_PG_APPEND_ONLY = """
CREATE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""
_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
)


def upgrade() -> None:
    _add_role_column("lit_reviewer", "site_role", "member", SITE_ROLES)
    _add_role_column("lit_membership", "role", "reviewer", PROJECT_ROLES)
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["lit_reviewer.id"],
            name=op.f("fk_web_session_reviewer_id_lit_reviewer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
    )
    op.create_index(op.f("ix_web_session_reviewer_id"), "web_session", ["reviewer_id"])
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity", sa.String(length=60), nullable=False),
        sa.Column("entity_id", sa.String(length=120), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["lit_reviewer.id"], name=op.f("fk_audit_event_actor_id_lit_reviewer")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["lit_project.id"],
            name=op.f("fk_audit_event_project_id_lit_project"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_APPEND_ONLY:
            op.execute(statement)
    else:
        op.execute(_PG_APPEND_ONLY)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER audit_event_no_update ON audit_event")
        op.execute("DROP FUNCTION audit_event_append_only()")
    op.drop_table("audit_event")
    op.drop_index(op.f("ix_web_session_reviewer_id"), table_name="web_session")
    op.drop_table("web_session")
    with op.batch_alter_table("lit_membership") as batch_op:
        batch_op.drop_column("role")
    with op.batch_alter_table("lit_reviewer") as batch_op:
        batch_op.drop_column("site_role")
