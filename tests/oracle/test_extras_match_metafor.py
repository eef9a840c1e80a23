"""Meta-regression, small-study tests, trim-and-fill, leave-one-out, influence and subgroups
against metafor 3.8-1: live (seeded random data and metadat) and pinned (``extras.json``).

Every number metafor returns is compared within ``REL_TOL`` (1e-6 relative, with an absolute
floor for values that should be zero); strings and flags must be equal.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pytest

from postcart.stats.influence import Influence, influence, leave1out
from postcart.stats.regression import MetaRegression, meta_regression
from postcart.stats.small_study import Predictor, ranktest, regtest, trimfill
from postcart.stats.subgroups import subgroup_analysis

from .compare import REL_TOL, relative_difference
from .conftest import load_reference
from .r_session import RSession

pytestmark = pytest.mark.metafor

#: τ² estimators that the moderator-capable engine (regression.py) supports.
METHODS = ("REML", "ML", "DL", "HE", "FE")
TESTS = ("z", "knha")
#: Seeded datasets for the live comparison: (k, heterogeneity τ, asymmetry strength, ties).
RANDOM_SHAPES = ((5, 0.0, 0.0, False), (8, 0.3, 0.5, False), (12, 0.5, 0.0, True),
                 (20, 0.2, 1.0, False), (30, 0.4, 0.6, False), (45, 0.1, 0.0, True))  # fmt: skip
#: Larger datasets are fitted with fewer (method, test) pairs: metafor's refits are slow.
LARGE_K = 25
LARGE_K_PAIRS = (("REML", "z"), ("DL", "knha"), ("FE", "z"), ("ML", "knha"))
SEED = 20261124
REGTEST_CONFIGS: tuple[tuple[Literal["rma", "lm"], Predictor], ...] = (
    ("rma", "sei"), ("lm", "sei"), ("rma", "ninv"), ("lm", "sqrtninv"),
)  # fmt: skip


def _reg(fit: MetaRegression) -> dict[str, Any]:
    return {
        "b": fit.beta, "se": fit.se, "stat": fit.stat, "pval": fit.pval, "ci_low": fit.ci_low,
        "ci_high": fit.ci_high, "tau2": fit.tau2, "se_tau2": fit.se_tau2, "i2": fit.i2,
        "h2": fit.h2, "r2": fit.r2, "qe": fit.qe, "qe_p": fit.qe_p, "qm": fit.qm,
        "qm_df": list(fit.qm_df), "qm_p": fit.qm_p,
    }  # fmt: skip


def _infl(res: Influence) -> dict[str, Any]:
    return {
        "rstudent": res.rstudent, "dffits": res.dffits, "cook.d": res.cook_d, "cov.r": res.cov_r,
        "tau2.del": res.tau2_del, "QE.del": res.qe_del, "hat": res.hat, "weight": res.weight,
        "dfbetas": res.dfbetas, "inf": res.inf.tolist(),
    }  # fmt: skip


def ours_extras(case: dict[str, Any]) -> dict[str, Any]:
    """Our answers in the layout of ``oracle_extras`` (tests/oracle/r/extras.R)."""
    y, v, ni = (np.asarray(case[key], dtype=float) for key in ("yi", "vi", "ni"))
    x1, x2 = np.asarray(case["x1"], dtype=float), np.asarray(case["x2"], dtype=float)
    method, test = case["method"], case["test"]
    out: dict[str, Any] = {
        "reg1": _reg(meta_regression(y, v, x1, method=method, test=test)),
        "reg2": _reg(meta_regression(y, v, np.column_stack([x1, x2]), method=method, test=test)),
    }
    out["regtest"] = []
    for model, predictor in REGTEST_CONFIGS:
        rt = regtest(y, v, ni=ni, model=model, predictor=predictor, method=method, test=test)
        out["regtest"].append({
            "model": model, "predictor": predictor, "stat": rt.stat, "pval": rt.pval,
            "ddf": rt.ddf, "est": rt.limit_estimate, "ci_low": rt.limit_ci_low,
            "ci_high": rt.limit_ci_high,
        })  # fmt: skip
    rk = ranktest(y, v)
    out["ranktest"] = {"tau": rk.tau, "pval": rk.pval}
    out["trimfill"] = []
    for estimator in ("L0", "R0"):
        tf = trimfill(y, v, method=method, estimator=estimator, test=test)
        out["trimfill"].append({
            "estimator": estimator, "k0": tf.k0, "se_k0": tf.se_k0, "side": tf.side,
            "estimate": tf.fit.beta[0], "se": tf.fit.se[0], "ci_low": tf.fit.ci_low[0],
            "ci_high": tf.fit.ci_high[0], "tau2": tf.fit.tau2, "yi": tf.yi, "vi": tf.vi,
        })  # fmt: skip
    l1o = leave1out(y, v, method=method, test=test)
    keys = ("estimate", "se", "stat", "pval", "ci_low", "ci_high", "q", "q_p", "tau2", "i2", "h2")
    out["leave1out"] = {key: getattr(l1o, key) for key in keys}
    out["influence"] = _infl(influence(y, v, method=method, test=test))
    out["influence1"] = _infl(influence(y, v, x1, method=method, test=test))
    sep = subgroup_analysis(y, v, case["g"], method=method, test=test)
    com = subgroup_analysis(y, v, case["g"], method=method, test=test, tau2="common")
    out["subgroups"] = {
        "separate": {"estimate": sep.estimate, "se": sep.se, "tau2": [f.tau2 for f in sep.fits],
                     "q": sep.q_between, "q_df": sep.q_between_df[0], "q_p": sep.q_between_p},
        "common": {"estimate": com.estimate, "se": com.se, "tau2": com.common_tau2,
                   "q": com.q_between, "q_df": list(com.q_between_df), "q_p": com.q_between_p},
    }  # fmt: skip
    return out


def _scalar(x: Any) -> float:
    return math.nan if x is None else float(x)


def compare(ours: Any, theirs: Any, path: str, worst: dict[str, float]) -> list[str]:
    """Walk metafor's answer; list every disagreement (numbers beyond REL_TOL)."""
    if isinstance(theirs, dict):
        return [
            p
            for key, val in theirs.items()
            for p in compare(ours[key], val, f"{path}.{key}", worst)
        ]
    if isinstance(ours, np.ndarray):
        ours = ours.tolist()
    if isinstance(theirs, list) or isinstance(ours, list):
        t = theirs if isinstance(theirs, list) else [theirs]
        o = ours if isinstance(ours, list) else [ours]
        if len(o) != len(t):
            return [f"{path}: length ours {len(o)}, metafor {len(t)}"]
        return [p for i, (a, b) in enumerate(zip(o, t, strict=True))
                for p in compare(a, b, f"{path}[{i}]", worst)]  # fmt: skip
    if isinstance(theirs, str | bool) or isinstance(ours, str | bool):
        return [] if ours == theirs else [f"{path}: ours {ours!r}, metafor {theirs!r}"]
    a, b = _scalar(ours), _scalar(theirs)
    if math.isnan(a) or math.isnan(b):
        return [] if math.isnan(a) == math.isnan(b) else [f"{path}: ours {a!r}, metafor {b!r}"]
    rel = relative_difference(a, b)
    key = path.split(".", 1)[1] if "." in path else path
    worst[key.split("[")[0]] = max(worst.get(key.split("[")[0], 0.0), rel)
    return [] if rel <= REL_TOL else [f"{path}: ours {a!r}, metafor {b!r} (rel {rel:.2e})"]


