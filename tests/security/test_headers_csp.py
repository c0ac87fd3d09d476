"""Every HTML page carries a Content-Security-Policy and the anti-sniffing, referrer and framing headers: the
console pages a strict ``default-src 'self'``, the API docs the same plus their one inline script's hash."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx2
import pytest
from playwright.sync_api import expect

from tests.e2e.test_console_browser import CHROMIUM, OpenPage, base_url, browser, open_page, sign_in
from tests.routing.conftest import ALICE

__all__ = ["base_url", "browser", "open_page"]

CONSOLE_PAGES = ["/console", "/console/supervisor"]
DOCS_PAGES = ["/docs", "/redoc"]


def directives(response: httpx2.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    parsed = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", CONSOLE_PAGES + DOCS_PAGES)
async def test_every_html_page_has_the_security_headers(client: httpx2.AsyncClient, path: str) -> None:
    """nosniff, a Referrer-Policy, no framing (X-Frame-Options DENY and frame-ancestors 'none') and a CSP."""
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert directives(response)["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("path", CONSOLE_PAGES)
async def test_console_pages_allow_only_their_own_origin(client: httpx2.AsyncClient, path: str) -> None:
    """The agent console and the supervisor view (and the sign-in form they show) load nothing from elsewhere and
    run no inline script."""
    policy = directives(await client.get(path))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]


async def test_the_swagger_page_allows_only_itself_and_its_own_inline_script(client: httpx2.AsyncClient) -> None:
    """/docs: scripts from its own origin and the page's one inline init script by its hash; nothing else."""
    response = await client.get("/docs")
    policy = directives(response)
    (inline,) = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert policy["default-src"] == ["'self'"]
    assert set(policy["script-src"]) == {"'self'", f"'sha256-{digest}'"}
    assert policy["connect-src"] == ["'self'"]
    for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', response.text):
        assert src.startswith("/docs/static/"), src


async def test_the_redoc_page_loads_nothing_from_elsewhere(client: httpx2.AsyncClient) -> None:
    """/redoc: no outside host in any directive; its bundle from its own origin and its blob: worker."""
    response = await client.get("/redoc")
    policy = directives(response)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "blob:" in policy["worker-src"]
    assert not [value for values in policy.values() for value in values if value.startswith("http")]
    assert re.findall(r'<script src="([^"]+)"', response.text) == ["/docs/static/redoc.standalone.js"]


@pytest.mark.parametrize("asset", ["swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"])
async def test_the_docs_assets_are_served_from_the_package(client: httpx2.AsyncClient, asset: str) -> None:
    """Swagger UI's and ReDoc's files are served by Callbridge itself (the fastapi-offline package ships them)."""
    response = await client.get(f"/docs/static/{asset}")
    assert response.status_code == 200
    assert len(response.content) > 1000


async def test_redoc_bundle_reaches_for_no_outside_logo(client: httpx2.AsyncClient) -> None:
    """ReDoc's bundle is served with Redocly's CDN logo pointed at the local favicon."""
    response = await client.get("/docs/static/redoc.standalone.js")
    assert response.status_code == 200
    assert "cdn.redoc.ly" not in response.text
    assert "/docs/static/favicon.png" in response.text


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")
def test_the_console_works_in_chromium_under_its_policy(open_page: OpenPage) -> None:
    """Sign in, change presence, sign out in a real browser: no CSP violation, no request refused as cross-site,
    and the state-changing requests carry X-Requested-With."""
    page = open_page()
    problems: list[str] = []
    unsafe: list[dict[str, str]] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status == 403 else None)
    page.on("request", lambda r: unsafe.append(r.headers) if r.method in ("POST", "PUT", "DELETE") else None)
    sign_in(page, "/console", ALICE)
    page.get_by_role("button", name="Busy").click()
    expect(page.locator("#presence-now")).to_contain_text("Busy")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username", exact=True)).to_be_visible()
    assert problems == []
    assert len(unsafe) >= 3 and all(h.get("x-requested-with") == "callbridge-console" for h in unsafe)
