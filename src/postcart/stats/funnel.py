"""Funnel-plot data as metafor's ``funnel()``: the points, the reference line and the
pseudo-confidence region, as numbers (the drawing lives in ``postcart.report.plots.funnel``).

Why a sample-size axis: for proportions on the logit scale the sampling variance
1/(n·p(1−p)) depends on the proportion itself, so studies with extreme proportions have large
standard errors whatever their size. A logit funnel on the usual standard-error axis then looks
asymmetric with no publication bias at all (Hunter et al. 2014, J Clin Epidemiol 67:897).
Plotting against the sample size (``yaxis="ni"``, ``"sqrtni"``, ``"lni"``…) removes that
artefact. metafor draws no pseudo-confidence region on sample-size axes (a region needs a
variance for each height, which n alone does not give), and neither do we.

On the variance-type axes (``"sei"``, ``"vi"``, ``"seinv"``, ``"vinv"``) the region at a height
with sampling variance v is ``refline ± z_{α/2}·sqrt(v + τ²)`` (τ² only with ``addtau2``),
evaluated on metafor's grid of 1000 heights spanning the axis plus 10 %. Several levels give a
contour-enhanced funnel; regions are listed widest first, the order metafor draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
from scipy import stats

from postcart.errors import InputError
from postcart.stats._checks import FloatArray, as_vector, check_level, effects_and_variances
from postcart.stats.rma import rma

#: y axes, spelled as metafor's ``funnel(yaxis=)``.
YAxis = Literal["sei", "vi", "seinv", "vinv", "ni", "ninv", "sqrtni", "sqrtninv", "lni", "wi"]
YAXES: tuple[str, ...] = get_args(YAxis)
#: Axes with a pseudo-confidence region (a sampling variance at every height).
VARIANCE_AXES: frozenset[str] = frozenset({"sei", "vi", "seinv", "vinv"})
#: Axes that need the study sizes ``ni``.
SIZE_AXES: frozenset[str] = frozenset({"ni", "ninv", "sqrtni", "sqrtninv", "lni"})
#: Axes drawn with the largest value at the bottom (precision grows upwards).
REVERSED_AXES: frozenset[str] = frozenset({"sei", "vi", "ninv", "sqrtninv"})
#: metafor's axis titles.
YLABELS = {
    "sei": "Standard Error", "vi": "Variance", "seinv": "Inverse Standard Error",
    "vinv": "Inverse Variance", "ni": "Sample Size", "ninv": "Inverse Sample Size",
    "sqrtni": "Square Root Sample Size", "sqrtninv": "Inverse Square Root Sample Size",
    "lni": "Log Sample Size", "wi": "Weight (in %)",
}  # fmt: skip
#: Heights at which metafor evaluates the region (its ``ci.res``).
REGION_POINTS = 1000
#: metafor widens the axes by this share of their range.
AXIS_PAD = 0.1


@dataclass(frozen=True)
class FunnelRegion:
    """One pseudo-confidence region: x bounds at each height of ``FunnelData.grid``."""

    level: float
    lower: FloatArray
    upper: FloatArray


@dataclass(frozen=True)
class FunnelData:
    """Everything a funnel plot shows; the drawing adds nothing numeric.

    ``x`` are the effect sizes, ``y`` their heights on ``yaxis``. ``xlim``/``ylim`` are
    metafor's plot window (``ylim`` runs from bottom to top, so on the standard-error axis
    it is ``(max se, 0)``). ``grid`` and ``regions`` are empty on axes without a region.
    """

    yaxis: str
    x: FloatArray
    y: FloatArray
    labels: tuple[str, ...]
    refline: float
    tau2: float
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    grid: FloatArray
    regions: tuple[FunnelRegion, ...]
    ylab: str
    measure: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view for JSON."""
        return {
            "yaxis": self.yaxis, "x": self.x.tolist(), "y": self.y.tolist(),
            "labels": list(self.labels), "refline": self.refline, "tau2": self.tau2,
            "xlim": list(self.xlim), "ylim": list(self.ylim), "grid": self.grid.tolist(),
            "regions": [{"level": r.level, "lower": r.lower.tolist(), "upper": r.upper.tolist()}
                        for r in self.regions],
            "ylab": self.ylab, "measure": self.measure,
        }  # fmt: skip


