"""Fixtures for the decision aid: the packaged evidence and rulebook, loaded once."""

from __future__ import annotations

import pytest

from postcart.decision import RuleBook, default_rulebook
from postcart.evidence import load
from postcart.evidence.records import Evidence


@pytest.fixture(scope="session")
def evidence() -> Evidence:
    return load()


@pytest.fixture(scope="session")
def rulebook() -> RuleBook:
    return default_rulebook()
