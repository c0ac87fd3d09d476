"""reroute as rerouteFlowExecution sends it (PATCH, body ``null``, no provider header): the call is passed over
its current or last offered agent, its preferred agent dropped, and routed again."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from tests.routing.conftest import ALICE, ALICE_ID, BRUNO, BRUNO_ID, DANA, Console, Telephony
from tests.voice_calls.conftest import CreateCall


async def lambda_reroute(client: httpx2.AsyncClient, make_token: Callable[..., str], call: str) -> httpx2.Response:
    """The Lambda's request exactly: the 4-byte body null, Content-Type JSON, no Telephony-Provider-Name."""
    headers = {"Authorization": f"Bearer {make_token()}", "Content-Type": "application/json"}
    return await client.patch(f"/telephony/v1/voiceCalls/{call}/reroute", content=b"null", headers=headers)


async def test_reroute_of_a_waiting_call_passes_over_its_last_offered_agent(
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    make_token: Callable[..., str],
    console: Console,
    telephony: Telephony,
) -> None:
    """The preferred agent's offer expired and the call waits: reroute passes that agent over and drops them."""
    bruno = await console.available(BRUNO)
    call = await create_call(callAttributes='{"Department__c":"Billing"}')
    await telephony.omni_flow(call, {"dialedNumber": "+14155550100"})
    (offer,) = await console.offers(bruno)
    assert (await console.decline(bruno, offer["id"])).status_code == 200
    await console.presence(bruno, "Busy")
    response = await lambda_reroute(client, make_token, call)
    assert (response.status_code, response.json()) == (200, {"status": "Success"})
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert psr["preferredUserId"] is None
    assert BRUNO_ID in psr["passedOver"]


async def test_reroute_drops_the_preferred_agent_of_a_standing_offer(
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    make_token: Callable[..., str],
    console: Console,
    telephony: Telephony,
) -> None:
    """Billing prefers bruno: reroute while his offer rings withdraws it and dana (billing 9) is offered the call."""
    bruno = await console.available(BRUNO)
    call = await create_call(callAttributes='{"Department__c":"Billing"}')
    await telephony.omni_flow(call, {"dialedNumber": "+14155550100"})
    assert len(await console.offers(bruno)) == 1
    dana = await console.available(DANA)
    await lambda_reroute(client, make_token, call)
    assert await console.offers(bruno) == []
    (offer,) = await console.offers(dana)
    assert offer["voiceCallId"] == call
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert (psr["preferredUserId"], psr["passedOver"]) == (None, [BRUNO_ID])


async def test_reroute_of_accepted_work_to_a_required_agent_goes_to_the_calls_queue(
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    make_token: Callable[..., str],
    console: Console,
    telephony: Telephony,
) -> None:
    """Routed to alice by id and accepted: reroute closes her work; the call goes to its queue, passing her over."""
    alice = await console.available(ALICE)
    call = await create_call()
    await telephony.route(call, {"routingTarget": ALICE_ID})
    await console.take(alice)
    await client.patch(
        f"/telephony/v1/voiceCalls/{call}", json={"queue": "Support", "isActiveCall": True}, headers=telephony.auth()
    )
    bruno = await console.available(BRUNO)
    await lambda_reroute(client, make_token, call)
    routing = await telephony.routing(call)
    assert [(w["username"], w["status"]) for w in routing["agentWork"]] == [(ALICE, "Closed"), (BRUNO, "Assigned")]
    assert len(await console.offers(bruno)) == 1
    (entry,) = [e for e in await telephony.timeline(call) if e["kind"] == "routing.rerouted"]
    assert entry["data"]["passedOver"] == [ALICE_ID]
    assert entry["data"]["droppedPreferredUserId"] == ALICE_ID
