"""The report opens in Chromium: the four tables, forest plots, the certainty sections (SoF
table, evidence profile, risk-of-bias table and plots), and no console errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.browser.conftest import ARGS

from postcart.report.build import build_report

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report built once for every test of this module (a build takes seconds)."""
    out = tmp_path_factory.mktemp("report")
    build_report(out)
    return out


@pytest.fixture
def report_page(chromium: str, report_dir: Path) -> Iterator[tuple[Any, list[str]]]:
    """The built index.html open in Chromium (phone width), and the console errors seen."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 412, "height": 915})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((report_dir / "index.html").as_uri())
        yield page, errors
        browser.close()


def _all_loaded(page: Any, selector: str) -> bool:
    images = page.locator(selector)
    return images.count() > 0 and all(
        page.evaluate("(i) => i.naturalWidth > 0", images.nth(i).element_handle())
        for i in range(images.count())
    )


def test_report_renders_in_chromium(report_page: tuple[Any, list[str]]) -> None:
    page, errors = report_page
    for name in ("table1", "table2", "table3", "table4"):
        assert page.locator(f"table[data-table={name}] tbody tr").count() > 0, name
    assert _all_loaded(page, "img.forest")
    link = page.locator("table[data-table=table2] td a").first
    target = link.get_attribute("href")
    assert target
    assert page.locator(target).count() == 1
    shots = ROOT / "out"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / "report_browser.png"), full_page=False)
    assert errors == []


def test_sof_table_and_rob_plots_render_in_chromium(report_page: tuple[Any, list[str]]) -> None:
    page, errors = report_page
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
    assert page.locator("img.rob").count() >= 2
    assert _all_loaded(page, "img.rob")
    assert page.locator("#fig-rob_summary").count() == 1
    assert "Living version 1" in page.locator("p.snapshot").inner_text()
    assert errors == []
