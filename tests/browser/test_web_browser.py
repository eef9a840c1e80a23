"""The workbench in Chromium: sign in by keyboard, no console errors, no serious axe findings."""

from __future__ import annotations

import pytest
from tests.browser.conftest import Page

pytestmark = pytest.mark.browser


def test_sign_in_by_keyboard_and_home_is_accessible(page: Page) -> None:
    page.sign_in("alice")
    assert page.page.locator("header .who").inner_text() == "alice"
    page.shot("web_home")
    assert page.axe_serious() == []
    assert page.errors == []


def test_login_page_is_accessible_and_refuses_a_wrong_password(page: Page) -> None:
    page.page.goto("/login")
    assert page.axe_serious() == []
    page.page.fill("#username", "alice")
    page.page.fill("#password", "not-her-password")
    page.page.press("#password", "Enter")
    page.page.wait_for_selector(".error")
    assert "wrong password" in page.page.locator(".error").inner_text()
    # 401 answers show in the console as a failed resource load; nothing else may.
    assert [e for e in page.errors if "401" not in e] == []
