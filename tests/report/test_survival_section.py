"""The survival section: with no curves it lists what to digitise; with curves it reconstructs.

The "with curves" build uses curves made here from simulated patients (clearly not clinical
data) attached to real cohort keys only so the cross-checks pass; nothing is written to the
evidence base.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from postcart.evidence import Evidence, load
from postcart.report.cells import RefBook
from postcart.report.plots.survival import km_overlay, landmark_forest
from postcart.report.survival_section import survival_section
from postcart.stats.survival import kaplan_meier
from postcart.stats.survival.simulate import digitise, risk_table, simulate_arm


@pytest.fixture(scope="module")
def evidence() -> Evidence:
    return load()


def test_without_curves_the_section_names_sources_to_digitise(evidence: Evidence) -> None:
    refs = RefBook()
    section = survival_section(evidence, refs)
    (table,) = section.tables
    assert table.name == "survival_to_digitise"
    assert table.rows
    labels = {row[0].text for row in table.rows}
    after_failure = {
        c.label for c in evidence.cohorts
        if c.role.value in ("relapse_after_cart", "salvage_after_cart")
    }  # fmt: skip
    assert labels <= after_failure
    for row in table.rows:
        assert row[4].ref in refs.refs  # the survival it reports, linked to its quote
        if row[2].text:
            assert row[2].ref in refs.refs


def _simulated_curves(folder: Path, evidence: Evidence) -> None:
    rng = np.random.default_rng(99)
    cohorts = [c for c in evidence.cohorts if c.role.value == "relapse_after_cart"][:3]
    for i, cohort in enumerate(cohorts):
        trial = simulate_arm(rng, 80 + 20 * i, median=5.0 + i)
        t, s = digitise(kaplan_meier(trial.time, trial.event), rng)
        rows = "\n".join(f"{a:.4f},{b:.4f}" for a, b in zip(t, s, strict=True))
        (folder / f"sim{i}.csv").write_text(f"time,survival\n{rows}\n", encoding="utf-8")
        rt, nr = risk_table(trial)
        keep = rt <= float(t.max())
        risk = "\n".join(f"{a:g},{b}" for a, b in zip(rt[keep], nr[keep], strict=True))
        (folder / f"sim{i}_risk.csv").write_text(f"time,at_risk\n{risk}\n", encoding="utf-8")
        source = evidence.study(cohort.study_key).source_key
        (folder / f"sim{i}.yaml").write_text(
            f"key: simulated_{i}\ncohort: {cohort.key}\nendpoint: os\narm: simulated\n"
            f"source: {source}\nfigure: SIMULATED, not clinical\ncurve: sim{i}.csv\n"
            f"risk_table: sim{i}_risk.csv\nrisk_table_locator: simulated\n"
            "digitiser: {tool: postcart.stats.survival.simulate}\n",
            encoding="utf-8",
        )


def test_with_curves_the_section_reconstructs_and_pools(evidence: Evidence, tmp_path: Path) -> None:
    _simulated_curves(tmp_path, evidence)
    refs = RefBook()
    section = survival_section(evidence, refs, curves_dir=tmp_path)
    names = [t.name for t in section.tables]
    assert names == ["survival_arms", "survival_pooled", "survival_to_digitise"]
    arms = section.tables[0]
    assert len(arms.rows) == 3
    for row, arm in zip(arms.rows, section.arms, strict=True):
        assert row[2].text == str(arm.km.n)
        assert row[5].text == f"{100 * arm.km.at(6.0).surv:.1f}%"
        assert row[2].ref in refs.refs
    pooled = section.pooled["os"]
    six = pooled.landmarks[0].to_dict()
    first = section.tables[1].rows[0]
    assert first[3].text.startswith(f"{100 * six['estimate']:.1f}%")
    # the digitised cohorts are no longer listed as to digitise (for OS)
    listed = {row[0].text: row[3].text for row in section.tables[2].rows}
    for arm in section.arms:
        label = evidence.cohort(arm.record.cohort_key).label
        assert "OS" not in listed.get(label, "")
    overlay = km_overlay([a.km for a in section.arms], ["a", "b", "c"], title="simulated")
    assert overlay["png"].startswith(b"\x89PNG")
    forest = landmark_forest(pooled, 6.0, title="simulated")
    assert b"<svg" in forest["svg"]
    assert (
        km_overlay([section.arms[0].km], ["a"], title="x")["svg"]
        == km_overlay([section.arms[0].km], ["a"], title="x")["svg"]
    )
