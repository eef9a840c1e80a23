"""KM, Greenwood band, median CI and Cox HR on reconstructed data equal R ``survival``.

Pinned: ``reference/survival_reference.json`` (written by ``survival_reference.R``) holds R's
answers with their inputs; our functions must reproduce them. Live: the same R script answers
cases made here — patients *reconstructed* from simulated, digitised curves, full of ties —
so the comparison is on exactly the data the survival synthesis produces.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.conftest import _r_has, need

from postcart.stats.survival import coxph, kaplan_meier
from postcart.stats.survival.km import ConfType
from postcart.stats.survival.simulate import rebuild, simulate_arm

from .conftest import load_reference

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "survival_reference.R"
REL = 1e-6


def _close(ours: float, theirs: float | None, what: str) -> None:
    if theirs is None or (isinstance(theirs, float) and math.isnan(theirs)):
        assert not math.isfinite(ours) or math.isnan(ours), f"{what}: R has NA, we have {ours}"
        return
    if math.isinf(theirs):
        assert ours == theirs, f"{what}: R {theirs}, ours {ours}"
        return
    assert ours == pytest.approx(theirs, rel=REL, abs=1e-12), f"{what}: R {theirs}, ours {ours}"


def _vector(ours: np.ndarray[Any, Any], theirs: list[Any], what: str) -> None:
    assert len(ours) == len(theirs), f"{what}: length {len(ours)} vs R {len(theirs)}"
    for i, (a, b) in enumerate(zip(ours.tolist(), theirs, strict=True)):
        _close(float(a), b, f"{what}[{i}]")


def compare_case(case: dict[str, Any], answer: dict[str, Any]) -> None:
    """Every key R gave for ``case`` against ours (1e-6 relative)."""
    conf: ConfType = case.get("conf_type") or "log"
    km = kaplan_meier(case["time"], case["event"], conf_type=conf)
    r_km = answer["km"]
    for key in ("time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper"):
        theirs = r_km[key] if isinstance(r_km[key], list) else [r_km[key]]
        _vector(getattr(km, key), theirs, key)
    med = km.median()
    for key in ("estimate", "ci_low", "ci_high"):
        _close(getattr(med, key), answer["median"][key], f"median.{key}")
    if "arm" in case and case["arm"] is not None:
        for ties in ("efron", "breslow"):
            fit = coxph(case["time"], case["event"], case["arm"], ties=ties)
            for key in ("coef", "se", "loglik", "loglik_null"):
                _close(getattr(fit, key), answer[f"cox_{ties}"][key], f"cox_{ties}.{key}")


PINNED = load_reference("survival_reference")["cases"]


@pytest.mark.parametrize("entry", PINNED, ids=[c["name"] for c in PINNED])
def test_pinned_r_survival_answers(entry: dict[str, Any]) -> None:
    compare_case(entry["input"], entry)


def _reconstructed_cases() -> list[dict[str, Any]]:
    rng = np.random.default_rng(15)
    cases: list[dict[str, Any]] = []
    for i in range(12):
        info = "risk_table" if i < 8 else ("events" if i < 10 else "n0")
        arms = [simulate_arm(rng, int(rng.integers(40, 160)), hr=h) for h in (1.0, 0.7)]
        recs = [rebuild(arm, rng, info) for arm in arms]  # type: ignore[arg-type]
        cases.append(
            {
                "time": np.concatenate([r.time for r in recs]).tolist(),
                "event": np.concatenate([r.event for r in recs]).tolist(),
                "arm": [0] * recs[0].n + [1] * recs[1].n,
            }
        )
    return cases


@pytest.fixture(scope="module")
def live_answers(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Any], list[Any]]:
    """R's answers for the pinned inputs and for reconstructed cases, in one Rscript run."""
    need(_r_has("survival"), "Rscript with the survival package (r-cran-survival)")
    rscript = shutil.which("Rscript")
    assert rscript is not None
    cases = [dict(c["input"]) for c in PINNED] + _reconstructed_cases()
    folder = tmp_path_factory.mktemp("survival_oracle")
    src, dst = folder / "in.json", folder / "out.json"
    src.write_text(json.dumps(cases), encoding="utf-8")
    subprocess.run([rscript, "--vanilla", str(SCRIPT), str(src), str(dst)], check=True)
    from .r_session import decode_non_finite

    return cases, decode_non_finite(json.loads(dst.read_text(encoding="utf-8")))


def test_reconstructed_data_match_live_r(live_answers: tuple[list[Any], list[Any]]) -> None:
    cases, answers = live_answers
    rebuilt = cases[len(PINNED) :]
    assert len(rebuilt) == 12
    for case, answer in zip(rebuilt, answers[len(PINNED) :], strict=True):
        compare_case(case, answer)


def _same(pinned: Any, live: Any, where: str) -> None:
    if pinned is None or live is None:
        assert pinned is None, f"{where}: pinned {pinned}, live NA"
        assert live is None, f"{where}: pinned NA, live {live}"
    elif isinstance(pinned, float) and math.isnan(pinned):
        assert math.isnan(float(live)), f"{where}: pinned NaN, live {live}"
    else:
        assert pinned == pytest.approx(live, rel=1e-12, abs=1e-15), (
            f"{where}: pinned {pinned}, live {live}"
        )


def test_pinned_reference_equals_live_r(live_answers: tuple[list[Any], list[Any]]) -> None:
    """An upgrade of R survival that moves a number shows up here as a diff."""
    _, answers = live_answers
    for entry, live in zip(PINNED, answers[: len(PINNED)], strict=True):
        for block in ("km", "median", "cox_efron", "cox_breslow"):
            for key, value in entry.get(block, {}).items():
                theirs = live[block][key]
                mine = value if isinstance(value, list) else [value]
                theirs = theirs if isinstance(theirs, list) else [theirs]
                for a, b in zip(mine, theirs, strict=True):
                    _same(a, b, f"{entry['name']} {block}.{key}")
