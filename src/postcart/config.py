"""Where postcart keeps its data: one place that reads the environment."""

from __future__ import annotations

import os
from pathlib import Path

#: The database used when ``DATABASE_URL`` is not set: an SQLite file in the working directory,
#: because a single researcher should not have to run a server.
DEFAULT_DATABASE_URL = "sqlite:///postcart.db"


def database_url(explicit: str | None = None) -> str:
    """Return the database URL: an explicit value, else ``DATABASE_URL``, else ``postcart.db``."""
    if explicit:
        return explicit
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def output_dir(explicit: str | Path | None = None) -> Path:
    """Return the directory reports are written to (``out/`` unless told otherwise)."""
    return Path(explicit) if explicit else Path(os.environ.get("POSTCART_OUT", "out"))
