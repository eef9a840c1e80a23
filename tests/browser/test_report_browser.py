"""The report opens in Chromium: four tables, forest plots, no console errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.browser.conftest import ARGS

from postcart.report.build import build_report

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def test_report_renders_in_chromium(chromium: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    build_report(tmp_path)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 412, "height": 915})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((tmp_path / "index.html").as_uri())
        for name in ("table1", "table2", "table3", "table4"):
            assert page.locator(f"table[data-table={name}] tbody tr").count() > 0, name
        forests = page.locator("img.forest")
        assert forests.count() > 0
        assert all(
            page.evaluate("(i) => i.naturalWidth > 0", forests.nth(i).element_handle())
            for i in range(forests.count())
        )
        link = page.locator("table[data-table=table2] td a").first
        target = link.get_attribute("href")
        assert target
        assert page.locator(target).count() == 1
        shots = ROOT / "out"
        shots.mkdir(exist_ok=True)
        page.screenshot(path=str(shots / "report_browser.png"), full_page=False)
        browser.close()
    assert errors == []