def random_cases() -> list[dict[str, Any]]:
    """Seeded datasets (with ties and funnel asymmetry on purpose) × methods × tests."""
    rng = np.random.default_rng(SEED)
    cases = []
    for i, (k, tau, asym, ties) in enumerate(RANDOM_SHAPES):
        ni = rng.integers(15, 400, size=k)
        vi = 4.0 / ni * rng.uniform(0.8, 1.25, size=k)
        if ties:
            vi = np.round(vi, 2) + 0.01
        yi = rng.normal(0.2 + asym * np.sqrt(vi), np.sqrt(vi + tau**2))
        data = {"yi": yi.tolist(), "vi": vi.tolist(), "ni": ni.tolist(),
                "x1": rng.normal(0, 1, size=k).tolist(), "x2": rng.uniform(0, 10, size=k).tolist(),
                "g": [("a", "b", "c")[j % (2 + i % 2)] for j in range(k)]}  # fmt: skip
        pairs = LARGE_K_PAIRS if k > LARGE_K else [(m, t) for m in METHODS for t in TESTS]
        cases += [{**data, "id": f"r{i}-k{k}-{m}-{t}", "method": m, "test": t} for m, t in pairs]
    return cases


def _check_all(pairs: list[tuple[dict[str, Any], Any]]) -> dict[str, float]:
    worst: dict[str, float] = {}
    problems = [
        p for case, theirs in pairs for p in compare(ours_extras(case), theirs, case["id"], worst)
    ]
    assert not problems, "\n".join(problems[:40])
    return worst


