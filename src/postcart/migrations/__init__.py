"""Alembic migrations: the one way the schema is created, on SQLite and PostgreSQL alike."""
