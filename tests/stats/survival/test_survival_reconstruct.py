"""Guyot reconstruction: the simulation oracle (issue 15 targets), the flat-tail guard, modes.

The oracle: seeded two-arm trials with known patients, their exact KM curves digitised with
noise, reconstructed and compared with the truth (``postcart.stats.survival.simulate``).
"""

from __future__ import annotations

import numpy as np
import pytest

from postcart.errors import InputError
from postcart.stats.survival import clean_curve, kaplan_meier, reconstruct
from postcart.stats.survival.simulate import accuracy_study

SEED = 20120209


@pytest.fixture(scope="module")
def with_risk_table():
    return accuracy_study(100, seed=SEED, info="risk_table")


def test_risk_table_meets_the_issue_targets(with_risk_table) -> None:
    acc = with_risk_table
    assert acc.trials == 100
    for t in (6.0, 12.0, 24.0):
        assert acc.mean_abs_ds[t] <= 0.005, (t, acc.mean_abs_ds[t])
    assert acc.events_exact == 1.0
    assert acc.mean_abs_dloghr <= 0.03
    assert acc.p95_abs_dloghr <= 0.07


def test_total_events_alone_matches_the_count_exactly() -> None:
    acc = accuracy_study(30, seed=SEED + 1, info="events")
    assert acc.events_exact == 1.0


def test_n0_only_runs_and_overstates_events() -> None:
    # no target for n0 only (the benchmark prints its figures): with nobody censored before
    # the end, the events are overstated whenever the trial had censoring
    acc = accuracy_study(30, seed=SEED + 2, info="n0")
    assert acc.events_exact < 1.0
    assert all(0.0 <= v < 0.05 for v in acc.mean_abs_ds.values())


# A hand-made curve: 10 patients, deaths at 1, 2, 3 (one each), flat to 10.
CURVE_T = [0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 10.0]
CURVE_S = [1.0, 1.0, 0.9, 0.9, 0.8, 0.8, 0.7, 0.7]


def test_exact_curve_without_censoring_is_rebuilt_exactly() -> None:
    rec = reconstruct(CURVE_T, CURVE_S, risk_time=[0, 5], n_risk=[10, 7], total_events=3)
    assert rec.n == 10
    assert rec.events == 3
    assert rec.events_matched is True
    assert rec.time[rec.event == 1].tolist() == [1.0, 2.0, 3.0]
    km = rec.km()
    assert km.at(5.0).surv == pytest.approx(0.7, abs=1e-12)
    assert [(c.published, c.reconstructed) for c in rec.risk_check] == [(10, 10), (7, 7)]
    assert rec.warnings == ()


def test_flat_tail_gets_no_deaths() -> None:
    # The digitised flat tail sits a little below the last drop (0.70 -> 0.695, 0.69): with
    # few at risk, rounding would turn the drift into a death; the guard only allows deaths
    # where the curve drops, and the drift is too small to be one death out of 7.
    t = [0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 6.0, 8.0, 10.0]
    s = [1.0, 1.0, 0.9, 0.9, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7]
    rec = reconstruct(t, s, n0=10)
    assert rec.time[rec.event == 1].max() <= 3.0
    # where a drop in the tail is real, it is kept
    rec2 = reconstruct([*t[:-1], 10.0, 10.0], [*s[:-1], 0.7, 0.6], n0=10)
    assert rec2.events == rec.events + 1


def test_guard_keeps_a_rounding_deficit_off_a_noisy_flat_tail() -> None:
    # 40 patients; the drop at 1 is digitised at 0.488, i.e. 20.48 deaths, rounded to 20:
    # the reconstructed curve sits at 0.500, a deficit of half a death out of the 20 left.
    # The tail is flat, digitised with 0.0015 of noise drift. The plain rule pays the deficit
    # back on the tail (a death at 10 that the figure does not show); the guard does not.
    t = [0.0, 1.0, 1.0, 5.0, 10.0, 20.0]
    s = [1.0, 1.0, 0.488, 0.488, 0.4875, 0.4865]
    guarded = reconstruct(t, s, n0=40)
    plain = reconstruct(t, s, n0=40, flat_tail_guard=False)
    assert guarded.time[guarded.event == 1].tolist() == [1.0] * 20
    assert plain.events == 21
    assert plain.time[plain.event == 1].max() == 10.0
    assert guarded.settings["flat_tol"] == 0.002
    assert plain.settings["flat_tail_guard"] is False


