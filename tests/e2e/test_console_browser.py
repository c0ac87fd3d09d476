"""End to end in a real browser: Debian's Chromium, driven by Playwright, against a `callbridge serve` process.

An agent and a supervisor sign in to their pages; a call created and routed through the telephony API with a
signed token is offered to the agent, who accepts it by clicking; transcripts, a resent partial, signals and
a hold reach both pages over the push stream; the agent closes the work. The pages are photographed into a
temporary folder, or into CALLBRIDGE_SCREENSHOTS_DIR when set (`make screenshots` refreshes docs/screenshots/).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from callbridge.auth.certificates import KeyPair
from tests.conftest import PAYLOADS, TokenFactory
from tests.routing.conftest import ALICE, ALICE_ID, BASIC_ARN, BRUNO, CONFIG, PASSWORD, SAM
from tests.served import serve_contact_centre

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KEY = "5b2c7a9e-3f1d-4e8a-9c61-0d2f4b7e8a13"  # lambda_create_inbound's vendorCallKey
CALLER = "+14155550123"
IN_CALL_MS = 1795544190000  # inside that call's conversation (it starts 2026-11-24T18:15:55.793Z)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Chromium is not installed at /usr/bin/chromium (apt-get install chromium; .ci/run does it as root)",
)

expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, key_pair: KeyPair) -> Iterator[str]:
    """`migrate`, `apply` (queues, agents with passwords, a supervisor) and `serve`, as separate processes; the
    tests of this module share the server (each has its own browser context, so its own session)."""
    with serve_contact_centre(
        tmp_path_factory.mktemp("console-browser"), key_pair, CONFIG, {"COLUMNS": "250"}
    ) as served:
        yield served.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


OpenPage = Callable[[], Page]


@pytest.fixture
def open_page(browser: Browser, base_url: str) -> Iterator[OpenPage]:
    """A page in a fresh browser context (its own cookies: its own console session)."""
    contexts: list[BrowserContext] = []

    def new_page() -> Page:
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 1000})
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


class Telephony:
    """The telephony API as the Amazon Connect Lambdas call it, with a token signed by the trusted key."""

    def __init__(self, base_url: str, key_pair: KeyPair) -> None:
        self.http = httpx2.Client(base_url=base_url, timeout=30)
        self.token = TokenFactory(key_pair)()

    def send(self, method: str, url: str, body: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Telephony-Provider-Name": "amazon-connect"}
        response = self.http.request(method, f"/telephony/v1{url}", json=body, headers=headers)
        assert response.status_code < 300, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def say(self, message_id: str, content: str, *, agent: bool = False, offset_ms: int = 0) -> None:
        start = IN_CALL_MS + offset_ms
        sender = {"senderType": "HUMAN_AGENT", "participantId": ALICE_ID} if agent else {"senderType": "END_USER"}
        body = {"messageId": message_id, "startTime": start, "endTime": start + 1500, "content": content}
        self.send("POST", f"/voiceCalls/{KEY}/messages", {"participantId": CALLER, **body, **sender})


def payload(name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return {**body, **overrides}


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#whoami")).to_have_text(username)
    # Live updates flow once the stream said hello: only then is nothing missed.
    expect(page.locator("#stream-status")).to_have_attribute("data-state", "live")


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the pages are photographed: never a tracked folder unless `make screenshots` asks for it."""
    return Path(os.environ.get("CALLBRIDGE_SCREENSHOTS_DIR") or tmp_path)


