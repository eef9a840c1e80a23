"""Liveness for proxies and orchestration: answers without touching templates."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from postcart.web.app import DB

router = APIRouter()


@router.get("/healthz")
def healthz(session: DB) -> dict[str, str]:
    """200 with ``{"status": "ok"}`` when the database answers."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}
