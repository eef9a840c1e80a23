"""One report build shared by the report tests (building takes seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from postcart.evidence import Evidence, load
from postcart.report.build import Report, build_report


@pytest.fixture(scope="session")
def evidence() -> Evidence:
    """The curated evidence base."""
    return load()


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, evidence: Evidence) -> tuple[Path, Report]:
    """The report built once into a temporary folder."""
    out = tmp_path_factory.mktemp("report")
    return out, build_report(out, evidence=evidence)
