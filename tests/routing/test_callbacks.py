"""POST /voiceCalls/{id}/requestCallback: a ContactRequest routed by the call center's callback routing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest

from callbridge.auth.certificates import KeyPair
from callbridge.kit.clock import FrozenClock
from callbridge.kit.times import isoformat_z
from callbridge.routing.timers import Tick
from tests.routing.conftest import ALICE, CHEN, CONFIG, SAM, Console, Telephony, apply_config
from tests.voice_calls.conftest import CreateCall, payload

Auth = Callable[..., dict[str, str]]


async def request_callback(client: httpx2.AsyncClient, auth: Auth, call: str, body: object) -> httpx2.Response:
    headers = {key: value for key, value in auth().items() if key != "Telephony-Provider-Name"}
    return await client.post(f"/telephony/v1/voiceCalls/{call}/requestCallback", json=body, headers=headers)


async def test_callback_returns_a_contact_request_id(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth, telephony: Telephony
) -> None:
    """callbackExecution (no provider header): {"recordId": "0SR…"} and the request is stored."""
    call = await create_call()
    response = await request_callback(client, auth, call, payload("lambda_request_callback"))
    assert response.status_code == 200, response.text
    record_id = response.json()["recordId"]
    assert record_id.startswith("0SR") and len(record_id) == 18
    (request,) = (await telephony.routing(call))["contactRequests"]
    assert (request["id"], request["callbackNumber"]) == (record_id, "+14155550123")


async def test_callback_is_routed_by_the_callback_flow(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth, telephony: Telephony, console: Console
) -> None:
    """The Callbacks flow routes to Support with priority 2; an agent is offered the ContactRequest."""
    alice = await console.available(ALICE)
    call = await create_call()
    record_id = (await request_callback(client, auth, call, {"callbackNumber": "+14155550123"})).json()["recordId"]
    (offer,) = await console.offers(alice)
    assert (offer["workItemType"], offer["workItemId"], offer["priority"]) == ("ContactRequest", record_id, 2)
    assert (offer["callbackNumber"], offer["isPreviewCallback"], offer["voiceCallId"]) == ("+14155550123", False, call)


async def test_preview_callback_is_kept(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth, console: Console
) -> None:
    """The byo connector's isPreviewCallback true reaches the agent's offer."""
    alice = await console.available(ALICE)
    call = await create_call()
    body = {"callbackNumber": "+14155550123", "vendorCallKey": "abc", "isPreviewCallback": True}
    await request_callback(client, auth, call, body)
    (offer,) = await console.offers(alice)
    assert offer["isPreviewCallback"] is True


async def test_a_scheduled_callback_waits_for_its_time(
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
    telephony: Telephony,
    console: Console,
    clock: FrozenClock,
    tick: Callable[[], Awaitable[Tick]],
) -> None:
    """scheduledRoutingDateTime an hour ahead: not offered before then; released by the timer at that time."""
    alice = await console.available(ALICE)
    call = await create_call()
    when = isoformat_z(clock.now() + timedelta(hours=1))
    await request_callback(client, auth, call, {"callbackNumber": "+14155550123", "scheduledRoutingDateTime": when})
    assert await console.offers(alice) == []
    clock.advance(minutes=59)
    assert (await tick()).released == 0
    clock.advance(minutes=1)
    assert (await tick()).released == 1
    assert [o["workItemType"] for o in await console.offers(alice)] == ["ContactRequest"]
    kinds = [e["kind"] for e in await telephony.timeline(call, ttl=7200)]
    assert kinds[-3:] == ["routing.callback_scheduled", "routing.callback_released", "routing.offer_made"]


async def test_callback_number_is_required(create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth) -> None:
    """400 naming callbackNumber."""
    call = await create_call()
    response = await request_callback(client, auth, call, {"isPreviewCallback": True})
    assert response.status_code == 400
    assert response.json()["errors"] == ["callbackNumber: is required"]


async def test_callback_is_json_only(create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth) -> None:
    """The documented exception: an XML body is 415."""
    call = await create_call()
    headers = {**auth(), "Content-Type": "application/xml"}
    body = "<r><callbackNumber>+14155550123</callbackNumber></r>"
    response = await client.post(f"/telephony/v1/voiceCalls/{call}/requestCallback", content=body, headers=headers)
    assert response.status_code == 415


NO_CALLBACK_ROUTING = CONFIG.replace("        callback: {flow: Callbacks, fallback_queue: Support}\n", "")


async def test_without_callback_routing_the_original_queue_routes_it(
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
    console: Console,
    telephony: Telephony,
    database_url: str,
    tmp_path: Path,
    key_pair: KeyPair,
) -> None:
    """No callback flow or queue: the callback is routed by the queue the original call waited in."""
    await apply_config(database_url, tmp_path, key_pair, NO_CALLBACK_ROUTING)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Sales"})
    await telephony.clear_routing(call)
    chen = await console.available(CHEN)
    response = await request_callback(
        client, auth, call, payload("lambda_request_callback", scheduledRoutingDateTime=None)
    )
    assert response.status_code == 200, response.text
    (offer,) = await console.offers(chen)
    assert (offer["workItemType"], offer["workItemId"]) == ("ContactRequest", response.json()["recordId"])


async def test_a_callback_nothing_can_route_is_kept_and_waits(
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
    telephony: Telephony,
    database_url: str,
    tmp_path: Path,
    key_pair: KeyPair,
) -> None:
    """No callback routing and no original queue: 200 with the 0SR id, stored as Unrouted, the timeline says so."""
    await apply_config(database_url, tmp_path, key_pair, NO_CALLBACK_ROUTING)
    call = await create_call()
    response = await request_callback(client, auth, call, payload("lambda_request_callback"))
    assert response.status_code == 200, response.text
    record_id = response.json()["recordId"]
    assert record_id.startswith("0SR")
    (request,) = (await telephony.routing(call))["contactRequests"]
    assert (request["id"], request["status"]) == (record_id, "Unrouted")
    (entry,) = [e for e in await telephony.timeline(call) if e["kind"] == "routing.callback_waiting"]
    assert entry["data"]["contactRequestId"] == record_id
    assert "nothing can route the callback" in entry["reason"]


async def test_a_waiting_callback_is_listed_for_supervisors(
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
    console: Console,
    database_url: str,
    tmp_path: Path,
    key_pair: KeyPair,
) -> None:
    """GET /console/v1/callbacks lists the unroutable callback for a supervisor; an agent gets 403."""
    await apply_config(database_url, tmp_path, key_pair, NO_CALLBACK_ROUTING)
    call = await create_call()
    record_id = (await request_callback(client, auth, call, payload("lambda_request_callback"))).json()["recordId"]
    supervisor = await console.sign_in(SAM)
    listed = (await client.get("/console/v1/callbacks", headers=supervisor)).json()
    assert [(c["id"], c["callbackNumber"], c["voiceCallId"]) for c in listed] == [(record_id, "+14155550123", call)]
    agent = await console.sign_in(ALICE)
    assert (await client.get("/console/v1/callbacks", headers=agent)).status_code == 403


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00Z"])
async def test_callback_at_the_edges_of_the_storable_range_is_taken(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth, tick: Callable[[], Awaitable[Tick]], moment: str
) -> None:
    """scheduledRoutingDateTime at the first or last storable instant is taken, and timers survive it."""
    call = await create_call()
    body = {"callbackNumber": "+14155550123", "scheduledRoutingDateTime": moment}
    response = await request_callback(client, auth, call, body)
    assert response.status_code == 200, response.text
    await tick()


async def test_callback_scheduled_outside_the_storable_range_is_400(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Auth
) -> None:
    """scheduledRoutingDateTime 0001-01-01T00:00:00+01:00 (year 0 in UTC) is a 400 naming it."""
    call = await create_call()
    body = {"callbackNumber": "+14155550123", "scheduledRoutingDateTime": "0001-01-01T00:00:00+01:00"}
    response = await request_callback(client, auth, call, body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0].startswith("scheduledRoutingDateTime")
