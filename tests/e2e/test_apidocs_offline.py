"""/docs and /redoc in Chromium with the network cut: every request to a host other than the server is aborted,
and both pages still render, with no console error and no Content-Security-Policy violation."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.test_console_browser import CHROMIUM, OpenPage, base_url, browser, open_page

__all__ = ["base_url", "browser", "open_page"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")


class Offline:
    """A page whose outside requests are aborted and recorded, with its console errors and page errors."""

    def __init__(self, page: Page, server: str) -> None:
        self.page, self.server = page, urlsplit(server).netloc
        self.outside: list[str] = []
        self.problems: list[str] = []
        page.route("**/*", self._route)
        page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: self.problems.append(str(error)))

    def _route(self, route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != self.server:
            self.outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()


@pytest.fixture
def offline(open_page: OpenPage, base_url: str) -> Iterator[Offline]:
    yield Offline(open_page(), base_url)


def test_swagger_ui_renders_the_operations_with_the_network_cut(offline: Offline) -> None:
    """/docs lists the API's operations (e.g. PATCH /telephony/v1/voiceCalls/{voiceCallId}) from local assets."""
    offline.page.goto("/docs")
    expect(offline.page.locator(".opblock").first).to_be_visible()
    expect(
        offline.page.locator(".opblock-summary-path", has_text="/telephony/v1/voiceCalls/{voiceCallId}").first
    ).to_be_visible()
    assert offline.page.locator(".opblock").count() > 10
    assert offline.outside == []
    assert offline.problems == []


def test_redoc_renders_with_the_network_cut(offline: Offline) -> None:
    """/redoc renders the API's title and its operations' menu from local assets."""
    offline.page.goto("/redoc")
    expect(offline.page.locator("h1", has_text="Callbridge").first).to_be_visible()
    expect(offline.page.locator("[role=menuitem]").first).to_be_visible()
    assert offline.outside == []
    assert offline.problems == []
