"""The catalogue of analyses the report runs: real-world CAR T outcomes, products, salvage."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from postcart.evidence import Evidence
from postcart.evidence.vocab import Measure
from postcart.report.pooling import (
    Pooled,
    landmark_usable,
    pool_landmark,
    pool_proportion,
)
from postcart.report.pooling import percent as pooled_percent
from postcart.report.populations import (
    REAL_WORLD_CART,
    Population,
    real_world_product,
    salvage,
)
from postcart.report.selection import choose, denominator, has_events, matches
from postcart.stats import escalc
from postcart.stats.landmark import landmark_effects, with_back_transform
from postcart.stats.subgroups import subgroup_analysis

#: (measure, landmark months or None, label): the outcomes of the review's Tables 2–3.
CART_OUTCOMES: tuple[tuple[Measure, float | None, str], ...] = (
    (Measure.orr, None, "Overall response"),
    (Measure.cr, None, "Complete response"),
    (Measure.os_rate, 12.0, "1-year overall survival"),
    (Measure.pfs_rate, 12.0, "1-year progression-free survival"),
    (Measure.crs_any, None, "CRS, any grade"),
    (Measure.crs_g3plus, None, "CRS, grade ≥3"),
    (Measure.icans_any, None, "ICANS/neurotoxicity, any grade"),
    (Measure.icans_g3plus, None, "ICANS/neurotoxicity, grade ≥3"),
)
#: Outcomes compared across salvage therapies.
SALVAGE_OUTCOMES: tuple[tuple[Measure, float | None, str], ...] = (
    (Measure.orr, None, "Overall response"),
    (Measure.cr, None, "Complete response"),
    (Measure.os_rate, 12.0, "1-year overall survival"),
)
PRODUCTS = ("axi-cel", "tisa-cel")


def _run(
    name: str,
    title: str,
    evidence: Evidence,
    population: Population,
    measure: Measure,
    months: float | None,
) -> Pooled:
    wanted = matches(measure, months)
    if months is None:
        return pool_proportion(name, title, evidence, population, wanted)
    return pool_landmark(name, title, evidence, population, wanted)


def cart_analyses(evidence: Evidence) -> list[Pooled]:
    """Real-world CAR T outcomes in LBCL, all products together, all-comers only."""
    return [
        _run(
            f"rw_{m.value}",
            f"{label} after CD19 CAR T (real-world LBCL)",
            evidence,
            REAL_WORLD_CART,
            m,
            months,
        )
        for m, months, label in CART_OUTCOMES
    ]


def salvage_analyses(evidence: Evidence) -> list[Pooled]:
    """Each salvage therapy's outcomes in patients treated after CAR T failure."""
    out = []
    for therapy in evidence.therapies:
        population = salvage(therapy.key, therapy.name)
        for m, months, label in SALVAGE_OUTCOMES:
            name = f"salvage_{therapy.key}_{m.value}"
            out.append(_run(name, f"{label}: {therapy.name}", evidence, population, m, months))
    return out


@dataclass(frozen=True)
class ProductComparison:
    """Axi-cel versus tisa-cel for one outcome: per-product pooled values and Q-between."""

    name: str
    title: str
    levels: tuple[str, ...]
    k: tuple[int, ...]
    percent: tuple[tuple[float, float, float], ...]
    studies: tuple[tuple[str, ...], ...]
    q_between: float | None
    q_between_p: float | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "name": self.name, "title": self.title, "levels": list(self.levels),
            "k": list(self.k), "percent": [[round(v, 6) for v in p] for p in self.percent],
            "studies": [list(s) for s in self.studies], "q_between": self.q_between,
            "q_between_p": self.q_between_p, "note": self.note,
        }  # fmt: skip


PRODUCT_METHOD = (
    "Separate random-effects fits per product (REML τ², Wald z; logit scale for proportions, "
    "log(−log) for landmark rates), Wald-type Q-between test of subgroup differences. "
    "Only product-specific all-comer cohorts enter (one per study and product); the overlap "
    "register applies within each product."
)


def product_comparisons(evidence: Evidence) -> list[ProductComparison]:
    """Axi-cel vs tisa-cel for every CAR T outcome, or the reason it cannot be done."""
    out = []
    for m, months, label in CART_OUTCOMES:
        yi: list[float] = []
        vi: list[float] = []
        groups: list[str] = []
        names: list[list[str]] = []
        for product in PRODUCTS:
            usable = has_events if months is None else landmark_usable
            population = real_world_product(product)
            chosen = choose(evidence, population, matches(m, months), usable).chosen
            y, v = _effects(chosen, months)
            yi += y
            vi += v
            groups += [product] * len(y)
            names.append([c.study.name for c in chosen])
        out.append(_compare(f"products_{m.value}", label, yi, vi, groups, names, months))
    return out


def _effects(chosen: list[Any], months: float | None) -> tuple[list[float], list[float]]:
    if not chosen:
        return [], []
    if months is None:
        es = escalc(
            "PLO",
            xi=[float(c.outcome.events or 0) for c in chosen],
            ni=[float(denominator(c.outcome, c.cohort) or 0) for c in chosen],
        )
        return [float(v) for v in es.yi], [float(v) for v in es.vi]
    eff = landmark_effects(
        [c.outcome.value for c in chosen], ci_low=[c.outcome.ci_low for c in chosen],
        ci_high=[c.outcome.ci_high for c in chosen], n=[c.cohort.n for c in chosen],
        scale="cloglog", unit="percent",
    )  # fmt: skip
    return [float(v) for v in eff.yi], [float(v) for v in eff.vi]


def _compare(
    name: str,
    label: str,
    yi: list[float],
    vi: list[float],
    groups: list[str],
    names: list[list[str]],
    months: float | None,
) -> ProductComparison:
    ks = tuple(len(n) for n in names)
    if min(ks) == 0 or sum(ks) < 3:
        note = "Too few product-specific studies to compare (need ≥1 per product and ≥3 in all)."
        return ProductComparison(name, label, PRODUCTS, ks, (), tuple(map(tuple, names)),
                                 None, None, note)  # fmt: skip
    res = subgroup_analysis(np.array(yi), np.array(vi), groups, method="REML", test="z")
    scale: Any = "logit" if months is None else "cloglog"
    # The scale rides on each fit (with_back_transform); nothing here inverts a link by hand.
    percent = [pooled_percent(with_back_transform(fit, scale))[:3] for fit in res.fits]
    q = float(res.q_between) if math.isfinite(res.q_between) else None
    p = float(res.q_between_p) if math.isfinite(res.q_between_p) else None
    note = "A product with k = 1 is that study's own estimate (no heterogeneity to estimate)."
    return ProductComparison(name, label, res.levels, ks, tuple(percent),
                             tuple(map(tuple, names)), q, p, note)  # fmt: skip
