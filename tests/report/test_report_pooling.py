"""Pooled numbers against the stats engine called directly, and against metafor via the R script."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest

from postcart.evidence import Evidence
from postcart.evidence.vocab import CohortRole, DenominatorBasis, Measure
from postcart.report.build import Report
from postcart.report.pooling import Pooled, pool_landmark
from postcart.report.populations import LBCL_DISEASES, REAL_WORLD_DESIGNS, Population
from postcart.report.rscript import r_script
from postcart.report.selection import matches
from postcart.stats import escalc, rma
from postcart.stats.glmm import rma_glmm
from postcart.stats.landmark import landmark_effects

#: GLMM: lme4 and our quadrature maximise the same likelihood with different optimisers.
GLMM_RTOL = 1e-3
#: Two-step models are closed-form up to the REML iteration tolerance.
TWO_STEP_RTOL = 1e-6


def _analysis(report: Report, name: str) -> Pooled:
    return next(a for a in report.analyses if a.name == name)


def _pooled(report: Report, kind: str) -> list[Pooled]:
    return [a for a in report.analyses if a.pooled and a.kind == kind]


def test_each_study_contributes_one_cohort_or_disjoint_arms(
    built: tuple[Path, Report], evidence: Evidence
) -> None:
    for analysis in built[1].analyses:
        cohorts = [row.cohort_key for row in analysis.rows]
        assert len(cohorts) == len(set(cohorts)), analysis.name
        by_study: dict[str, list[str]] = {}
        for row in analysis.rows:
            by_study.setdefault(row.study_key, []).append(row.cohort_key)
        for keys in by_study.values():
            if len(keys) == 1:
                continue
            arms = [evidence.cohort(k) for k in keys]
            assert all(c.role.value == "cart_product_arm" for c in arms), analysis.name
            assert len({c.products for c in arms}) == len(arms), analysis.name


def test_rows_trace_back_to_curated_outcomes(
    built: tuple[Path, Report], evidence: Evidence
) -> None:
    for analysis in _pooled(built[1], "proportion"):
        for row in analysis.rows:
            outcome = evidence.outcome(row.outcome_ref)
            cohort = evidence.cohort(row.cohort_key)
            assert outcome.cohort_key == cohort.key
            assert row.events == outcome.events
            assert row.n == (outcome.denominator or cohort.n)


def test_proportions_match_engine(built: tuple[Path, Report]) -> None:
    analyses = _pooled(built[1], "proportion")
    assert analyses, "expected at least one pooled proportion"
    for a in analyses:
        xi = [float(r.events or 0) for r in a.rows]
        ni = [float(r.n or 0) for r in a.rows]
        glmm = rma_glmm(xi, ni, measure="PLO", test="t")
        head = a.headline()
        assert head is not None
        assert head[0] == pytest.approx(100 / (1 + math.exp(-glmm.estimate)), rel=1e-12)
        es = escalc("PLO", xi=xi, ni=ni)
        sens = rma(es.yi, es.vi, method="REML", test="knha")
        assert a.sensitivity is not None
        assert a.sensitivity.estimate == pytest.approx(sens.estimate, rel=1e-12)
        assert a.sensitivity.tau2 == pytest.approx(sens.tau2, rel=1e-9, abs=1e-12)


#: Real-world 1-year OS with selected cohorts admitted: not a clinical analysis (the report never
#: pools selected cohorts) but the only way the curated base yields k ≥ 2 landmark rates, so the
#: landmark machinery and its R script stay checked against metafor.
WIDE = Population(
    key="rw_test_wide",
    label="test only: real-world CAR T cohorts, selected ones included",
    detail="selected cohorts admitted on purpose (machinery check)",
    roles=frozenset(
        {CohortRole.cart_all_comers, CohortRole.cart_product_arm, CohortRole.cart_selected}
    ),
    designs=REAL_WORLD_DESIGNS,
    bases=tuple(DenominatorBasis),
    diseases=LBCL_DISEASES,
)


@pytest.fixture(scope="module")
def landmark(evidence: Evidence) -> Pooled:
    pooled = pool_landmark("t_os", "test OS", evidence, WIDE, matches(Measure.os_rate, 12.0))
    assert pooled.pooled
    assert pooled.k >= 2
    return pooled


def test_landmark_matches_engine(built: tuple[Path, Report], landmark: Pooled) -> None:
    for a in [*_pooled(built[1], "landmark"), landmark]:
        eff = landmark_effects(
            [r.value for r in a.rows], ci_low=[r.ci_low for r in a.rows],
            ci_high=[r.ci_high for r in a.rows], n=[r.n for r in a.rows], unit="percent",
        )  # fmt: skip
        fit = rma(eff.yi, eff.vi, method="REML", test="knha")
        head = a.headline()
        assert head is not None
        assert head[0] == pytest.approx(100 * math.exp(-math.exp(fit.estimate)), rel=1e-12)


def _run_r(rscript: str, path: Path) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [rscript, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, dict[str, object]] = json.loads(done.stdout)
    return result


def _close(a: object, b: float, rtol: float) -> None:
    assert isinstance(a, float | int)
    assert float(a) == pytest.approx(b, rel=rtol, abs=rtol)


def test_proportion_script_matches_metafor(built: tuple[Path, Report], r_metafor: str) -> None:
    out, report = built
    analysis = max(_pooled(report, "proportion"), key=lambda a: a.k)
    r = _run_r(r_metafor, out / "analyses" / f"{analysis.name}.R")
    assert analysis.primary is not None
    assert analysis.sensitivity is not None
    _close(r["primary"]["estimate"], analysis.primary.estimate, GLMM_RTOL)
    _close(r["primary"]["tau2"], analysis.primary.tau2, 10 * GLMM_RTOL)
    head = analysis.headline()
    assert head is not None
    percent = r["primary"]["percent"]
    assert isinstance(percent, list)
    for ours, theirs in zip(head, percent, strict=True):
        _close(theirs, ours, GLMM_RTOL)
    for key in ("estimate", "se", "ci_low", "ci_high", "tau2", "i2", "q"):
        _close(r["sensitivity"][key], getattr(analysis.sensitivity, key), TWO_STEP_RTOL)


def test_landmark_script_matches_metafor(landmark: Pooled, r_metafor: str, tmp_path: Path) -> None:
    script = tmp_path / "landmark.R"
    script.write_text(r_script(landmark), encoding="utf-8")
    r = _run_r(r_metafor, script)
    assert landmark.primary is not None
    assert landmark.sensitivity is not None
    for key in ("estimate", "se", "ci_low", "ci_high", "tau2", "q"):
        _close(r["primary"][key], getattr(landmark.primary, key), TWO_STEP_RTOL)
        _close(r["sensitivity"][key], getattr(landmark.sensitivity, key), TWO_STEP_RTOL)
    head = landmark.headline()
    sens = landmark.sensitivity_percent()
    assert head is not None
    assert sens is not None
    for ours, theirs in zip(head, r["primary"]["percent"], strict=True):  # type: ignore[call-overload]
        _close(theirs, ours, TWO_STEP_RTOL)
    # The sensitivity is a logit fit: its printed % must be metafor's inverse logit, not
    # exp(-exp(y)) (that mix-up once printed 27–30 % survival as 67 %).
    for ours, theirs in zip(sens, r["sensitivity"]["percent"], strict=False):  # type: ignore[call-overload]
        _close(theirs, ours, TWO_STEP_RTOL)
