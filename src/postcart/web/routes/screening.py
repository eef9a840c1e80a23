"""Routes of the workbench: screening (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