def test_an_agent_takes_a_call_the_supervisor_watches(
    open_page: OpenPage, base_url: str, key_pair: KeyPair, screenshots: Path
) -> None:
    """Offer, accept by click, live transcripts on both pages, a partial replaced in place, sentiment and a
    category, hold (a transcript dropped on_hold, in the supervisor's timeline), and closing the work."""
    agent, supervisor = open_page(), open_page()
    telephony = Telephony(base_url, key_pair)

    sign_in(supervisor, "/console/supervisor", SAM)
    sign_in(agent, "/console", ALICE)
    agent.get_by_role("button", name="Available").click()
    expect(agent.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")

    # A call arrives and is routed as the Lambdas do it.
    voice_call_id = telephony.send("POST", "/voiceCalls", payload("lambda_create_inbound"))["voiceCallId"]
    routed = telephony.send("PATCH", f"/voiceCalls/{voice_call_id}/omniFlow", payload("lambda_execute_omniflow"))
    assert routed == {"queue": BASIC_ARN}

    # The offer shows with its countdown; the agent accepts it.
    offer = agent.locator(".offer")
    expect(offer).to_contain_text(f"Call from {CALLER}")
    expect(offer).to_contain_text("in queue SCV_BASIC_QUEUE")
    expect(offer.locator(".offer-countdown")).to_have_text(re.compile(r"Expires in \d+ s"))
    offer.get_by_role("button", name="Accept").click()
    expect(agent.locator(".offer")).to_have_count(0)
    panel = agent.get_by_role("article", name=f"Call from {CALLER}")
    expect(panel.locator(".call-queue")).to_have_text("SCV_BASIC_QUEUE")
    expect(panel.locator(".call-attributes")).to_contain_text("Department__c")
    expect(panel.locator(".call-state")).to_have_text("Connected")

    # The supervisor sees the call connected, and finds it by vendorCallKey.
    live_row = supervisor.locator("#live-calls tbody tr", has_text=KEY)
    expect(live_row).to_contain_text("connected")
    expect(live_row).to_contain_text(ALICE)
    supervisor.get_by_label("VoiceCall id or vendorCallKey").fill(KEY)
    supervisor.get_by_role("button", name="Show call").click()
    expect(supervisor.locator("#cv-id")).to_have_text(voice_call_id)

    # Both sides speak; each appears on both pages, told apart.
    telephony.say("m1", "Hi, my order never arrived.")
    telephony.say("m2", "Sorry to hear that, let me check.", agent=True, offset_ms=2000)
    transcript = panel.locator(".transcript")
    expect(transcript.locator("li.from-enduser")).to_have_text(re.compile("Customer.*my order never arrived"))
    expect(transcript.locator("li.from-agent")).to_have_text(re.compile("Agent.*let me check"))
    watched = supervisor.locator("#cv-transcript")
    expect(watched.locator("li.from-enduser")).to_contain_text("my order never arrived")
    expect(watched.locator("li.from-agent")).to_contain_text("let me check")

    # A partial, then its final with the same messageId: one line, replaced in place.
    telephony.say("m3", "I would like a re", offset_ms=4000)
    line = transcript.locator('li[data-message-id="m3"]')
    expect(line).to_contain_text("I would like a re")
    telephony.say("m3", "I would like a refund, please.", offset_ms=4000)
    expect(line).to_contain_text("I would like a refund, please.")
    expect(line).to_have_class(re.compile("revised"))
    expect(transcript.locator('li[data-message-id="m3"]')).to_have_count(1)
    expect(transcript.locator("li[data-message-id]").last).to_have_attribute("data-message-id", "m3")
    expect(watched.locator('li[data-message-id="m3"]')).to_contain_text("refund, please.")

    # Real-time intelligence: each participant's sentiment, and a category.
    signals = {
        "service": "AmazonConnectContactLens",
        "events": [
            {
                "type": "IntelligenceSignal__Sentiment",
                "value": "-600",
                "participant": "CUSTOMER",
                "startTime": IN_CALL_MS + 4000,
            },
            {
                "type": "IntelligenceSignal__Sentiment",
                "value": "450",
                "participant": "AGENT",
                "startTime": IN_CALL_MS + 4200,
            },
            {"type": "IntelligenceSignal__Category", "value": "CustomerAngry", "startTime": IN_CALL_MS + 4500},
        ],
    }
    telephony.send("POST", f"/voiceCalls/{KEY}/realtimeConversationEvents", signals)
    expect(panel.locator('.sentiment[data-participant="CUSTOMER"]')).to_have_text("Negative (-600)")
    expect(panel.locator('.sentiment[data-participant="CUSTOMER"]')).to_have_attribute("data-tone", "negative")
    expect(panel.locator('.sentiment[data-participant="AGENT"]')).to_have_text("Positive (450)")
    expect(panel.locator(".categories")).to_contain_text("CustomerAngry")

    # Hold from the page: what is said meanwhile is dropped, and the supervisor's timeline says why.
    panel.get_by_role("button", name="Hold").click()
    expect(panel.locator(".call-state")).to_have_text("On hold")
    expect(panel.get_by_role("button", name="Resume call")).to_be_visible()
    telephony.say("m4", "Hello? Anyone there?", offset_ms=6000)
    expect(transcript.locator('li[data-drop-reason="on_hold"]')).to_contain_text("on hold")
    dropped = supervisor.locator('#cv-timeline li[data-kind="transcript.dropped"]')
    expect(dropped).to_contain_text("on_hold")
    expect(supervisor.locator('#cv-timeline li[data-kind="voice_call.hold"]')).to_have_count(1)

    screenshots.mkdir(parents=True, exist_ok=True)
    agent.screenshot(path=str(screenshots / "console.png"), full_page=True)
    supervisor.screenshot(path=str(screenshots / "supervisor.png"), full_page=True)

    # Resume, then close the work: the call leaves the agent's page, and the supervisor sees the work closed.
    panel.get_by_role("button", name="Resume call").click()
    expect(panel.locator(".call-state")).to_have_text("Connected")
    panel.get_by_role("button", name="Close work").click()
    expect(agent.locator(".call")).to_have_count(0)
    expect(agent.locator("#no-call")).to_be_visible()
    expect(supervisor.locator('#cv-timeline li[data-kind="routing.work_closed"]')).to_contain_text("closed")
    expect(supervisor.locator("#agents tbody tr", has_text=ALICE)).to_contain_text("0 / 100")
    telephony.http.close()


def test_a_missed_call_leaves_the_backlog_when_the_caller_hangs_up(
    open_page: OpenPage, base_url: str, key_pair: KeyPair
) -> None:
    """A call waiting in a queue nobody staffs leaves the supervisor's backlog once it ends (the caller hung up),
    and its timeline says its routing was cleared because the call ended."""
    supervisor = open_page()
    telephony = Telephony(base_url, key_pair)
    sign_in(supervisor, "/console/supervisor", SAM)
    key = "missed-call-1"
    voice_call_id = telephony.send("POST", "/voiceCalls", payload("lambda_create_inbound", vendorCallKey=key))[
        "voiceCallId"
    ]
    telephony.send("PATCH", f"/voiceCalls/{voice_call_id}/omniFlow", {"fallbackQueue": "Spanish"})
    queue = supervisor.get_by_role("region", name="Queue Spanish")
    row = queue.locator("tr", has_text=key)
    expect(row).to_contain_text("waiting")

    telephony.send("PATCH", f"/voiceCalls/{key}", {"endTime": "2026-11-24T18:17:10Z", "isActiveCall": True})
    expect(queue).to_have_count(0)
    supervisor.get_by_label("VoiceCall id or vendorCallKey").fill(key)
    supervisor.get_by_role("button", name="Show call").click()
    cleared = supervisor.locator('#cv-timeline li[data-kind="routing.cleared"]')
    expect(cleared).to_contain_text("the call ended (endTime) while it waited for an agent")
    telephony.http.close()


def test_a_ringing_offer_is_withdrawn_when_the_caller_hangs_up(
    open_page: OpenPage, base_url: str, key_pair: KeyPair
) -> None:
    """The caller hangs up while Bruno's offer rings: the offer leaves his console, which says why."""
    agent = open_page()
    telephony = Telephony(base_url, key_pair)
    sign_in(agent, "/console", BRUNO)
    agent.get_by_role("button", name="Available").click()
    expect(agent.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")
    key = "hung-up-1"
    telephony.send("POST", "/voiceCalls", payload("lambda_create_inbound", vendorCallKey=key))
    telephony.send("PATCH", f"/voiceCalls/{key}/omniFlow", {"fallbackQueue": "Spanish"})
    expect(agent.locator(".offer")).to_have_count(1)

    telephony.send("PATCH", f"/voiceCalls/{key}", {"endTime": "2026-11-24T18:17:10Z", "isActiveCall": False})
    expect(agent.locator(".offer")).to_have_count(0)
    expect(agent.locator("#notice")).to_contain_text("Offer withdrawn: The caller hung up")
    agent.get_by_role("button", name="Offline").click()
    telephony.http.close()


def test_an_agent_is_told_the_supervisor_view_is_not_theirs(open_page: OpenPage) -> None:
    """An agent signing in on the supervisor page gets a clear message and no view; reloading says the same."""
    page = open_page()
    page.goto("/console/supervisor")
    page.get_by_label("Username", exact=True).fill(ALICE)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="This view is for supervisors")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    response = page.reload()
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="This view is for supervisors")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(ALICE)


