"""Routes of the workbench: review (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
