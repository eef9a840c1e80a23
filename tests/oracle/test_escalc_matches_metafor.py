"""``escalc`` (PR, PLO, PAS, PFT; every continuity-correction rule) against metafor 3.8.

Pinned cases (metadat datasets, Miller 1978, zero/all-event edges) are compared with the
reference JSON and with a live R session. Where metafor yields NA/Inf (e.g. PLO with zero
events and no correction) we must refuse with an InputError instead of returning numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from postcart.errors import InputError
from postcart.stats import escalc

from .compare import REL_TOL, relative_difference
from .conftest import load_reference
from .r_session import RSession

CASES: list[dict[str, Any]] = load_reference("escalc")["cases"]

pytestmark = pytest.mark.metafor


def _vector(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def check(case: dict[str, Any], theirs: dict[str, Any]) -> None:
    yi_ref, vi_ref = _vector(theirs["yi"]), _vector(theirs["vi"])
    undefined = any(v is None or not np.isfinite(v) for v in yi_ref + vi_ref)
    kwargs = {"xi": case["xi"], "ni": case["ni"], "add": case["add"], "to": case["to"]}
    if undefined:
        with pytest.raises(InputError, match="row"):
            escalc(case["measure"], **kwargs)
        return
    ours = escalc(case["measure"], **kwargs)
    for name, mine, ref in (("yi", ours.yi, yi_ref), ("vi", ours.vi, vi_ref)):
        for row, (a, b) in enumerate(zip(mine, ref, strict=True), start=1):
            assert relative_difference(float(a), float(b)) <= REL_TOL, (
                f"row {row} {name}: ours {a!r}, metafor {b!r}"
            )


@pytest.fixture(scope="module")
def live(r_session: RSession) -> dict[str, dict[str, Any]]:
    answers = r_session.call(
        "oracle_escalc_batch(d$cases)", {"cases": [case["input"] for case in CASES]}
    )
    return {case["id"]: answer for case, answer in zip(CASES, answers, strict=True)}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_escalc_matches_pinned_metafor(case: dict[str, Any]) -> None:
    check(case["input"], case["output"])


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_escalc_matches_live_metafor(case: dict[str, Any], live: dict[str, Any]) -> None:
    check(case["input"], live[case["id"]])


def test_escalc_random_counts_match_metafor(r_session: RSession) -> None:
    """300 seeded random (xi, ni) sets × 4 measures × 3 correction rules, one R request."""
    rng = np.random.default_rng(7)
    cases = []
    for i in range(300):
        k = int(rng.integers(1, 12))
        ni = rng.choice([1, 3, 10, 50, 400, 10**6], size=k)
        xi = rng.binomial(ni, rng.uniform(0, 1, size=k))
        cases.append(
            {
                "measure": ("PR", "PLO", "PAS", "PFT")[i % 4],
                "xi": xi.tolist(),
                "ni": ni.tolist(),
                "add": (0.5, 0.5, 1.0)[i % 3],
                "to": ("only0", "all", "if0all")[i % 3],
            }
        )
    answers = r_session.call("oracle_escalc_batch(d$cases)", {"cases": cases})
    for case, answer in zip(cases, answers, strict=True):
        check(case, answer)
