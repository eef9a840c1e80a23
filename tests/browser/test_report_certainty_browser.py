"""The certainty sections open in Chromium: SoF table, evidence profile, RoB table and plots."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.browser.conftest import ARGS

from postcart.report.build import build_report

pytestmark = pytest.mark.browser


def test_sof_table_and_rob_plots_render_in_chromium(chromium: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    build_report(tmp_path)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 412, "height": 915})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((tmp_path / "index.html").as_uri())
        for name in ("summary_of_findings", "evidence_profile", "risk_of_bias", "review_trail"):
            assert page.locator(f"table[data-table={name}] tbody tr").count() > 0, name
        sof = page.locator("table[data-table=summary_of_findings]")
        assert sof.locator("th").all_inner_texts()[:5] == [
            "Outcome", "Population", "Studies and participants", "Pooled (95% CI)", "Certainty",
        ]  # fmt: skip
        certainty = sof.locator("tbody tr td:nth-child(5) a").first
        target = certainty.get_attribute("href")
        assert target
        assert "Starts high" in page.locator(target).inner_text()
        plots = page.locator("img.rob")
        assert plots.count() >= 2
        assert all(
            page.evaluate("(i) => i.naturalWidth > 0", plots.nth(i).element_handle())
            for i in range(plots.count())
        )
        assert page.locator("#fig-rob_summary").count() == 1
        assert "Living version 1" in page.locator("p.snapshot").inner_text()
        browser.close()
    assert errors == []
