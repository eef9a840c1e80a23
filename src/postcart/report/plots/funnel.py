"""Funnel plot drawn from :class:`postcart.stats.FunnelData` (metafor ``funnel()`` look).

Every number comes from ``postcart.stats.funnel``; this module only draws: grey background,
the pseudo-confidence region(s) in white/light greys with dotted edges (widest first, as
metafor), the dotted reference line and one dot per study. On sample-size axes there is no
region, only the reference line (as metafor). Axes whose values grow downwards in precision
(standard error, variance) are drawn with the most precise studies at the top.

Use :func:`draw_funnel` on an existing Axes, or :func:`render_funnel` for SVG/PNG/PDF bytes
(identical input gives identical bytes, so the living report diffs cleanly).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, cast

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle
from matplotlib.ticker import FuncFormatter

from postcart.report.plots.forest import _META, _RC
from postcart.stats.funnel import FunnelData

#: Region fills from the widest (outermost) to the narrowest level, as metafor's greys.
_SHADES = ("#ffffff", "#f2f2f2", "#e6e6e6", "#d9d9d9")
_BACK = "#d3d3d3"
FORMATS: tuple[str, ...] = ("svg", "png", "pdf")


def draw_funnel(
    data: FunnelData,
    ax: Axes | None = None,
    *,
    xlabel: str | None = None,
    tick_format: Callable[[float], str] | None = None,
    title: str | None = None,
) -> Axes:
    """Draw ``data`` on ``ax`` (a new Agg figure when omitted) and return the Axes.

    ``tick_format`` labels the x ticks (e.g. ``lambda t: f"{100 * expit(t):.0f}%"`` to show
    proportions on a logit axis); ``xlabel`` defaults to the measure.
    """
    if ax is None:
        fig = Figure(figsize=(6.0, 4.5))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
    (x_lo, x_hi), (y_bottom, y_top) = data.xlim, data.ylim
    ax.add_patch(Rectangle((x_lo, min(y_bottom, y_top)), x_hi - x_lo, abs(y_top - y_bottom),
                           facecolor=_BACK, edgecolor="none", zorder=0))  # fmt: skip
    for i, region in enumerate(data.regions):
        outline = [*zip(region.lower, data.grid, strict=True),
                   *reversed(list(zip(region.upper, data.grid, strict=True)))]  # fmt: skip
        shade = _SHADES[min(i, len(_SHADES) - 1)]
        ax.add_patch(Polygon(outline, closed=True, facecolor=shade, edgecolor="none", zorder=1,
                             label=f"{region.level:g}% region"))  # fmt: skip
        for edge in (region.lower, region.upper):
            ax.plot(edge, data.grid, color="#333333", lw=0.7, ls=":", zorder=2)
    ax.plot([data.refline, data.refline], [y_bottom, y_top], color="#333333", lw=0.8, ls=":",
            zorder=2)  # fmt: skip
    ax.scatter(data.x, data.y, s=22, color="#1a1a1a", zorder=3, label="Studies")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_bottom, y_top)
    ax.set_xlabel(xlabel or _measure_label(data.measure), fontsize=9)
    ax.set_ylabel(data.ylab, fontsize=9)
    if tick_format is not None:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda t, _pos: tick_format(float(t))))
    if len(data.regions) > 1:
        ax.legend(loc="upper right", fontsize=7, frameon=True)
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def render_funnel(
    data: FunnelData,
    *,
    xlabel: str | None = None,
    tick_format: Callable[[float], str] | None = None,
    title: str | None = None,
    formats: tuple[str, ...] = FORMATS,
) -> dict[str, bytes]:
    """The funnel plot as bytes per format (``"svg"``, ``"png"``, ``"pdf"``)."""
    import matplotlib

    out: dict[str, bytes] = {}
    with matplotlib.rc_context(cast(Any, _RC)):
        fig = Figure(figsize=(6.0, 4.5))
        FigureCanvasAgg(fig)
        draw_funnel(data, fig.add_subplot(1, 1, 1), xlabel=xlabel, tick_format=tick_format,
                    title=title)  # fmt: skip
        fig.tight_layout()
        for fmt in formats:
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, dpi=150, metadata=_META[fmt])
            out[fmt] = buffer.getvalue()
    return out


def _measure_label(measure: str) -> str:
    """metafor's x-axis titles for the measures postcart pools."""
    return {
        "PLO": "Log Odds", "PR": "Proportion", "PAS": "Arcsine Transformed Proportion",
        "PFT": "Double Arcsine Transformed Proportion",
    }.get(measure, "Observed Outcome")  # fmt: skip
