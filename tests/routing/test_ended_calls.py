"""An ended call that is not a voicemail is never offered to an agent: routing it is 409 CALL_ENDED, and its open
routing or ringing offer is withdrawn when it ends. Voicemails are routed after their end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx2

from callbridge.events.schemas import RoutingOfferEnded
from callbridge.kit.state import AppState
from tests.routing.conftest import ALICE, ALICE_ID, Console, Telephony
from tests.voice_calls.conftest import CreateCall, payload

Auth = Callable[..., dict[str, str]]
CALL = "/telephony/v1/voiceCalls"


async def ended_call(create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth) -> str:
    """A call CTR sync has already ended (its update carries an endTime and no isActiveCall)."""
    call = await create_call()
    response = await client.patch(f"{CALL}/{call}", json=payload("ctr_sync_update"), headers=auth())
    assert response.status_code == 200, response.text
    return call


async def test_omniflow_on_an_ended_call_is_409_call_ended(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth, telephony: Telephony
) -> None:
    """executeOmniFlow after the caller hung up: 409 CALL_ENDED in the standard error body, nothing routed."""
    call = await ended_call(create_call, client, auth)
    response = await telephony.omni_flow(call, payload("lambda_execute_omniflow"))
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], set(body)) == ("CALL_ENDED", {"code", "message", "errors"})
    assert body["errors"][0].startswith("voiceCallId: the call has ended")
    assert (await telephony.routing(call))["pendingServiceRoutings"] == []


async def test_route_on_an_ended_call_is_409_call_ended(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth, telephony: Telephony
) -> None:
    """routeVoiceCall (PATCH /voiceCalls/route/{id}) on an ended call: 409 CALL_ENDED."""
    call = await ended_call(create_call, client, auth)
    response = await telephony.route(call, payload("lambda_route_voice_call"))
    assert (response.status_code, response.json()["code"]) == (409, "CALL_ENDED")


async def test_reroute_on_an_ended_call_is_409_call_ended(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth, console: Console, telephony: Telephony
) -> None:
    """reroute (body null) on a call that was routed, accepted and then ended: 409 CALL_ENDED."""
    alice = await console.available(ALICE)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    await console.take(alice)
    await client.patch(f"{CALL}/{call}", json=payload("ctr_sync_update"), headers=auth())
    response = await client.patch(f"{CALL}/{call}/reroute", content=b"null", headers=auth())
    assert (response.status_code, response.json()["code"]) == (409, "CALL_ENDED")


async def test_a_refused_routing_is_in_the_timeline(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth, telephony: Telephony
) -> None:
    """The refusal is recorded (kind routing.refused) with the request that was refused."""
    call = await ended_call(create_call, client, auth)
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    (entry,) = [e for e in await telephony.timeline(call) if e["kind"] == "routing.refused"]
    assert (entry["outcome"], entry["data"]["request"], entry["data"]["code"]) == ("refused", "omniFlow", "CALL_ENDED")


async def test_an_end_time_withdraws_the_ringing_offer(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth, console: Console, telephony: Telephony
) -> None:
    """The caller hangs up while alice's offer rings (endTime, isActiveCall still true): the offer is withdrawn."""
    alice = await console.available(ALICE)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    assert len(await console.offers(alice)) == 1
    update = {"endTime": "2026-11-24T18:17:00Z", "isActiveCall": True}
    assert (await client.patch(f"{CALL}/{call}", json=update, headers=auth())).status_code == 200
    assert await console.offers(alice) == []
    assert (await telephony.routing(call))["pendingServiceRoutings"] == []
    (withdrawn,) = [e for e in await telephony.timeline(call) if e["kind"] == "routing.offer_withdrawn"]
    assert withdrawn["reason"].startswith("The caller hung up")


async def test_closing_a_waiting_call_clears_its_routing_and_says_why(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth, telephony: Telephony
) -> None:
    """Nobody was offered the call yet: isActiveCall false removes the routing; the timeline says the call ended."""
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Sales"})
    await client.patch(f"{CALL}/{call}", json={"isActiveCall": False}, headers=auth())
    assert (await telephony.routing(call))["pendingServiceRoutings"] == []
    (cleared,) = [e for e in await telephony.timeline(call) if e["kind"] == "routing.cleared"]
    assert cleared["reason"].startswith("the call ended (isActiveCall false)")


async def test_the_withdrawal_is_pushed_to_the_agent_with_its_reason(
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
    console: Console,
    telephony: Telephony,
    state: AppState,
) -> None:
    """The console receives routing.offer_ended (withdrawn) for alice, naming the hang-up as the reason."""
    await console.available(ALICE)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    queue = state.broker.subscribe(1000)
    await client.patch(f"{CALL}/{call}", json={"endTime": "2026-11-24T18:17:00Z"}, headers=auth())
    await asyncio.sleep(0)
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    state.broker.unsubscribe(queue)
    (ended,) = [e for e in events if isinstance(e, RoutingOfferEnded)]
    assert (ended.user_id, ended.outcome) == (ALICE_ID, "withdrawn")
    assert (ended.reason or "").startswith("The caller hung up")


async def test_a_voicemail_is_routed_after_its_end(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth, telephony: Telephony
) -> None:
    """The voicemail packager's order: update (callOrigin Voicemail, an endTime), then omniFlow: it is routed."""
    call = await create_call()
    await client.patch(f"{CALL}/{call}", json=payload("voicemail_update_open"), headers=auth())
    response = await telephony.omni_flow(call, payload("voicemail_omniflow"))
    assert response.status_code == 200, response.text
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert psr["queueName"] == "Voicemail"
