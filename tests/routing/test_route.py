"""Route (both spellings), reroute, clearRouting, and what a call update means for routing."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from tests.routing.conftest import ALICE, ALICE_ID, BRUNO, Console, Telephony
from tests.voice_calls.conftest import CreateCall, payload


async def test_route_to_an_agent_by_user_id(create_call: CreateCall, telephony: Telephony) -> None:
    """PATCH /voiceCalls/route/{id} with a 005 id: a PSR that only that agent may take."""
    call = await create_call()
    response = await telephony.route(call, payload("lambda_route_voice_call"))
    assert response.json() == {"status": "Success"}
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert (psr["preferredUserId"], psr["isPreferredUserRequired"]) == (ALICE_ID, True)


async def test_documented_route_spelling(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], telephony: Telephony
) -> None:
    """POST /voiceCalls/{id}/routeVoiceCall does the same, here to a queue by API name."""
    call = await create_call()
    response = await client.post(
        f"/telephony/v1/voiceCalls/{call}/routeVoiceCall", json={"routingTarget": "Sales"}, headers=auth()
    )
    assert response.json() == {"status": "Success"}
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert psr["queueName"] == "Sales"


async def test_route_to_a_queue_by_id_and_a_flow_by_id(create_call: CreateCall, telephony: Telephony) -> None:
    """00G and 300 ids name a queue and a flow."""
    call = await create_call()
    await telephony.route(call, {"routingTarget": "Sales"})
    sales_id = (await telephony.routing(call))["pendingServiceRoutings"][0]["queueId"]
    other = await create_call(vendorCallKey="second")
    await telephony.route(other, {"routingTarget": sales_id})
    assert (await telephony.routing(other))["pendingServiceRoutings"][0]["queueName"] == "Sales"
    await telephony.omni_flow(other, {"flowDevName": "Transfers"})
    (evaluated,) = [e for e in await telephony.timeline(other) if e["kind"] == "routing.flow_evaluated"]
    flow_id = evaluated["data"]["flowId"]
    assert flow_id.startswith("300")
    await telephony.route(other, {"routingTarget": flow_id, "flowInputParameters": {"transferTarget": "Sales"}})
    assert (await telephony.routing(other))["pendingServiceRoutings"][0]["queueName"] == "Sales"


async def test_a_failing_flow_target_takes_the_fallback_queue(create_call: CreateCall, telephony: Telephony) -> None:
    """routingTarget is a flow that matches nothing: fallbackQueue routes."""
    call = await create_call()
    response = await telephony.route(call, {"routingTarget": "Never_Matches", "fallbackQueue": "Sales"})
    assert response.json() == {"status": "Success"}
    assert (await telephony.routing(call))["pendingServiceRoutings"][0]["queueName"] == "Sales"


async def test_an_unknown_target_is_routing_failed(create_call: CreateCall, telephony: Telephony) -> None:
    """Nothing has that id or name: 400 ROUTING_FAILED saying so."""
    call = await create_call()
    response = await telephony.route(call, {"routingTarget": "AGENT-123"})
    assert response.status_code == 400
    assert response.json()["errors"] == ["routingTarget AGENT-123: no agent, queue or flow has this id or name"]


async def test_route_needs_a_target(create_call: CreateCall, telephony: Telephony) -> None:
    """routingTarget is required."""
    call = await create_call()
    response = await telephony.route(call, {"fallbackQueue": "Support"})
    assert response.status_code == 400
    assert response.json()["errors"] == ["routingTarget: is required"]


async def test_clear_routing_with_null_and_no_provider_header(
    create_call: CreateCall, client: httpx2.AsyncClient, make_token: Callable[..., str], telephony: Telephony
) -> None:
    """cancelOmniFlowExecution: body null, no Telephony-Provider-Name; the PSR is gone."""
    call = await create_call()
    await telephony.omni_flow(call, {"dialedNumber": "+14155550100"})
    headers = {"Authorization": f"Bearer {make_token()}", "Content-Type": "application/json"}
    response = await client.patch(f"/telephony/v1/voiceCalls/{call}/clearRouting", content=b"null", headers=headers)
    assert (response.status_code, response.json()) == (200, {"status": "Success"})
    assert (await telephony.routing(call))["pendingServiceRoutings"] == []
    assert (await telephony.kinds(call))[-1] == "routing.cleared"


async def test_clear_routing_with_nothing_to_clear_succeeds(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], telephony: Telephony
) -> None:
    """An empty body on a call that was never routed: still Success, and the timeline says nothing changed."""
    call = await create_call()
    response = await client.patch(f"/telephony/v1/voiceCalls/{call}/clearRouting", headers=auth())
    assert response.json() == {"status": "Success"}
    (entry,) = [e for e in await telephony.timeline(call) if e["kind"] == "routing.cleared"]
    assert (entry["outcome"], entry["reason"]) == ("unchanged", "the call has no pending routing")


async def test_clear_routing_withdraws_the_standing_offer(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], console: Console
) -> None:
    """An abandoned call's offer disappears from the agent's console."""
    alice = await console.available(ALICE)
    call = await create_call()
    await client.patch(f"/telephony/v1/voiceCalls/{call}/omniFlow", json={"fallbackQueue": "Support"}, headers=auth())
    assert len(await console.offers(alice)) == 1
    await client.patch(f"/telephony/v1/voiceCalls/{call}/clearRouting", content=b"null", headers=auth())
    assert await console.offers(alice) == []
    assert (await console.presence(alice, "Available"))["capacityUsed"] == 0


async def test_reroute_after_an_accepted_offer(
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    make_token: Callable[..., str],
    console: Console,
    telephony: Telephony,
) -> None:
    """rerouteFlowExecution (PATCH, body null): the accepted work closes and the call goes to another agent."""
    alice = await console.available(ALICE)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    await console.take(alice)
    bruno = await console.available(BRUNO)
    headers = {"Authorization": f"Bearer {make_token()}", "Content-Type": "application/json"}
    response = await client.patch(f"/telephony/v1/voiceCalls/{call}/reroute", content=b"null", headers=headers)
    assert response.json() == {"status": "Success"}
    (offer,) = await console.offers(bruno)
    assert offer["voiceCallId"] == call
    assert offer["isTransfer"] is True
    work = (await telephony.routing(call))["agentWork"]
    assert [(w["username"], w["status"]) for w in work] == [(ALICE, "Closed"), (BRUNO, "Assigned")]


async def test_reroute_moves_a_standing_offer_on(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], console: Console
) -> None:
    """POST reroute (the documented method) while an offer stands: the next agent gets it."""
    alice = await console.available(ALICE)
    bruno = await console.available(BRUNO)
    call = await create_call()
    await client.patch(f"/telephony/v1/voiceCalls/{call}/omniFlow", json={"fallbackQueue": "Support"}, headers=auth())
    first = alice if await console.offers(alice) else bruno
    second = bruno if first is alice else alice
    response = await client.post(f"/telephony/v1/voiceCalls/{call}/reroute", headers=auth())
    assert response.json() == {"status": "Success"}
    assert await console.offers(first) == []
    assert len(await console.offers(second)) == 1


async def test_reroute_of_a_call_never_routed_is_409(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """Nothing to route again: NOTHING_TO_REROUTE."""
    call = await create_call()
    response = await client.patch(f"/telephony/v1/voiceCalls/{call}/reroute", content=b"null", headers=auth())
    assert (response.status_code, response.json()["code"]) == (409, "NOTHING_TO_REROUTE")


async def test_closing_the_call_clears_its_pending_routing(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], telephony: Telephony
) -> None:
    """Update with isActiveCall false clears pending routing (spec §3.1)."""
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    await client.patch(f"/telephony/v1/voiceCalls/{call}", json={"isActiveCall": False}, headers=auth())
    assert (await telephony.routing(call))["pendingServiceRoutings"] == []
    assert "routing.cleared" in await telephony.kinds(call)


async def test_an_open_call_keeps_its_pending_routing(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], telephony: Telephony
) -> None:
    """isActiveCall true: the PSR stays (a missed call keeps it until clearRouting)."""
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    await client.patch(f"/telephony/v1/voiceCalls/{call}", json={"isActiveCall": True}, headers=auth())
    assert len((await telephony.routing(call))["pendingServiceRoutings"]) == 1


async def test_closing_a_voicemail_keeps_its_routing(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], telephony: Telephony
) -> None:
    """The voicemail packager closes the record right after routing it: the voicemail still waits for an agent."""
    call = await create_call()
    await client.patch(f"/telephony/v1/voiceCalls/{call}", json=payload("voicemail_update_open"), headers=auth())
    await telephony.omni_flow(call, payload("voicemail_omniflow"))
    await client.patch(f"/telephony/v1/voiceCalls/{call}", json={"callCenterApiName": "ConformanceCC"}, headers=auth())
    assert len((await telephony.routing(call))["pendingServiceRoutings"]) == 1


async def test_ending_the_call_closes_the_agents_work(
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Callable[..., dict[str, str]],
    console: Console,
    telephony: Telephony,
) -> None:
    """CTR sync's update (an endTime) closes the accepted work and frees the agent's capacity."""
    alice = await console.available(ALICE)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    await console.take(alice)
    assert (await console.presence(alice, "Available"))["capacityUsed"] == 100
    await client.patch(f"/telephony/v1/voiceCalls/{call}", json=payload("ctr_sync_update"), headers=auth())
    (work,) = (await telephony.routing(call))["agentWork"]
    assert (work["status"], work["endReason"]) == ("Closed", "the call was closed")
    assert (await console.presence(alice, "Available"))["capacityUsed"] == 0
