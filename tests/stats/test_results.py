"""MetaResult: the JSON contract, the repr, summary and DataFrame."""

from __future__ import annotations

import json
import math

import pytest

from postcart.stats import MetaResult, escalc, rma
from postcart.stats.results import BACK_KEYS, CONTRACT_KEYS


@pytest.fixture
def result() -> MetaResult:
    sizes = escalc("PLO", xi=[16, 10, 4, 43, 10], ni=[17, 12, 8, 58, 10])
    return rma(sizes.yi, sizes.vi, measure="PLO", test="knha")


def test_to_dict_starts_with_contract_keys(result: MetaResult) -> None:
    out = result.to_dict()
    assert tuple(out)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert tuple(out["back"])[: len(BACK_KEYS)] == BACK_KEYS
    json.dumps(out, allow_nan=False)  # no NaN leaks into the contract


def test_not_applicable_values_are_none() -> None:
    out = rma([0.1, 0.3], [0.01, 0.02], method="FE").to_dict()
    assert out["pi_low"] is None
    assert out["tau2_ci_low"] is None
    assert out["back"]["estimate"] is None  # GEN is not back-transformed


def test_repr_is_one_line(result: MetaResult) -> None:
    text = repr(result)
    assert text.startswith("<MetaResult REML/knha k=5 estimate=0.")
    assert "I²=" in text
    assert "\n" not in text


def test_summary_mentions_median_and_mean(result: MetaResult) -> None:
    text = result.summary()
    assert "median proportion" in text
    assert "mean proportion" in text


def test_to_frame_has_one_row(result: MetaResult) -> None:
    frame = result.to_frame()
    assert len(frame) == 1
    assert frame.loc[0, "estimate"] == result.estimate
    assert frame.loc[0, "back_estimate"] == result.back.estimate


def test_result_is_frozen(result: MetaResult) -> None:
    with pytest.raises(AttributeError):
        result.estimate = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.settings["estimator"] = "DL"  # type: ignore[index]
    assert math.isfinite(result.tau2)
