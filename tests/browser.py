"""Real Chromium for the browser tests (pytest plugin, registered in tests/conftest.py).

Debian's build (/usr/bin/chromium: Playwright downloads no browser here) is launched once per
session, since starting it is most of a short test's CPU; each test opens pages in browser
contexts of its own (cookies, storage and downloads apart), closed when it ends. Screenshots
go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
CONTEXT = {"viewport": {"width": 1360, "height": 900}, "locale": "zh-CN"}

#: pytestmark of every browser test module (add `pytest.mark.slow` where it reads scans).
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed"),
]

NewPage = Callable[..., "Page"]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for the session's browser tests."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium: Browser) -> Iterator[NewPage]:
    """`new_page(timeout=15000, **context options)`: a page in a fresh context (a desktop
    window in Chinese unless the options say otherwise), closed after the test."""
    contexts: list[BrowserContext] = []

    def make(*, timeout: float = 15000, **options: Any) -> Page:
        context = chromium.new_context(**{**CONTEXT, **options})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(timeout)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def signed_in(new_page: NewPage) -> Callable[..., Page]:
    """`signed_in(base, username, password, **context options)`: a new page, the user signed
    in on it (each user in a browser context of their own)."""
    return lambda base, username, password, **options: sign_in(
        new_page(**options), base, username, password)


def log_in(page: Page, username: str, password: str) -> None:
    """Fill in and send the sign-in form the page shows."""
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit].primary")


def sign_in(page: Page, base: str, username: str, password: str) -> Page:
    """Sign `username` in on `page` from the sign-in page; returns the page, on /search."""
    page.goto(base + "/login")
    log_in(page, username, password)
    page.wait_for_url("**/search")
    return page


def wait_until(page: Page, expression: str, timeout: float = 15.0) -> None:
    """Wait until `expression` is true in the page, polled from here: Playwright's own
    `wait_for_function` evaluates a string predicate with eval() in the page once it has to
    poll, which the app's Content-Security-Policy (no 'unsafe-eval') refuses, so it failed
    whenever the condition was not already true at the first look (a slow image)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        page.wait_for_timeout(50)


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """A screenshot of the page as test-artifacts/NAME.png."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
