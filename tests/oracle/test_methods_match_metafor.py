"""Funnel data, cumulative meta-analysis, Baujat coordinates and prediction-interval types
against metafor 3.8-1 (``funnel``, ``cumul``, ``baujat``, ``predict(pi.type=)``): pinned
(``reference/methods.json``, written by ``r/methods.R``) and live.

metafor computes the funnel's pseudo-confidence region only to draw it, so ``r/methods.R``
reads the polygons back from the recorded plot: the numbers compared are the ones metafor drew.
The pinned file keeps every 111th of the 1000 region points; the live comparison uses all.
Cases cover metadat data, k = 1, 2, 3, τ² = 0 at the boundary, and zero- and all-event studies.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from postcart.errors import InputError
from postcart.stats import baujat, cumul, escalc, funnel, rma
from postcart.stats.funnel import REGION_POINTS, YAxis
from postcart.stats.inference import PiType

from .compare import REL_TOL, relative_difference
from .conftest import load_reference
from .r_session import RSession

pytestmark = pytest.mark.metafor

FUNNEL_AXES: tuple[YAxis, ...] = (
    "sei",
    "vi",
    "seinv",
    "vinv",
    "ni",
    "ninv",
    "sqrtni",
    "sqrtninv",
    "lni",
    "wi",
)
PI_TYPES: tuple[PiType, ...] = ("default", "riley", "t", "simple")
SEED = 20261202


def _vec(value: Any) -> list[Any]:
    """jsonlite unboxes length-1 vectors; give every vector back as a list."""
    return value if isinstance(value, list) else [value]


def _error(answer: Any) -> bool:
    return isinstance(answer, dict) and set(answer) == {"error"}


def _kept(every: int) -> list[int]:
    """The region points ``r/methods.R`` keeps: every n-th and the last (0-based)."""
    return sorted({*range(0, REGION_POINTS, every), REGION_POINTS - 1})


def _labels(k: int) -> list[str]:
    return [f"s{i}" for i in range(1, k + 1)]


def ours_methods(case: dict[str, Any]) -> dict[str, Any]:
    """Our answers in the layout of ``oracle_methods`` (errors as ``{"error": ...}``)."""
    yi, vi, ni = (np.asarray(_vec(case[key]), dtype=float) for key in ("yi", "vi", "ni"))
    key, k = _vec(case["key"]), len(yi)
    model = {"method": case["method"], "test": case["test"]}
    every = int(case.get("every", 1))
    out: dict[str, Any] = {"funnel": [], "cumul": []}
    fit = rma(yi, vi, level=case["level"], **model)
    out["fit"] = {"estimate": fit.estimate, "se": fit.se, "tau2": fit.tau2, "test": fit.test}
    for yaxis in FUNNEL_AXES:
        try:
            data = funnel(yi, vi, ni=ni, yaxis=yaxis, level=_vec(case["levels"]),
                          addtau2=bool(case["addtau2"]), **model)  # fmt: skip
        except InputError as exc:
            out["funnel"].append({"error": str(exc)})
            continue
        keep = _kept(every)
        out["funnel"].append({
            "yaxis": yaxis, "x": data.x.tolist(), "y": data.y.tolist(), "xlim": list(data.xlim),
            "ylim": list(data.ylim), "every": every,
            "regions": [{"grid": data.grid[keep].tolist(), "lower": r.lower[keep].tolist(),
                         "upper": r.upper[keep].tolist()} for r in data.regions],
        })  # fmt: skip
    for decreasing in (False, True):
        cu = cumul(yi, vi, order=key, decreasing=decreasing, labels=_labels(k),
                   level=case["level"], measure=case["measure"], **model)  # fmt: skip
        steps = {name: getattr(cu, name).tolist() for name in
                 ("estimate", "se", "stat", "pval", "ci_low", "ci_high", "q", "q_p", "tau2",
                  "i2", "h2", "back_estimate", "back_ci_low", "back_ci_high")}  # fmt: skip
        out["cumul"].append({"decreasing": decreasing, **steps, "slab": list(cu.labels)})
    try:
        b = baujat(yi, vi, **model)
        out["baujat"] = {"x": b.x.tolist(), "y": b.y.tolist(), "ids": list(range(1, k + 1))}
    except InputError as exc:
        out["baujat"] = {"error": str(exc)}
    out["predict"] = {}
    for pi_type in PI_TYPES:
        r = rma(yi, vi, level=case["level"], pi_type=pi_type, **model)
        out["predict"][pi_type] = {"pi_type": pi_type, "pi_low": r.pi_low, "pi_high": r.pi_high}
    return out


def compare(ours: Any, theirs: Any, path: str, worst: dict[str, float]) -> list[str]:
    """Walk metafor's answer and list every disagreement beyond ``REL_TOL``."""
    if _error(theirs):
        return [] if _error(ours) else [f"{path}: metafor failed ({theirs['error']}), we did not"]
    if _error(ours):
        return [f"{path}: we failed ({ours['error']}), metafor did not"]
    if isinstance(theirs, dict):
        return [p for key, val in theirs.items() if key != "pi_df"
                for p in compare(ours[key], val, f"{path}.{key}", worst)]  # fmt: skip
    if isinstance(theirs, list) or isinstance(ours, list):
        t, o = _vec(theirs), _vec(ours)
        if len(t) != len(o):
            return [f"{path}: length ours {len(o)}, metafor {len(t)}"]
        return [p for i, (a, b) in enumerate(zip(o, t, strict=True))
                for p in compare(a, b, f"{path}[{i}]", worst)]  # fmt: skip
    if isinstance(theirs, str | bool) or isinstance(ours, str | bool):
        same = ours == theirs or str(ours) == str(theirs)
        return [] if same else [f"{path}: ours {ours!r}, metafor {theirs!r}"]
    a = math.nan if ours is None else float(ours)
    b = math.nan if theirs is None else float(theirs)
    if not (math.isfinite(a) and math.isfinite(b)):
        same = (math.isnan(a) and math.isnan(b)) or a == b
        return [] if same else [f"{path}: ours {a!r}, metafor {b!r}"]
    rel = relative_difference(a, b)
    topic = ".".join(part.split("[")[0] for part in path.split(".")[1:3])
    worst[topic] = max(worst.get(topic, 0.0), rel)
    return [] if rel <= REL_TOL else [f"{path}: ours {a!r}, metafor {b!r} (rel {rel:.2e})"]