def test_heavy_late_censoring_on_a_flat_tail_is_censoring_not_deaths() -> None:
    # The failure reported for another tool (RESOLVE-IPD #4): between 30 and 36 months the
    # curve drops by one death while the number at risk falls 44 -> 29. Aligning the risk
    # table must place ~14 censorings there, not deaths that drag the tail down.
    rng = np.random.default_rng(4)
    drops = np.sort(rng.uniform(0.5, 30.0, 36))
    n, s_now, t_pts, s_pts = 83, 1.0, [0.0], [1.0]
    for i, d_t in enumerate(drops):
        at_risk = n - i - (i // 4)  # some censoring along the way
        t_pts += [float(d_t), float(d_t)]
        s_pts += [s_now, s_now * (1 - 1 / at_risk)]
        s_now *= 1 - 1 / at_risk
    tail = s_now
    t_pts += [33.0, 33.0, 36.0]
    s_pts += [tail, tail * (1 - 1 / 40), tail * (1 - 1 / 40)]
    rt = [0, 6, 12, 18, 24, 30, 36]
    nr = [83, 75, 68, 61, 52, 44, 29]
    rec = reconstruct(t_pts, s_pts, risk_time=rt, n_risk=nr)
    late = rec.event.astype(bool) & (rec.time > 30.0)
    assert int(late.sum()) == 1
    assert rec.km().at(36.0).surv == pytest.approx(s_pts[-1], abs=0.01)
    assert rec.risk_check[-1].reconstructed == 29


def test_unreachable_risk_count_is_a_warning_not_a_crash() -> None:
    # 10 at risk, nobody dies, yet only 2 printed at risk at 5: 8 censored, fine; but 12
    # printed later than 10 is impossible and the table is refused.
    with pytest.raises(InputError, match="must not increase"):
        reconstruct(CURVE_T, CURVE_S, risk_time=[0, 5], n_risk=[10, 12])
    rec = reconstruct(CURVE_T, CURVE_S, risk_time=[0, 2.5], n_risk=[10, 9])
    assert any("at risk printed" in w for w in rec.warnings)
    assert rec.risk_check[1].published == 9
    assert rec.risk_check[1].reconstructed == 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"risk_time": [1, 5], "n_risk": [10, 7]}, "first time must be 0"),
        ({"risk_time": [0, 12], "n_risk": [10, 7]}, "after the curve's last time"),
        ({"risk_time": [0, 5], "n_risk": [10, 7.5]}, "not a whole number"),
        ({"risk_time": [0, 5]}, "give both"),
        ({}, "initial number at risk"),
        ({"n0": 10, "total_events": 11}, "between 0 and the initial number"),
        ({"risk_time": [0, 5], "n_risk": [10, 7], "n0": 9}, "differs"),
    ],
)
def test_bad_input_names_the_problem(kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        reconstruct(CURVE_T, CURVE_S, **kwargs)


def test_unclean_curve_is_refused_with_the_row() -> None:
    with pytest.raises(InputError, match="row 3, column 'survival'"):
        reconstruct([0.0, 1.0, 2.0], [1.0, 0.8, 0.9], n0=5)
    with pytest.raises(InputError, match="start at"):
        reconstruct([0.5, 1.0], [1.0, 0.8], n0=5)


def test_json_contract_has_n_events_ipd() -> None:
    rec = reconstruct(CURVE_T, CURVE_S, n0=10, total_events=3)
    out = rec.to_dict()
    assert out["n"] == 10
    assert out["events"] == 3
    assert len(out["ipd"]) == 10
    assert set(out["ipd"][0]) == {"time", "event"}
    assert sum(p["event"] for p in out["ipd"]) == 3
    assert out["mode"] == "events"


def test_percent_curve_cleans_to_the_same_reconstruction() -> None:
    pct = clean_curve(CURVE_T, [100 * v for v in CURVE_S])
    assert pct.unit == "percent"
    prop = clean_curve(CURVE_T, CURVE_S)
    a = reconstruct(pct.time, pct.surv, n0=10)
    b = reconstruct(prop.time, prop.surv, n0=10)
    assert np.array_equal(a.time, b.time)
    assert np.array_equal(a.event, b.event)
    km = kaplan_meier(a.time, a.event)
    assert km.events == 3