def funnel(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    *,
    ni: npt.ArrayLike | None = None,
    yaxis: YAxis = "sei",
    level: float | Sequence[float] = 95.0,
    addtau2: bool = False,
    refline: float | None = None,
    method: str = "REML",
    test: str = "z",
    measure: str = "GEN",
    labels: Sequence[str] | None = None,
) -> FunnelData:
    """Funnel-plot data for an intercept-only model, as ``funnel(rma(yi, vi, ni=ni))``.

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances.
    ni
        Study sizes; needed for the sample-size axes (``"ni"``, ``"ninv"``, ``"sqrtni"``,
        ``"sqrtninv"``, ``"lni"``), the ones to use for proportions.
    yaxis
        metafor's ``yaxis``; ``"wi"`` is the model weight in percent.
    level
        Level(s) in percent of the pseudo-confidence region(s); several give a
        contour-enhanced funnel.
    addtau2
        Widen the region by τ² (metafor ``addtau2``).
    refline
        Centre of the region; default the pooled estimate.
    method, test, measure
        The model whose estimate, τ² and weights the plot uses (as :func:`rma`).
    labels
        Study labels (default ``"1"`` … ``"k"``).
    """
    y, v = effects_and_variances(yi, vi)
    k = len(y)
    if yaxis not in YAXES:
        raise InputError(f"yaxis={yaxis!r} is not one of {', '.join(YAXES)}")
    levels = _levels(level)
    sizes = _sizes(ni, k, yaxis)
    names = _labels(labels, k)
    fit = rma(y, v, method=method, test=test, measure=measure)
    centre = fit.estimate if refline is None else float(refline)
    if not np.isfinite(centre):
        raise InputError(f"refline: no finite centre for the funnel ({fit.reason or centre})")
    if yaxis == "wi" and fit.status == "failed":
        raise InputError(f"yaxis='wi': the model has no weights ({fit.reason})")
    tau2 = fit.tau2 if addtau2 else 0.0
    heights = _heights(yaxis, v, sizes, np.asarray(fit.weights, dtype=np.float64))
    ylim = _ylim(yaxis, heights)
    grid = np.empty(0)
    regions: tuple[FunnelRegion, ...] = ()
    if yaxis in VARIANCE_AXES:
        alphas = [(100.0 - lv) / 100.0 for lv in levels]
        z_widest = float(stats.norm.isf(min(alphas) / 2))
        half = z_widest * np.sqrt(_variance_at(yaxis, np.array([ylim[0]])) + tau2)[0]
        xlim = _padded((min(centre - half, float(y.min())), max(centre + half, float(y.max()))))
        grid = np.linspace(*_region_span(yaxis, ylim), REGION_POINTS)
        spread = np.sqrt(_variance_at(yaxis, grid) + tau2)
        regions = tuple(
            FunnelRegion(lv, centre - z * spread, centre + z * spread)
            for lv, z in sorted(
                ((lv, float(stats.norm.isf(a / 2))) for lv, a in zip(levels, alphas, strict=True)),
                key=lambda pair: -pair[1],
            )
        )
    else:
        xlim = _padded((float(y.min()), float(y.max())))
    return FunnelData(
        yaxis=yaxis, x=y, y=heights, labels=names, refline=centre, tau2=tau2, xlim=xlim,
        ylim=ylim, grid=grid, regions=regions, ylab=YLABELS[yaxis], measure=measure,
    )  # fmt: skip


def _levels(level: float | Sequence[float]) -> tuple[float, ...]:
    values = (level,) if isinstance(level, int | float) else tuple(level)
    if not values:
        raise InputError("level: give at least one level for the funnel region")
    for value in values:
        check_level(float(value))
    # metafor reads 0.95 as 95 %; keep percentages throughout.
    return tuple(float(v) * 100 if float(v) < 1 else float(v) for v in values)


def _sizes(ni: npt.ArrayLike | None, k: int, yaxis: str) -> FloatArray | None:
    if ni is None:
        if yaxis in SIZE_AXES:
            raise InputError(f"column 'ni': yaxis={yaxis!r} needs the study sizes ni")
        return None
    sizes = as_vector(ni, "ni")
    if len(sizes) != k:
        raise InputError(f"column 'ni': {len(sizes)} sizes for {k} studies")
    small = sizes <= 0
    if small.any():
        row = int(np.argmax(small)) + 1
        raise InputError(f"row {row}, column 'ni': study size must be > 0, got {sizes[row - 1]:g}")
    return sizes


def _labels(labels: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if labels is None:
        return tuple(str(i) for i in range(1, k + 1))
    names = tuple(str(label) for label in labels)
    if len(names) != k:
        raise InputError(f"labels: {len(names)} labels for {k} studies")
    return names


def _heights(yaxis: str, v: FloatArray, n: FloatArray | None, weights: FloatArray) -> FloatArray:
    """Each study's height on the axis (metafor's ``yaxis.vals``)."""
    if yaxis == "wi":
        return weights
    if yaxis in VARIANCE_AXES:
        return {"sei": np.sqrt(v), "vi": v, "seinv": 1 / np.sqrt(v), "vinv": 1 / v}[yaxis]
    assert n is not None
    return {"ni": n, "ninv": 1 / n, "sqrtni": np.sqrt(n), "sqrtninv": 1 / np.sqrt(n),
            "lni": np.log(n)}[yaxis]  # fmt: skip


def _ylim(yaxis: str, heights: FloatArray) -> tuple[float, float]:
    """metafor's default y limits: from the least precise study (bottom) to the top."""
    low, high = float(heights.min()), float(heights.max())
    if yaxis in ("sei", "vi"):
        return high, 0.0
    if yaxis in REVERSED_AXES:
        return high, low
    return low, high


def _variance_at(yaxis: str, height: FloatArray) -> FloatArray:
    """The sampling variance that a height on a variance-type axis stands for."""
    if yaxis == "sei":
        return height**2
    if yaxis == "vi":
        return height
    return 1 / height**2 if yaxis == "seinv" else 1 / height


def _region_span(yaxis: str, ylim: tuple[float, float]) -> tuple[float, float]:
    """metafor extends the region 10 % beyond the axis: downwards (never below 0) on the
    se/variance axes, upwards on the inverse ones."""
    bottom, top = ylim
    if yaxis in ("sei", "vi"):
        span = bottom - top
        return bottom + AXIS_PAD * span, max(0.0, top - AXIS_PAD * span)
    return bottom, top + AXIS_PAD * (top - bottom)


def _padded(limits: tuple[float, float]) -> tuple[float, float]:
    low, high = limits
    span = high - low
    return low - AXIS_PAD * span, high + AXIS_PAD * span