def _check(pairs: list[tuple[dict[str, Any], Any]]) -> dict[str, float]:
    worst: dict[str, float] = {}
    problems = [p for case, theirs in pairs
                for p in compare(ours_methods(case), theirs, case["id"], worst)]  # fmt: skip
    assert not problems, "\n".join(problems[:40])
    return worst


def test_pinned_reference() -> None:
    reference = load_reference("methods")
    assert reference["metafor_version"].startswith("3.8")
    pairs = [(entry["case"], entry["metafor"]) for entry in reference["cases"]]
    assert len(pairs) == 28
    worst = _check(pairs)
    # Every topic was compared on numbers, not only on errors.
    assert {"funnel.regions", "cumul.estimate", "baujat.y", "predict.riley"} <= set(worst)


def test_pinned_edges_are_what_the_brief_names() -> None:
    """k = 1 (Baujat refused, as metafor), k = 2 and 3 (Riley df floored at 1), τ² = 0."""
    cases = {e["case"]["id"]: e for e in load_reference("methods")["cases"]}
    assert cases["k1-REML-z"]["metafor"]["baujat"] == {"error": "Stopped because k = 1."}
    for name in ("k1", "k2", "k3"):
        assert cases[f"{name}-REML-z"]["metafor"]["predict"]["riley"]["pi_df"] == 1
    assert cases["homogeneous-REML-z"]["metafor"]["fit"]["tau2"] == 0
    zero_all = cases["zero_all-REML-z"]["case"]
    assert _vec(zero_all["ni"])[1] == 12  # the all-event study (12/12)


def random_cases() -> list[dict[str, Any]]:
    """Seeded proportions (with zero- and all-event studies), k = 1 … 30, several models."""
    rng = np.random.default_rng(SEED)
    settings = [("REML", "z"), ("REML", "knha"), ("DL", "t"), ("FE", "z"), ("ML", "adhoc"),
                ("PM", "knha"), ("HE", "z"), ("SJ", "z")]  # fmt: skip
    cases = []
    for i, k in enumerate((1, 2, 3, 4, 5, 7, 10, 15, 22, 30)):
        ni = rng.integers(5, 300, size=k)
        p = rng.beta(2, 2, size=k)
        xi = rng.binomial(ni, p)
        if k >= 4:
            xi[0], xi[1] = 0, ni[1]
        es = escalc("PLO", xi=xi, ni=ni)
        method, test = settings[i % len(settings)]
        key = rng.integers(2015, 2026, size=k).tolist()
        cases.append({
            "id": f"random{i}-k{k}-{method}-{test}", "yi": es.yi.tolist(), "vi": es.vi.tolist(),
            "ni": ni.tolist(), "key": key, "measure": "PLO", "method": method, "test": test,
            "level": 95, "levels": [90, 95, 99] if i % 2 else [95], "addtau2": i % 3 == 0,
            "every": 1,
        })  # fmt: skip
    return cases


def test_live_pinned_cases(r_session: RSession) -> None:
    answers = r_session.call(
        "lapply(methods_cases(), function(c) list(case = c, metafor = oracle_methods(c)))"
    )
    _check([(entry["case"], entry["metafor"]) for entry in answers])


def test_live_random_cases_every_region_point(r_session: RSession) -> None:
    cases = random_cases()
    answers = r_session.call("oracle_methods_batch(d$cases)", {"cases": cases})
    worst = _check(list(zip(cases, answers, strict=True)))
    assert max(worst.values()) <= REL_TOL
