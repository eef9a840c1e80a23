"""``rma_glmm`` and ``rma_glmm_batch`` against ``metafor::rma.glmm(measure="PLO")`` (3.8-1).

Live: 150 seeded random datasets (k = 2 to 40, studies with zero and with all events, tiny
and large n) fitted by metafor in the session's R process and by us, single and batched.
Pinned: ``reference/glmm.json`` (metadat proportion data, Freeman–Tukey pathology sets,
failures). GLMM numbers must agree to 1e-4 relative: lme4's Nelder–Mead stops with a
gradient of ~1e-4, so its optimum itself is only that precise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from postcart.stats._glmm_fit import deviance_at
from postcart.stats.glmm import rma_glmm, rma_glmm_batch
from postcart.stats.results import MetaResult

from .conftest import load_reference
from .r_session import RSession

pytestmark = pytest.mark.metafor

#: Relative agreement required for the ML point estimates (estimate, τ², I², H², Q).
GLMM_TOL = 1e-4
#: For se and everything built from it (z, CI, PI): lme4 takes the Hessian by finite
#: differences of a deviance whose inner PIRLS stops at ~1e-7, which is noisy at ~3e-4 once
#: τ² > 4 (our Hessian is stable to 1e-6 across step sizes).
SE_TOL = 5e-4
#: Above this τ² (τ > 3.2 logits: study proportions spread over nearly all of 0–1) the
#: likelihood is so flat that lme4's Nelder–Mead stops ~1e-3 away; tolerances are ×10 there.
FLAT_TAU2 = 10.0
SE_KEYS = frozenset({"se", "stat", "ci_low", "ci_high", "pi_low", "pi_high", "back.ci_low",
                     "back.ci_high", "back.pi_low", "back.pi_high", "back.mean_ci_low",
                     "back.mean_ci_high"})  # fmt: skip
#: Absolute floor for numbers that are 0 at the τ² = 0 boundary (metafor prints 0, we ~1e-20).
ABS_FLOOR = 1e-7
SEED = 20261124
N_RANDOM = 150
KEYS = ("estimate", "se", "stat", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "h2")
BACK = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "mean", "mean_ci_low", "mean_ci_high")
EXTRAS = ("q_wald", "q_wald_p", "q_lrt", "q_lrt_p")


def random_cases() -> list[dict[str, Any]]:
    """Seeded datasets; in every fourth the smallest study gets zero events (when the mean
    logit is low) or all events (when high), as happens with rare or common outcomes."""
    rng = np.random.default_rng(SEED)
    cases = []
    for i in range(N_RANDOM):
        k = int(rng.choice([2, 2, 3, 4, 5, 8, 12, 20, 40]))
        ni = rng.choice([5, 10, 20, 40, 80, 150, 400], size=k)
        mu, tau = rng.uniform(-2.5, 2.0), rng.choice([0.0, 0.3, 0.6, 1.0])
        xi = rng.binomial(ni, 1 / (1 + np.exp(-rng.normal(mu, tau, size=k))))
        if i % 4 == 0:
            small = int(np.argmin(ni))
            xi[small] = 0 if mu < -0.25 else ni[small]
        cases.append({"id": f"g{i:03d}-k{k}", "xi": xi.tolist(), "ni": ni.tolist(),
                      "test": "z" if i % 2 else "t", "level": (95, 90)[i % 3 == 0]})  # fmt: skip
    return cases


def _rel(ours: float, theirs: float, scale: float = 0.0) -> float:
    """|ours − theirs| / max(|theirs|, scale), 0 within the absolute floor."""
    diff = abs(ours - theirs)
    if diff <= ABS_FLOOR:
        return 0.0
    denom = max(abs(theirs), scale)
    return diff / denom if denom > 0 else math.inf


def _logit(p: float) -> float:
    """Logit, leaving proportions within 1e-9 of 0 or 1 as they are (R rounds them to 0 or 1)."""
    return math.log(p / (1 - p)) if 1e-9 < p < 1 - 1e-9 else round(p)


def mismatches(ours: MetaResult, theirs: dict[str, Any], worst: dict[str, float]) -> list[str]:
    """Keys where we and metafor differ by more than ``GLMM_TOL`` (records the worst diffs).

    Points on the logit scale (estimate, CI, PI) are compared relative to max(|value|, se),
    so a bound that happens to sit near 0 is not held to a relative error of a tiny number;
    proportions are compared on the logit scale for the same reason.
    """
    extras = ours.settings["extras"]
    se = float(theirs["se"])
    located = {"estimate", "ci_low", "ci_high", "pi_low", "pi_high"}
    pairs: list[tuple[str, float, Any, float]] = [
        (key, getattr(ours, key), theirs[key], se if key in located else 0.0) for key in KEYS
    ]
    pairs += [(f"back.{key}", _logit(getattr(ours.back, key)), _logit(theirs["back"][key]), se)
              for key in BACK]  # fmt: skip
    pairs += [(key, extras[key], theirs[key], 0.0) for key in EXTRAS]
    pairs.append(("q", ours.q, theirs["q_wald"], 0.0))
    problems = []
    for key, mine, ref, scale in pairs:
        ref_value = math.nan if ref is None else float(ref)
        if math.isnan(ref_value) or math.isnan(mine):
            if math.isnan(ref_value) != math.isnan(mine):
                problems.append(f"{key}: ours {mine!r}, metafor {ref!r}")
            continue
        rel = _rel(mine, ref_value, scale)
        worst[key] = max(worst.get(key, 0.0), rel)
        tol = (SE_TOL if key in SE_KEYS else GLMM_TOL) * (10 if theirs["tau2"] > FLAT_TAU2 else 1)
        if rel > tol:
            problems.append(f"{key}: ours {mine!r}, metafor {ref_value!r} (rel {rel:.1e})")
    return problems


def lme4_flagged(theirs: dict[str, Any]) -> bool:
    """metafor/lme4 warned that its own optimum is not converged (its numbers are unreliable)."""
    return any("failed to converge" in w for w in theirs.get("warnings") or [])


def _deviance(case: dict[str, Any], beta: float, tau2: float) -> float:
    x = np.asarray([case["xi"]], dtype=float)
    n = np.asarray([case["ni"]], dtype=float)
    return float(deviance_at(x, n, np.array([[beta, math.sqrt(tau2)]]), 7)[0])


def metafor_not_at_maximum(case: dict[str, Any], ours: MetaResult, theirs: dict[str, Any]) -> bool:
    """lme4 stopped where the likelihood is not maximal: a higher one is ours, or lies at
    a larger τ² (no finite maximum). Checked on the same deviance, not assumed."""
    at_theirs = _deviance(case, theirs["estimate"], theirs["tau2"])
    if ours.status == "ok":
        return _deviance(case, ours.estimate, ours.tau2) < at_theirs - 1e-6
    return _deviance(case, theirs["estimate"], 4 * theirs["tau2"]) < at_theirs


def _ours(case: dict[str, Any]) -> MetaResult:
    test = "knha" if case["test"] == "t" else "z"
    return rma_glmm(case["xi"], case["ni"], test=test, level=case["level"])


@pytest.fixture(scope="module")
def live(r_session: RSession) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    cases = random_cases()
    answers = r_session.call("oracle_glmm_batch(d$cases)", {"cases": cases})
    return cases, answers


def test_random_datasets_match_metafor(live: tuple[list[Any], list[Any]]) -> None:
    cases, answers = live
    worst: dict[str, float] = {}
    failures, compared, local = [], 0, 0
    for case, theirs in zip(cases, answers, strict=True):
        ours = _ours(case)
        if "error" in theirs or lme4_flagged(theirs):
            continue  # lme4 gave up or says its optimum is off; nothing exact to compare
        if metafor_not_at_maximum(case, ours, theirs):
            local += 1
            continue
        assert ours.status == "ok", f"{case['id']}: {ours.reason}"
        assert ours.settings["extras"]["q_lrt"] >= 0
        compared += 1
        failures += [f"{case['id']}: {p}" for p in mismatches(ours, theirs, worst)]
    assert compared >= 100, f"only {compared} datasets compared"
    assert local <= 10, f"{local} datasets where metafor is not at the likelihood maximum"
    assert not failures, "\n".join(failures[:30])


def test_batch_equals_single_fits(live: tuple[list[Any], list[Any]]) -> None:
    """Padding changes only the order of sums; the finite-difference Hessian turns that
    rounding into ~1e-7, hence 1e-5 here (well inside the 1e-4 contract with metafor)."""
    cases, _ = live
    for test in ("z", "t"):
        chosen = [c for c in cases if c["test"] == test and c["level"] == 95]
        width = max(len(c["xi"]) for c in chosen)
        xi = np.zeros((len(chosen), width))
        ni = np.zeros((len(chosen), width))
        mask = np.zeros((len(chosen), width), dtype=bool)
        for row, case in enumerate(chosen):
            k = len(case["xi"])
            xi[row, :k], ni[row, :k], mask[row, :k] = case["xi"], case["ni"], True
        batch = rma_glmm_batch(xi, ni, mask, test="knha" if test == "t" else "z")
        for row, case in enumerate(chosen):
            single, from_batch = _ours(case), batch[row]
            assert (from_batch.status, from_batch.reason) == (single.status, single.reason)
            if single.status != "ok":
                continue
            for key in ("estimate", "se", "tau2", "ci_low", "pi_high", "q", "i2"):
                assert getattr(from_batch, key) == pytest.approx(
                    getattr(single, key), rel=1e-5, abs=1e-6
                ), (case["id"], key)


@pytest.mark.parametrize("case", load_reference("glmm")["cases"], ids=lambda c: c["id"])
def test_pinned_reference(case: dict[str, Any]) -> None:
    ours = _ours(case["input"])
    theirs = case["output"]
    if "error" in theirs:
        all_same = {x == 0 for x in case["input"]["xi"]} == {True}
        if all_same:
            assert ours.status == "not_converged"
            assert "zero events" in ours.reason
        return
    assert ours.status == "ok"
    assert not mismatches(ours, theirs, {})
