"""The browser tests wait for a condition in a page that has the app's Content-Security-
Policy (no 'unsafe-eval'): tests.browser.wait_until, where Playwright's wait_for_function
failed as soon as it had to poll (a condition not yet true: a slow image under load)."""

from __future__ import annotations

import pytest

from tests.browser import MARKS, wait_until

pytestmark = MARKS

_CSP_PAGE = ('<meta http-equiv="Content-Security-Policy" content="script-src \'self\'">'
             "<p id=x>waiting</p>")


def test_wait_until_polls_a_condition_that_becomes_true_later(new_page) -> None:
    page = new_page()
    page.set_content(_CSP_PAGE)
    page.evaluate("setTimeout(() => { window.ready = true; }, 300)")
    wait_until(page, "window.ready === true", timeout=10)
    assert page.evaluate("window.ready") is True


def test_playwrights_own_wait_is_refused_by_the_policy(new_page) -> None:
    """Why the helper exists: the same wait through wait_for_function is an EvalError."""
    from playwright.sync_api import Error

    page = new_page()
    page.set_content(_CSP_PAGE)
    page.evaluate("setTimeout(() => { window.ready = true; }, 300)")
    with pytest.raises(Error, match="unsafe-eval|Content Security Policy"):
        page.wait_for_function("window.ready === true", timeout=5000)


def test_wait_until_gives_up_with_the_condition_named(new_page) -> None:
    page = new_page()
    page.set_content(_CSP_PAGE)
    with pytest.raises(AssertionError, match="window.never"):
        wait_until(page, "window.never === true", timeout=0.3)
