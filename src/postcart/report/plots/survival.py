"""Figures of the survival section: overlaid reconstructed KM curves and a landmark forest plot.

The overlay draws each reconstructed arm as the step function R's ``plot(survfit)`` draws, so
a reader can hold it against the published figure it was digitised from; the forest plot shows
each arm's landmark survival with its Greenwood CI and the pooled estimate, the way every other
pooled outcome of the review is shown. Both are written without time stamps, so two builds of
the same evidence give the same bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any, cast

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from postcart.stats.survival import KaplanMeier, PooledSurvival

_META = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
}
_RC = {"svg.hashsalt": "postcart", "svg.fonttype": "none", "font.family": "DejaVu Sans"}


def _save(fig: Figure) -> dict[str, bytes]:
    FigureCanvasAgg(fig)
    out: dict[str, bytes] = {}
    with matplotlib.rc_context(cast(Any, _RC)):
        for fmt in ("png", "svg"):
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, metadata=_META[fmt], dpi=120)
            out[fmt] = buffer.getvalue()
    return out


def km_overlay(
    curves: Sequence[KaplanMeier], labels: Sequence[str], *, title: str, time_unit: str = "months"
) -> dict[str, bytes]:
    """Reconstructed Kaplan–Meier curves on one axis (PNG and SVG bytes)."""
    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.add_subplot()
    for km, label in zip(curves, labels, strict=True):
        x = [0.0, *km.time.tolist()]
        y = [1.0, *km.surv.tolist()]
        ax.step(x, y, where="post", label=f"{label} (n = {km.n})", linewidth=1.3)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlim(left=0.0)
    ax.set_xlabel(f"time ({time_unit})")
    ax.set_ylabel("survival")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig)


def landmark_forest(pooled: PooledSurvival, time: float, *, title: str) -> dict[str, bytes]:
    """Per-arm survival at ``time`` with 95% CIs and the pooled diamond (PNG and SVG bytes)."""
    lm = next((x for x in pooled.landmarks if x.time == time), None)
    if lm is None:
        raise KeyError(f"no landmark at {time:g} in this pooled result")
    rows = lm.to_dict()["studies"]
    fig = Figure(figsize=(7.0, 1.4 + 0.35 * (len(rows) + 2)))
    ax = fig.add_subplot()
    ys = list(range(len(rows) + 1, 1, -1))
    for y, row in zip(ys, rows, strict=True):
        s, se = row["surv"], row["se"]
        # the study CI as the pooling sees it: symmetric on log(-log S)
        half = 1.959963984540054 * se / (s * abs(math.log(s)))
        lo = math.exp(-math.exp(math.log(-math.log(s)) + half))
        hi = math.exp(-math.exp(math.log(-math.log(s)) - half))
        ax.plot([lo, hi], [y, y], color="black", linewidth=1.0)
        ax.plot([s], [y], marker="s", color="black")
    names = [r["study"] for r in rows]
    if lm.fit is not None and lm.fit.status == "ok":
        b = lm.fit.back
        ax.fill([b.ci_low, b.estimate, b.ci_high, b.estimate], [1, 1.25, 1, 0.75], color="tab:blue")
        names.append("pooled (random effects)")
    ax.set_yticks([*ys, 1][: len(names)], names, fontsize=8)
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(f"survival at {time:g} months")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return _save(fig)
