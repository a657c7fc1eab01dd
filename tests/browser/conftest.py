"""Headless Chromium (Debian's package, driven by Playwright) for tests that need a real browser: CORS and the docs
pages. Without Chromium they are skipped, except in CI (CI=true), where a missing browser is a failure.

axe-core (the accessibility check of the dashboard's and the reader's pages) comes from npm, installed at test time
into a cache outside the repository; without npm those tests are skipped, except in CI."""

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
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


AXE_CACHE = Path(os.environ.get("CAMINOS_AXE_CACHE", Path(tempfile.gettempdir()) / "caminos-axe-core"))
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def axe_script() -> Path:
    script = AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        problem = "npm not found (apt-get install npm): the accessibility check needs axe-core" if npm is None \
            else None
        if npm is not None:
            done = subprocess.run([npm, "install", "--prefix", str(AXE_CACHE), "--no-audit", "--no-fund",
                                   "axe-core@4"], capture_output=True, text=True, timeout=300, check=False)
            if done.returncode != 0 or not script.exists():
                problem = f"npm could not install axe-core: {done.stderr[-500:]}"
        if problem:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(problem)
            pytest.skip(problem)
    return script


def assert_accessible(page: Any, axe: Path, what: str) -> None:
    page.add_script_tag(path=str(axe))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert problems == [], f"{what}: {problems}"
