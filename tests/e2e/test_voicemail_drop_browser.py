"""The voicemail-drop picker in a real browser (Chromium, Playwright) against a `callbridge serve` process: an
agent picks a drop on their call's card, and the telephony API's voicemailDrop answers it. The card is
photographed at 1440 and 390 px wide (into tmp_path) with the picker checked to fit it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from callbridge.auth.certificates import KeyPair
from tests.e2e.test_console_browser import CHROMIUM, OpenPage, Telephony, browser, open_page, payload, sign_in
from tests.outbound.conftest import CONFIG, DROPS
from tests.routing.conftest import ALICE
from tests.served import serve_contact_centre

__all__ = ["browser", "open_page"]

KEY = "outbound-drop-1"
CALLER = "+14155550123"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, key_pair: KeyPair) -> Iterator[str]:
    """`migrate`, `apply` (the contact centre with voicemail drops) and `serve`, as separate processes."""
    with serve_contact_centre(tmp_path_factory.mktemp("drop-browser"), key_pair, CONFIG) as served:
        yield served.url


def _fits(page: Page, inner: str, outer: str) -> bool:
    """``inner``'s box lies within ``outer``'s horizontally."""
    a, b = page.locator(inner).bounding_box(), page.locator(outer).bounding_box()
    assert a is not None and b is not None
    return a["x"] >= b["x"] - 0.5 and a["x"] + a["width"] <= b["x"] + b["width"] + 0.5


def test_an_agent_picks_a_voicemail_drop_the_telephony_side_reads(
    open_page: OpenPage, base_url: str, key_pair: KeyPair, tmp_path: Path
) -> None:
    """Accept a call, pick "Busy" in the card's select: it is marked picked, and voicemailDrop answers its URL."""
    page = open_page()
    telephony = Telephony(base_url, key_pair)
    try:
        _pick_and_photograph(page, telephony, tmp_path)
    finally:
        telephony.http.close()


def _pick_and_photograph(page: Page, telephony: Telephony, tmp_path: Path) -> None:
    sign_in(page, "/console", ALICE)
    page.get_by_role("button", name="Available").click()
    expect(page.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")

    call = telephony.send("POST", "/voiceCalls", payload("lambda_create_inbound", vendorCallKey=KEY))["voiceCallId"]
    telephony.send("PATCH", f"/voiceCalls/{call}/omniFlow", {"fallbackQueue": "Support"})
    page.locator(".offer").get_by_role("button", name="Accept").click()
    panel = page.get_by_role("article", name=f"Call from {CALLER}")
    picker = panel.get_by_label("Voicemail drop")
    expect(picker).to_be_visible()
    expect(picker.locator("option")).to_have_text(["None", *DROPS])

    picker.select_option("Busy")
    expect(panel.locator(".drop-picked")).to_have_text("Picked: Busy")
    expect(picker.locator("option:checked")).to_have_text("Busy (picked)")
    headers = {"Authorization": f"Bearer {telephony.token}"}
    answer = telephony.http.get(f"/telephony/v1/voiceCalls/{KEY}/voicemailDrop", headers=headers)
    assert answer.json() == {"recordingUrl": DROPS["Busy"]}

    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        panel.locator(".voicemail-drop").scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / f"voicemail-drop-{width}.png"), full_page=True)
        assert _fits(page, ".voicemail-drop select", "#calls"), f"the picker overflows its card at {width} px"
