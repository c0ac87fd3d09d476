"""docs/getting-started.md's walk in Chromium, against `make run`'s demo contact centre: alice signs in and goes
Available, a call dialled to the Support number is offered to her and accepted, the caller speaks, sam watches
from the supervisor view, and `callbridge simulate` fills the view. Each step is photographed at 1440 and 390 px
into a temporary folder, or into CALLBRIDGE_SCREENSHOTS_DIR (`make screenshots` refreshes docs/screenshots/)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Browser, Page, expect

from callbridge.client import TokenSigner
from tests.docs.conftest import DocServer, doc_server
from tests.e2e.test_console_browser import CHROMIUM, browser
from tests.e2e.test_serve_process import CLI

__all__ = ["browser", "doc_server"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")

ALICE, SAM, PASSWORD = "alice@demo.example.com", "sam@demo.example.com", "demo"
WIDTHS = {"": 1440, "-390": 390}


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the pages are photographed: never a tracked folder unless `make screenshots` asks for it."""
    folder = Path(os.environ.get("CALLBRIDGE_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def pages(browser: Browser, doc_server: DocServer) -> Iterator[dict[str, Page]]:
    """alice's console and sam's supervisor view, each at 1440 px and at 390 px (a phone)."""
    contexts = []
    result: dict[str, Page] = {}
    for suffix, width in WIDTHS.items():
        for who in ("alice", "sam"):
            height = 900 if width > 500 else 844
            context = browser.new_context(base_url=doc_server.url, viewport={"width": width, "height": height})
            contexts.append(context)
            result[who + suffix] = context.new_page()
    yield result
    for context in contexts:
        context.close()


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#whoami")).to_have_text(username)
    expect(page.locator("#stream-status")).to_have_attribute("data-state", "live")


def photograph(pages: dict[str, Page], who: str, folder: Path, name: str) -> None:
    for suffix in WIDTHS:
        pages[who + suffix].screenshot(path=str(folder / f"getting-started-{name}{suffix}.png"), full_page=True)


def test_the_getting_started_walk(pages: dict[str, Page], doc_server: DocServer, screenshots: Path) -> None:
    """Sign-in, an offer, a connected call with its transcript, the supervisor view, the view under simulation."""
    pages["alice"].goto("/console")
    pages["alice-390"].goto("/console")
    expect(pages["alice"].get_by_role("button", name="Sign in")).to_be_visible()
    photograph(pages, "alice", screenshots, "sign-in")

    for suffix in WIDTHS:
        sign_in(pages["alice" + suffix], "/console", ALICE)
        sign_in(pages["sam" + suffix], "/console/supervisor", SAM)
    alice = pages["alice"]
    alice.get_by_role("button", name="Available").click()
    expect(alice.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")

    signer = TokenSigner.from_file(doc_server.folder / "var/demo/private.key", "00D000000000001AAA", "DemoCC")
    key = f"getting-started-{time.time_ns()}"
    with httpx2.Client(base_url=f"{doc_server.url}/telephony/v1", timeout=30) as api:

        def send(method: str, path: str, body: object) -> None:
            response = api.request(method, path, json=body, headers={"Authorization": f"Bearer {signer.token()}"})
            assert response.status_code < 300, response.text

        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        caller = "+14155550123"
        send("POST", "/voiceCalls", {
            "callCenterApiName": "DemoCC", "vendorCallKey": key, "to": "+14155550100", "from": caller,
            "initiationMethod": "Inbound", "startTime": start,
            "participants": [{"participantKey": caller, "type": "END_USER"}],
        })  # fmt: skip
        send("PATCH", f"/voiceCalls/{key}/omniFlow", {"dialedNumber": "+14155550100"})
        offer = alice.locator(".offer")
        expect(offer).to_contain_text(f"Call from {caller}")
        photograph(pages, "alice", screenshots, "offer")

        offer.get_by_role("button", name="Accept").click()
        panel = alice.get_by_role("article", name=f"Call from {caller}")
        expect(panel.locator(".call-state")).to_have_text("Connected")
        now_ms = int(time.time() * 1000)
        for index, (content, sender) in enumerate(
            [
                ("Hi, I was charged twice for my last bill.", {"senderType": "END_USER"}),
                ("Sorry about that. Let me look at your account.", {"senderType": "HUMAN_AGENT"}),
                ("Thank you, that would be great.", {"senderType": "END_USER"}),
            ]
        ):
            at = now_ms + index * 2000
            message = {"messageId": f"m{index}", "startTime": at, "endTime": at + 1500, "content": content}
            participant = caller if sender["senderType"] == "END_USER" else "005000000000001AAA"
            send("POST", f"/voiceCalls/{key}/messages", {"participantId": participant, **message, **sender})
        expect(panel.locator(".transcript li")).to_have_count(3)
        photograph(pages, "alice", screenshots, "call")

        expect(pages["sam"].locator("#live-calls tbody tr", has_text=key)).to_contain_text("connected")
        photograph(pages, "sam", screenshots, "supervisor")

    simulation = subprocess.Popen(
        [CLI, "simulate", "--base-url", doc_server.url, "--calls", "4", "--duration", "4s", "--seed", "7",
         "--agent", "bruno@demo.example.com", "--agent", "dana@demo.example.com", "--json"],
        cwd=doc_server.folder, env=doc_server.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        simulated = pages["sam"].locator("#live-calls tbody tr", has_text="sim-").filter(has_text="connected")
        expect(simulated.first).to_be_visible(timeout=45_000)
        photograph(pages, "sam", screenshots, "simulate")
    finally:
        simulation.terminate()
        simulation.wait(timeout=30)
