"""Baujat plot drawn from :class:`postcart.stats.Baujat` (metafor ``baujat()`` look).

x is each study's contribution to heterogeneity, y its influence on the pooled result; both
come from ``postcart.stats.baujat``. Studies are drawn as their labels (metafor's
``symbol="ids"``), on a light grid, so the reader can name the study in the top-right corner:
the one that is both inconsistent and decisive.

Use :func:`draw_baujat` on an existing Axes, or :func:`render_baujat` for SVG/PNG/PDF bytes
(identical input gives identical bytes).
"""

from __future__ import annotations

import io
from typing import Any, cast

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from postcart.report.plots.forest import _META, _RC
from postcart.stats.baujat import Baujat

FORMATS: tuple[str, ...] = ("svg", "png", "pdf")
#: metafor pads nothing, so labels at the extremes would be clipped; a small margin helps.
_MARGIN = 0.06


def draw_baujat(data: Baujat, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Draw ``data`` on ``ax`` (a new Agg figure when omitted) and return the Axes."""
    if ax is None:
        fig = Figure(figsize=(6.0, 4.5))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
    finite = [(x, y, s) for x, y, s in zip(data.x, data.y, data.labels, strict=True)
              if x == x and y == y]  # fmt: skip
    ax.grid(True, color="#d3d3d3", lw=0.6)
    ax.set_axisbelow(True)
    for x, y, label in finite:
        ax.text(x, y, label, ha="center", va="center", fontsize=8)
    if finite:
        xs, ys = [p[0] for p in finite], [p[1] for p in finite]
        ax.set_xlim(*_padded(min(xs), max(xs)))
        ax.set_ylim(*_padded(min(ys), max(ys)))
    ax.set_xlabel(data.xlab, fontsize=9)
    ax.set_ylabel(data.ylab, fontsize=9)
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    return ax


def render_baujat(
    data: Baujat, *, title: str | None = None, formats: tuple[str, ...] = FORMATS
) -> dict[str, bytes]:
    """The Baujat plot as bytes per format (``"svg"``, ``"png"``, ``"pdf"``)."""
    import matplotlib

    out: dict[str, bytes] = {}
    with matplotlib.rc_context(cast(Any, _RC)):
        fig = Figure(figsize=(6.0, 4.5))
        FigureCanvasAgg(fig)
        draw_baujat(data, fig.add_subplot(1, 1, 1), title=title)
        fig.tight_layout()
        for fmt in formats:
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, dpi=150, metadata=_META[fmt])
            out[fmt] = buffer.getvalue()
    return out


def _padded(low: float, high: float) -> tuple[float, float]:
    span = (high - low) or max(abs(high), 1.0)
    return low - _MARGIN * span, high + _MARGIN * span