def test_the_console_works_from_the_keyboard(open_page: OpenPage) -> None:
    """The sign-in form takes focus, with the skip link and page links before it; Tab walks the fields in order,
    Enter signs in and focus moves to the page, from which Tab reaches the presence buttons and Space presses one."""
    page = open_page()
    page.goto("/console")
    username = page.get_by_label("Username", exact=True)
    expect(username).to_be_focused()
    for before in ("Supervisor", "Agent console", "Skip to content"):
        page.keyboard.press("Shift+Tab")
        expect(page.get_by_role("link", name=before)).to_be_focused()
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(username).to_be_focused()
    page.keyboard.type(BRUNO)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Org id (optional)")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Available")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Busy")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Busy")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#presence-now")).to_contain_text("Busy")


def test_a_wrong_password_is_refused_in_the_form(open_page: OpenPage) -> None:
    """The sign-in form shows the server's refusal and stays; nothing of the console appears."""
    page = open_page()
    page.goto("/console")
    page.get_by_label("Username", exact=True).fill(ALICE)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="wrong")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()


def test_signing_out_ends_the_session(open_page: OpenPage) -> None:
    """Sign out returns to the sign-in form, and the page stays signed out after a reload."""
    page = open_page()
    sign_in(page, "/console", ALICE)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#identity")).to_be_hidden()