def test_pinned_metadat_reference() -> None:
    reference = load_reference("extras")
    assert reference["metafor_version"].startswith("3.8")
    pairs = [(entry["case"], entry["metafor"]) for entry in reference["cases"]]
    assert len(pairs) == 12
    worst = _check_all(pairs)
    assert max(worst.values()) <= REL_TOL


def test_live_metadat(r_session: RSession) -> None:
    answers = r_session.call(
        "lapply(extras_metadat_cases(), function(c) list(case = c, metafor = oracle_extras(c)))"
    )
    _check_all([(entry["case"], entry["metafor"]) for entry in answers])


@pytest.mark.slow
def test_live_random(r_session: RSession) -> None:
    cases = random_cases()
    answers = r_session.call("oracle_extras_batch(d$cases)", {"cases": cases})
    assert len(answers) == len(cases) == 48
    worst = _check_all(list(zip(cases, answers, strict=True)))
    assert set(worst) >= {"reg2.b", "trimfill", "influence1.dffits", "subgroups.common.q"}


#: Every estimator and test meta_regression offers (the main grid above keeps to five and two).
ALL_METHODS = ("FE", "DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS")
ALL_TESTS = ("z", "t", "knha", "adhoc")


def test_live_regression_every_estimator_and_test(r_session: RSession) -> None:
    """One and two moderators, all 9 estimators × 4 tests on the seeded datasets."""
    datasets = {case["id"].split("-")[0]: case for case in random_cases()}
    grid = [(m, t) for m in ALL_METHODS for t in ALL_TESTS]
    cases = [{**data, "id": f"{name}-{m}-{t}", "method": m, "test": t}
             for name, data in datasets.items() for m, t in grid]  # fmt: skip
    answers = r_session.call("oracle_regression(d$cases)", {"cases": cases})
    worst: dict[str, float] = {}
    problems, compared = [], 0
    for case, theirs in zip(cases, answers, strict=True):
        both = np.column_stack([case["x1"], case["x2"]])
        for key, mods in (("reg1", case["x1"]), ("reg2", both)):
            fit = meta_regression(case["yi"], case["vi"], mods, method=case["method"],
                                  test=case["test"])  # fmt: skip
            if "error" in theirs[key]:
                assert not fit.converged, f"{case['id']} {key}: metafor: {theirs[key]['error']}"
                continue
            compared += 1
            problems += compare(_reg(fit), theirs[key], f"{case['id']}.{key}", worst)
    assert compared >= 400
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("method", ["PM", "SJ", "EB", "HS"])
def test_live_leave1out_other_estimators(r_session: RSession, method: str) -> None:
    """leave1out runs on the core ``rma``, so every estimator it offers is checked too."""
    case = random_cases()[20]
    l1o = leave1out(case["yi"], case["vi"], method=method, test="knha")
    theirs = r_session.call(
        f"l <- leave1out(rma(d$yi, d$vi, method = '{method}', test = 'knha'));"
        " list(estimate = l$estimate, se = l$se, ci_low = l$ci.lb, tau2 = l$tau2, i2 = l$I2)",
        case,
    )
    worst: dict[str, float] = {}
    problems = [p for key, val in theirs.items()
                for p in compare(getattr(l1o, key), val, f"l1o.{key}", worst)]  # fmt: skip
    assert not problems, "\n".join(problems)
