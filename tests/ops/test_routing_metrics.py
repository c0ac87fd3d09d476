"""Routing on /metrics: offers by outcome and routing decisions by step, counted from the published events."""

from __future__ import annotations

import httpx2

from tests.ops.conftest import eventually, scrape, value
from tests.routing.conftest import (
    ALICE,
    BRUNO,
    Console,
    Telephony,
    app,
    auth,
    clock,
    console,
    contact_center,
    telephony,
)
from tests.voice_calls.conftest import CreateCall, create_call

__all__ = ["app", "auth", "clock", "console", "contact_center", "create_call", "telephony"]

OFFERS = "callbridge_routing_offers_total"
DECISIONS = "callbridge_routing_decisions_total"


async def test_offers_and_decisions_are_counted_by_outcome(
    client: httpx2.AsyncClient, create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """A call routed to the Support queue is offered to one agent, declined, offered to the next and accepted."""
    alice = await console.available(ALICE)
    bruno = await console.available(BRUNO)
    call = await create_call()
    before = await scrape(client)
    response = await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    assert response.status_code == 200, response.text
    first, second = (alice, bruno) if await console.offers(alice) else (bruno, alice)
    (offer,) = await console.offers(first)
    assert (await console.decline(first, offer["id"])).status_code == 200
    await console.take(second)
    expected = {
        (OFFERS, ("outcome", "made")): 2,
        (OFFERS, ("outcome", "declined")): 1,
        (OFFERS, ("outcome", "accepted")): 1,
        (DECISIONS, ("step", "psr_created"), ("outcome", "created")): 1,
    }

    async def counted() -> bool:
        after = await scrape(client)
        return all(
            value(after, name, **dict(labels)) - value(before, name, **dict(labels)) == n
            for (name, *labels), n in expected.items()
        )

    await eventually(counted)
