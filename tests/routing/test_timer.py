"""The routing timer runs in the app's lifespan: it expires offers on the real clock, and stops with the app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx2

from callbridge.app import create_app
from callbridge.config import Settings
from callbridge.kit.state import AppState
from tests.routing.conftest import ALICE, BRUNO, Console
from tests.voice_calls.conftest import payload


async def test_the_timer_expires_offers_and_stops_with_the_app(
    settings: Settings, contact_center: None, auth: Callable[..., dict[str, str]]
) -> None:
    """A 1 s push timeout and a 50 ms timer: the offer moves to the other agent without any request."""
    app = create_app(settings.model_copy(update={"routing_tick_seconds": 0.05, "routing_push_timeout_seconds": 1}))
    async with app.router.lifespan_context(app):
        state: AppState = app.state.callbridge
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
            console = Console(http)
            alice, bruno = await console.available(ALICE), await console.available(BRUNO)
            created = await http.post("/telephony/v1/voiceCalls", json=payload("lambda_create_inbound"), headers=auth())
            call = created.json()["voiceCallId"]
            await http.patch(
                f"/telephony/v1/voiceCalls/{call}/omniFlow", json={"fallbackQueue": "Support"}, headers=auth()
            )
            first, second = (alice, bruno) if await console.offers(alice) else (bruno, alice)
            for _ in range(60):
                await asyncio.sleep(0.05)
                if await console.offers(second):
                    break
            assert await console.offers(first) == []
            assert [offer["voiceCallId"] for offer in await console.offers(second)] == [call]
        timer = state.routing_timer
        assert timer is not None and not timer.done()
    assert timer.done()
