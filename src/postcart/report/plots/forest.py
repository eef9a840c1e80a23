"""Forest plot of one pooled analysis: studies with weights, pooled diamond, prediction interval."""

from __future__ import annotations

import io
import math
from typing import Any, cast

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from scipy import stats

from postcart.report.pooling import Pooled, StudyRow

#: Metadata that would otherwise stamp the build time or library versions into the files.
_META = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}
_RC = {"svg.hashsalt": "postcart", "svg.fonttype": "none", "font.family": "DejaVu Sans",
       "pdf.compression": 6}  # fmt: skip


def _study_ci(row: StudyRow) -> tuple[float, float]:
    """The reported CI, else an exact (Clopper–Pearson) interval from the events."""
    if row.ci_low is not None and row.ci_high is not None:
        return row.ci_low, row.ci_high
    if row.events is not None and row.n:
        x, n = row.events, row.n
        lo = 0.0 if x == 0 else float(stats.beta.ppf(0.025, x, n - x + 1))
        hi = 1.0 if x == n else float(stats.beta.ppf(0.975, x + 1, n - x))
        return 100 * lo, 100 * hi
    return math.nan, math.nan


def _new_figure(pooled: Pooled) -> Figure:
    fig = Figure(figsize=(7.5, 1.2 + 0.32 * (pooled.k + 3)))
    FigureCanvasAgg(fig)
    return fig


def forest(pooled: Pooled, ax: Axes | None = None) -> Axes:
    """Draw ``pooled`` on ``ax`` (a new Agg figure when omitted) and return the Axes."""
    if ax is None:
        ax = _new_figure(pooled).add_subplot(1, 1, 1)
    rows = pooled.rows
    total = len(rows) + 2
    weights = [r.weight or 0.0 for r in rows]
    wmax = max(weights) if any(weights) else 1.0
    for i, row in enumerate(rows):
        y = total - i
        lo, hi = _study_ci(row)
        if math.isfinite(lo):
            ax.plot([lo, hi], [y, y], color="#333333", lw=1)
        size = 20 + 120 * ((row.weight or 0.0) / wmax)
        ax.scatter([row.value], [y], marker="s", s=size, color="#1f4e79", zorder=3)
        weight = "" if row.weight is None else f"{row.weight:.1f}%"
        ax.annotate(weight, (1.02, y), xycoords=("axes fraction", "data"), va="center", fontsize=8)
    head = pooled.headline()
    if head is not None:
        est, lo, hi, plo, phi = head
        y_pool = 1.0
        ax.add_patch(Polygon([(lo, y_pool), (est, y_pool + 0.3), (hi, y_pool), (est, y_pool - 0.3)],
                             closed=True, color="#c0392b", zorder=3))  # fmt: skip
        if math.isfinite(plo):
            ax.plot([plo, phi], [y_pool - 0.45, y_pool - 0.45], color="#c0392b", lw=2.5, alpha=0.5,
                    solid_capstyle="butt")  # fmt: skip
        ax.axvline(est, color="#c0392b", lw=0.6, ls=":")
    labels = [r.label if len(r.label) <= 48 else r.label[:47] + "…" for r in rows]
    ax.set_yticks([total - i for i in range(len(rows))] + [1.0])
    ax.set_yticklabels([*labels, "Pooled (GLMM) · PI below" if pooled.kind == "proportion"
                        else "Pooled (REML-HKSJ) · PI below"], fontsize=8)  # fmt: skip
    ax.set_xlim(0, 100)
    ax.set_ylim(0.2, total + 0.8)
    ax.set_xlabel("%", fontsize=9)
    ax.set_title(pooled.title, fontsize=10, loc="left", pad=22)
    # A GLMM has no inverse-variance study weights; the ones shown are the two-step model's.
    weight_label = "Weight\n(logit REML)" if pooled.kind == "proportion" else "Weight"
    ax.annotate(weight_label, (1.02, total + 0.45), xycoords=("axes fraction", "data"), fontsize=8,
                va="bottom")  # fmt: skip
    ax.spines[["top", "right"]].set_visible(False)
    ax.figure.subplots_adjust(left=0.42, right=0.9)
    return ax


def render(pooled: Pooled) -> dict[str, bytes]:
    """The forest plot as PNG, SVG and PDF bytes; identical input gives identical bytes."""
    import matplotlib

    out: dict[str, bytes] = {}
    with matplotlib.rc_context(cast(Any, _RC)):
        fig = _new_figure(pooled)
        forest(pooled, ax=fig.add_subplot(1, 1, 1))
        for fmt in ("png", "svg", "pdf"):
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, dpi=150, metadata=_META[fmt])
            out[fmt] = buffer.getvalue()
    return out
