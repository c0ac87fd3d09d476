"""The supervisor view's webhooks table in Chromium, at 1440 and 390 px."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from callbridge.auth.certificates import KeyPair
from tests.e2e.test_console_browser import CHROMIUM, LAUNCH_ARGS, sign_in
from tests.e2e.test_serve_process import CLI, free_port, run, wait_until_listening
from tests.routing.conftest import CONFIG, SAM
from tests.webhooks.conftest import SECRET, SECRET_ENV

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")
DEAD_URL = "http://127.0.0.1:9/a-receiver-that-is-down/with/a/rather/long/path/callbridge-events"
HOOKS = f"""    webhooks:
      - url: {DEAD_URL}
        events: ["*"]
        secret_env: {SECRET_ENV}
"""


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, key_pair: KeyPair) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("webhooks-browser")
    port = free_port()
    env = {
        **os.environ,
        "CALLBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'callbridge.db'}",
        "CALLBRIDGE_WEBHOOK_POLL_SECONDS": "0.1",
        "CALLBRIDGE_WEBHOOK_RETRY_BASE_SECONDS": "0.1",
        "CALLBRIDGE_WEBHOOK_RETRY_MAX_SECONDS": "0.5",
        SECRET_ENV: SECRET,
    }
    (directory / "cert.pem").write_text(key_pair.certificate_pem)
    config = CONFIG.replace("    flows:\n", HOOKS + "    flows:\n", 1)
    assert HOOKS in config
    (directory / "cc.yaml").write_text(config)
    run(["migrate"], env)
    run(["apply", "-f", str(directory / "cc.yaml")], env)
    with (directory / "server.log").open("wb") as log:
        process = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    try:
        wait_until_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.mark.parametrize("width", [1440, 390])
def test_the_webhooks_table_shows_status_and_fits(browser: Browser, base_url: str, tmp_path: Path, width: int) -> None:
    """The subscription's row (URL, status, lag) is shown, and its card is no wider than the agents' card (the
    table scrolls inside its card rather than widening the page)."""
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 1000})
    try:
        page = context.new_page()
        sign_in(page, "/console/supervisor", SAM)
        row = page.locator("#webhooks tbody tr")
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(0)).to_have_text(DEAD_URL)
        expect(row.locator("td").nth(1)).to_have_text("active")
        shots = Path(os.environ.get("CALLBRIDGE_SCREENSHOTS_DIR") or tmp_path)
        page.locator("#webhooks-heading").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"supervisor-webhooks-{width}.png"), full_page=True)
        widths = page.evaluate(
            "['#webhooks-heading', '#agents-heading'].map((id) => document.querySelector(id).parentElement"
            ".getBoundingClientRect().width)"
        )
        assert widths[0] <= max(widths[1], width - 40) + 1
    finally:
        context.close()
