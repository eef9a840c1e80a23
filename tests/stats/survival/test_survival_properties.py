"""Hypothesis: any generated curve ends in a clean result or a project error, never a crash."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from postcart.errors import PostcartError
from postcart.stats.survival import clean_curve, reconstruct

finite = st.one_of(st.floats(-5.0, 150.0), st.sampled_from([float("nan"), float("inf"), -0.001]))
points = st.lists(st.tuples(finite, finite), min_size=0, max_size=40)


@settings(max_examples=150, deadline=None)
@given(points, st.sampled_from(["auto", "proportion", "percent"]))
def test_validator_never_crashes(pts, unit) -> None:
    t = [p[0] for p in pts]
    s = [p[1] for p in pts]
    try:
        c = clean_curve(t, s, unit=unit)
    except PostcartError:
        return
    assert c.time[0] == 0.0
    assert c.surv[0] == 1.0
    assert np.all(np.diff(c.time) >= 0)
    assert np.all(np.diff(c.surv) <= 0)


# plausible digitised curves: drops at sorted times, plus noise; random tables and totals
@st.composite
def curves(draw):
    k = draw(st.integers(1, 30))
    times = sorted(draw(st.lists(st.floats(0.01, 40.0), min_size=k, max_size=k)))
    drops = draw(st.lists(st.floats(0.0, 0.2), min_size=k, max_size=k))
    s, t_out, s_out = 1.0, [0.0], [1.0]
    for t, d in zip(times, drops, strict=True):
        t_out += [t, t]
        s_out += [s, max(s - d, 0.0)]
        s = max(s - d, 0.0)
    noise = draw(st.lists(st.floats(-0.004, 0.004), min_size=len(s_out), max_size=len(s_out)))
    s_noisy = [min(max(v + e, -0.005), 1.005) for v, e in zip(s_out, noise, strict=True)]
    return t_out, s_noisy


@settings(max_examples=150, deadline=None)
@given(
    curves(),
    st.integers(1, 400),
    st.lists(st.integers(0, 400), max_size=6),
    st.one_of(st.none(), st.integers(-2, 450)),
    st.booleans(),
)
def test_reconstruction_never_crashes(curve, n0, later, events, guard) -> None:
    t, s = curve
    try:
        c = clean_curve(t, s)
        step = float(c.time[-1]) / (len(later) + 1)
        table = sorted(later, reverse=True)
        rec = reconstruct(
            c.time,
            c.surv,
            risk_time=[i * step for i in range(len(table) + 1)] if table else None,
            n_risk=[n0, *table] if table else None,
            n0=None if table else n0,
            total_events=events,
            flat_tail_guard=guard,
        )
    except PostcartError:
        return
    assert rec.n == n0
    assert 0 <= rec.events <= rec.n
    assert np.all(np.diff(rec.time) >= 0)
    km = rec.km()
    assert np.all((km.surv >= 0) & (km.surv <= 1))
