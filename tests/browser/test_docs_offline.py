"""/docs and /redoc render with every request to another host blocked: their files come from the service."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import drop_database, make_test_settings, migrated_database
from tests.live import live_server

pytestmark = pytest.mark.xdist_group("live")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[str]:
    url = migrated_database("sqlite", tmp_path)
    with live_server(make_test_settings(url)) as base_url:
        yield base_url
    drop_database(url)


def offline(page: Any, base_url: str) -> list[str]:
    """Aborts every request that leaves the service; returns the addresses it stopped."""
    own = urlsplit(base_url).netloc
    blocked: list[str] = []

    def route(request_route: Any) -> None:
        address = request_route.request.url
        if urlsplit(address).netloc == own:
            request_route.continue_()
        else:
            blocked.append(address)
            request_route.abort()

    page.route("**/*", route)
    return blocked


def test_swagger_ui_renders_the_operations_offline(page: Any, api: str) -> None:
    blocked = offline(page, api)
    page.goto(f"{api}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    text = page.inner_text("#swagger-ui")
    assert "/api/v1/applications" in text
    assert "/api/v1/progress/events" in text
    assert "Resolver error" not in text  # a dangling $ref shows up here once an operation is opened
    page.click("#operations-progress-progress_events_record .opblock-summary")
    page.wait_for_selector("#operations-progress-progress_events_record .opblock-body", timeout=10_000)
    assert "Resolver error" not in page.inner_text("#swagger-ui")
    assert blocked == []


def test_redoc_renders_the_operations_offline(page: Any, api: str) -> None:
    blocked = offline(page, api)
    page.goto(f"{api}/redoc")
    page.wait_for_selector('text="/api/v1/progress/events"', state="attached", timeout=20_000)
    assert "Caminos de Saberes" in page.inner_text("body")
    # ReDoc's bundle still asks for its decorative "powered by" logo; the page works without it
    assert [a for a in blocked if a != "https://cdn.redoc.ly/redoc/logo-mini.svg"] == []
