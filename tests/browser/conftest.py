"""Headless Chromium (Debian's package, driven by Playwright) for tests that need a real browser: CORS and the docs
pages. Without Chromium they are skipped, except in CI (CI=true), where a missing browser is a failure."""

import asyncio
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("CAMINOS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _missing() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module, not per session: while Playwright's sync API is open, this thread's asyncio
    loop stays marked as running (between two sync calls, its dispatcher is suspended inside
    ``run_until_complete``). Kept open for the session, every later test that starts a loop (``anyio.run``, a
    TestClient's portal) failed with "Already running asyncio in this thread". Closed at the end of the module,
    the thread is left as it was found."""
    missing = _missing()
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()
    assert asyncio._get_running_loop() is None, "Playwright left an event loop running in this thread"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
