"""Alembic environment: runs migrations on the connection ``postcart.db.migrate`` hands over."""

from __future__ import annotations

from importlib import import_module

from alembic import context

from postcart.db import Base, make_engine

#: Modules whose ORM classes autogenerate must see. Imported by name, not by ``import``
#: statement: the layer contract puts migrations below the packages that own the tables.
MODEL_MODULES = ("postcart.evidence.models", "postcart.literature.models")
for _module in MODEL_MODULES:
    import_module(_module)

target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with make_engine().begin() as new_connection:
        _run(new_connection)
