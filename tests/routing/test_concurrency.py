"""Correctness under concurrency: a PSR is never offered to two agents or assigned twice, and no agent goes
past their capacity, with requests racing in one app and across two apps (two Database objects, as two
processes) on one SQLite file."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx2
from sqlalchemy import select

from callbridge.kit.db import Database
from callbridge.models import Agent, AgentState, AgentWork, PendingServiceRouting
from tests.routing.conftest import ALICE, BRUNO, DANA, Console, Telephony
from tests.voice_calls.conftest import payload

Auth = Callable[..., dict[str, str]]


async def check_invariants(database_url: str) -> dict[str, Any]:
    """Capacity held equals the work holding it and stays within capacity; one standing offer per PSR, and it
    is the PSR's; no work item is open with two agents."""
    database = Database(database_url)
    try:
        async with database.read_session() as session:
            capacity = {a.user_id: a.capacity for a in await session.scalars(select(Agent))}
            works = (await session.scalars(select(AgentWork))).all()
            psrs = {p.id: p for p in await session.scalars(select(PendingServiceRouting))}
            for state in await session.scalars(select(AgentState)):
                held = sum(
                    w.capacity_weight
                    for w in works
                    if w.user_id == state.user_id and w.status in ("Assigned", "Opened")
                )
                assert state.capacity_used == held, state.user_id
                assert held <= capacity[state.user_id], state.user_id
            standing = Counter(w.psr_id for w in works if w.status == "Assigned")
            assert all(count == 1 for count in standing.values()), standing
            for work in works:
                if work.status == "Assigned":
                    assert psrs[work.psr_id].offer_id == work.id
            opened = Counter(w.work_item_id for w in works if w.status == "Opened")
            assert all(count == 1 for count in opened.values()), opened
            return {"works": works, "psrs": psrs}
    finally:
        await database.dispose()


async def new_calls(client: httpx2.AsyncClient, auth: Auth, count: int) -> list[str]:
    ids = []
    for n in range(count):
        body = payload("lambda_create_inbound", vendorCallKey=f"race-{n}")
        response = await client.post("/telephony/v1/voiceCalls", json=body, headers=auth())
        ids.append(response.json()["voiceCallId"])
    return ids


async def test_racing_accepts_assign_once(
    client: httpx2.AsyncClient, auth: Auth, telephony: Telephony, console: Console, database_url: str
) -> None:
    """Twenty simultaneous accepts of one offer: one succeeds, the rest are 409."""
    alice = await console.available(ALICE)
    (call,) = await new_calls(client, auth, 1)
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    (offer,) = await console.offers(alice)
    responses = await asyncio.gather(*(console.accept(alice, offer["id"]) for _ in range(20)))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    await check_invariants(database_url)


async def test_racing_routes_respect_capacity(
    client: httpx2.AsyncClient, auth: Auth, telephony: Telephony, console: Console, database_url: str
) -> None:
    """Sixteen calls routed at once to three agents (capacity 100, 100, 200): four offers, never more."""
    agents = [await console.available(name) for name in (ALICE, BRUNO, DANA)]
    calls = await new_calls(client, auth, 16)
    responses = await asyncio.gather(*(telephony.omni_flow(c, {"fallbackQueue": "Support"}) for c in calls))
    assert {r.status_code for r in responses} == {200}
    offers = [o for headers in agents for o in await console.offers(headers)]
    assert len(offers) == 4
    assert len({o["voiceCallId"] for o in offers}) == 4
    await check_invariants(database_url)


async def test_racing_routes_clears_and_accepts(
    client: httpx2.AsyncClient, auth: Auth, telephony: Telephony, console: Console, database_url: str
) -> None:
    """Routes, clears, presence changes and accepts interleaved at random keep every invariant."""
    agents = [await console.available(name) for name in (ALICE, BRUNO, DANA)]
    calls = await new_calls(client, auth, 12)

    async def accept_all(headers: dict[str, str]) -> None:
        for offer in await console.offers(headers):
            await console.accept(headers, offer["id"])

    async def clear(call: str) -> None:
        await client.patch(f"/telephony/v1/voiceCalls/{call}/clearRouting", content=b"null", headers=auth())

    steps = [telephony.omni_flow(c, {"fallbackQueue": "Support"}) for c in calls]
    steps += [clear(c) for c in calls[::3]]
    steps += [accept_all(h) for h in agents for _ in range(3)]
    steps += [console.presence(agents[0], "Busy"), console.presence(agents[0], "Available")]
    await asyncio.gather(*steps)
    await check_invariants(database_url)


async def test_two_apps_racing_accepts_assign_once(
    client: httpx2.AsyncClient,
    second_app: httpx2.AsyncClient,
    auth: Auth,
    telephony: Telephony,
    console: Console,
    database_url: str,
) -> None:
    """The same offer accepted through two apps at once: exactly one accept wins."""
    alice = await console.available(ALICE)
    (call,) = await new_calls(client, auth, 1)
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    (offer,) = await console.offers(alice)
    path = f"/console/v1/offers/{offer['id']}/accept"
    responses = await asyncio.gather(
        *(http.post(path, headers=alice) for _ in range(10) for http in (client, second_app))
    )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    await check_invariants(database_url)


async def test_two_apps_racing_routes_respect_capacity(
    client: httpx2.AsyncClient,
    second_app: httpx2.AsyncClient,
    auth: Auth,
    telephony: Telephony,
    console: Console,
    database_url: str,
) -> None:
    """Calls routed through both apps at once, agents going available through both: four offers, no more."""
    calls = await new_calls(client, auth, 16)
    second = Console(second_app)
    sessions = await asyncio.gather(console.sign_in(ALICE), second.sign_in(BRUNO), console.sign_in(DANA))

    async def route(n: int, call: str) -> httpx2.Response:
        http = client if n % 2 else second_app
        return await http.patch(
            f"/telephony/v1/voiceCalls/{call}/omniFlow", json={"fallbackQueue": "Support"}, headers=auth()
        )

    results = await asyncio.gather(
        *(route(n, c) for n, c in enumerate(calls)),
        console.presence(sessions[0], "Available"),
        second.presence(sessions[1], "Available"),
        second.presence(sessions[2], "Available"),
    )
    assert all(r.status_code == 200 for r in results[: len(calls)])  # type: ignore[union-attr]
    state = await check_invariants(database_url)
    assert sum(1 for w in state["works"] if w.status == "Assigned") == 4
