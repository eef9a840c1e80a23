"""Funnel and Baujat drawings show the numbers of ``postcart.stats`` and nothing else:
the points and region drawn are the data's, the labels are metafor's, the bytes are stable."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Polygon

from postcart.report.plots.baujat import draw_baujat, render_baujat
from postcart.report.plots.funnel import draw_funnel, render_funnel
from postcart.stats import baujat, escalc, funnel

XI, NI = [16, 10, 4, 43, 10, 25, 13], [17, 12, 8, 58, 10, 42, 14]


def _sizes() -> tuple[np.ndarray, np.ndarray]:
    es = escalc("PLO", xi=XI, ni=NI)
    return es.yi, es.vi


def test_funnel_draws_the_data_points_and_region() -> None:
    yi, vi = _sizes()
    data = funnel(yi, vi, level=[90, 95, 99], measure="PLO")
    ax = draw_funnel(data)
    points = np.asarray(ax.collections[0].get_offsets())
    assert np.allclose(points[:, 0], data.x)
    assert np.allclose(points[:, 1], data.y)
    regions = [p for p in ax.patches if isinstance(p, Polygon)]
    assert len(regions) == 3
    outline = regions[0].get_xy()
    assert np.allclose(outline[: len(data.grid), 0], data.regions[0].lower)
    assert ax.get_ylim() == data.ylim  # standard error: most precise studies on top
    assert ax.get_ylabel() == "Standard Error"
    assert ax.get_xlabel() == "Log Odds"


def test_funnel_on_sample_size_axis_renders_svg_text() -> None:
    yi, vi = _sizes()
    data = funnel(yi, vi, ni=NI, yaxis="ni", measure="PLO")
    out = render_funnel(data, tick_format=lambda t: f"{100 / (1 + np.exp(-t)):.0f}%")
    assert set(out) == {"svg", "png", "pdf"}
    svg = out["svg"].decode("utf-8")
    assert "Sample Size" in svg
    assert out == render_funnel(data, tick_format=lambda t: f"{100 / (1 + np.exp(-t)):.0f}%")


def test_baujat_writes_each_study_label_at_its_point() -> None:
    yi, vi = _sizes()
    data = baujat(yi, vi, labels=[f"S{i}" for i in range(1, 8)])
    ax = draw_baujat(data)
    texts = {t.get_text(): t.get_position() for t in ax.texts}
    assert set(texts) == set(data.labels)
    assert np.allclose(texts["S4"], (data.x[3], data.y[3]))
    svg = render_baujat(data)["svg"].decode("utf-8")
    assert "Squared Pearson Residual" in svg
    assert "Influence on Overall Result" in svg
