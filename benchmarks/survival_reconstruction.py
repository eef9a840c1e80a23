"""Print how well the Guyot reconstruction recovers simulated trials, against the issue-15 targets.

Run from the project root: ``.venv/bin/python benchmarks/survival_reconstruction.py [TRIALS]``.
Each trial has two arms with known patients; their exact Kaplan–Meier curves are digitised
with noise (``postcart.stats.survival.simulate``) and rebuilt with (a) a risk table every
3 months and the total events, (b) the total events and n0 only, (c) n0 only. The figures:
mean |S_rec(t) - S_true(t)| at 6, 12 and 24 months, the share of arms whose events are exact,
and |log HR_rec - log HR_true| (Cox, Efron) mean and 95th percentile. Targets apply to (a);
(b) and (c) are printed for comparison. A rougher digitisation (SD 0.05 months, 0.004) is
printed too. Exits 1 when (a) misses a target.
"""

from __future__ import annotations

import sys
import time

from postcart.stats.survival.simulate import Accuracy, accuracy_study

TARGETS = {"ds": 0.005, "dloghr_mean": 0.03, "dloghr_p95": 0.07}


def line(label: str, acc: Accuracy, seconds: float) -> str:
    ds = "  ".join(f"|dS({t:g})| {v:.4f}" for t, v in acc.mean_abs_ds.items())
    return (
        f"{label:<34} {ds}  events exact {100 * acc.events_exact:5.1f}%  "
        f"|dlogHR| mean {acc.mean_abs_dloghr:.4f} p95 {acc.p95_abs_dloghr:.4f}  ({seconds:.1f} s)"
    )


def main(trials: int) -> int:
    print(f"{trials} simulated two-arm trials, seed 20120209")
    print(
        f"targets (risk table): mean |dS| <= {TARGETS['ds']} at 6/12/24 mo, events exact, "
        f"|dlogHR| mean <= {TARGETS['dloghr_mean']}, p95 <= {TARGETS['dloghr_p95']}"
    )
    results = {}
    for info, label in (
        ("risk_table", "risk table every 3 mo + events"),
        ("events", "n0 + total events"),
        ("n0", "n0 only"),
    ):
        started = time.perf_counter()
        acc = accuracy_study(trials, info=info)  # type: ignore[arg-type]
        results[info] = acc
        print(line(label, acc, time.perf_counter() - started))
    started = time.perf_counter()
    acc = accuracy_study(trials, info="risk_table", noise_time=0.05, noise_surv=0.004)
    print(line("rough digitising, risk table", acc, time.perf_counter() - started))
    main_acc = results["risk_table"]
    ok = (
        all(v <= TARGETS["ds"] for v in main_acc.mean_abs_ds.values())
        and main_acc.events_exact == 1.0
        and main_acc.mean_abs_dloghr <= TARGETS["dloghr_mean"]
        and main_acc.p95_abs_dloghr <= TARGETS["dloghr_p95"]
    )
    print("targets MET" if ok else "targets MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
