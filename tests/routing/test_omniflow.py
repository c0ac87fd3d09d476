"""PATCH /voiceCalls/{id}/omniFlow: precedence, the answer's shape, real clients' bodies, the PSR it creates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx2

from tests.routing.conftest import BASIC_ARN, BRUNO_ID, CHEN_ID, SUPPORT_ARN, Telephony
from tests.voice_calls.conftest import CreateCall, payload


async def test_amazon_connect_body_routes_by_flow_dev_name(create_call: CreateCall, telephony: Telephony) -> None:
    """The Lambda's executeOmniFlow body: no channel for +18005550199, so its flow routes to the queue ARN."""
    call = await create_call()
    response = await telephony.omni_flow(call, payload("lambda_execute_omniflow"))
    assert response.status_code == 200, response.text
    assert response.json() == {"queue": BASIC_ARN}


async def test_amazon_connect_addresses_the_call_by_contact_id(create_call: CreateCall, telephony: Telephony) -> None:
    """{id} may be the vendorCallKey (the Amazon Connect ContactId)."""
    await create_call()
    response = await telephony.omni_flow("5b2c7a9e-3f1d-4e8a-9c61-0d2f4b7e8a13", payload("lambda_execute_omniflow"))
    assert response.json() == {"queue": BASIC_ARN}


async def test_demo_connector_flow_name_by_vendor_call_key(create_call: CreateCall, telephony: Telephony) -> None:
    """The demo connector sends flowName (not flowDevName) and the vendorCallKey as the id."""
    await create_call("demo_connector_create")
    response = await telephony.omni_flow("a8hjdd", payload("demo_connector_omniflow"))
    assert response.json() == {"queue": SUPPORT_ARN}
    routing = await telephony.routing("a8hjdd")
    assert routing["pendingServiceRoutings"][0]["decision"]["source"] == "flowDevName (flow Inbound_Support, rule 3)"


async def test_phone_channel_wins_over_the_request_flow(create_call: CreateCall, telephony: Telephony) -> None:
    """A phone channel matching dialedNumber decides before flowDevName."""
    call = await create_call()
    body = {**payload("lambda_execute_omniflow"), "dialedNumber": "+14155550100"}
    response = await telephony.omni_flow(call, body)
    assert response.json() == {"queue": SUPPORT_ARN}


async def test_a_failing_channel_flow_falls_back_to_the_channel_queue(
    create_call: CreateCall, telephony: Telephony
) -> None:
    """The channel's flow matches no rule: the channel's fallback queue routes (its 00G id: no external id)."""
    call = await create_call()
    response = await telephony.omni_flow(call, {"dialedNumber": "+14155550300", "flowDevName": "Transfers"})
    routing = await telephony.routing(call)
    (psr,) = routing["pendingServiceRoutings"]
    assert psr["queueName"] == "Sales"
    assert response.json() == {"queue": psr["queueId"]}
    assert psr["queueId"].startswith("00G")


async def test_request_fallback_queue_after_an_unknown_flow(create_call: CreateCall, telephony: Telephony) -> None:
    """flowDevName names no flow: fallbackQueue routes."""
    call = await create_call()
    response = await telephony.omni_flow(call, {"flowDevName": "Nope", "fallbackQueue": "Support"})
    assert response.json() == {"queue": SUPPORT_ARN}


async def test_nothing_routes_is_400_listing_every_attempt(create_call: CreateCall, telephony: Telephony) -> None:
    """ROUTING_FAILED names the dialed number, the flow and the queue tried, and why each failed."""
    call = await create_call()
    response = await telephony.omni_flow(
        call, {"dialedNumber": "+19995550000", "flowDevName": "Nope", "fallbackQueue": "Nowhere"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "ROUTING_FAILED",
        "message": "The call could not be routed: every route tried failed.",
        "errors": [
            "dialedNumber +19995550000: no phone channel has this number",
            "flowDevName Nope: no flow with the API name or id 'Nope'",
            "fallbackQueue Nowhere: no queue with the API name, id or external id 'Nowhere'",
        ],
    }


async def test_a_failed_routing_is_in_the_timeline(create_call: CreateCall, telephony: Telephony) -> None:
    """The refusal is recorded (committed) before it is answered."""
    call = await create_call()
    await telephony.omni_flow(call, {"flowDevName": "Nope"})
    assert await telephony.kinds(call) == ["routing.flow_evaluated", "routing.failed"]


async def test_an_empty_body_says_what_to_send(create_call: CreateCall, telephony: Telephony) -> None:
    """No dialedNumber, flow or queue: 400 with a hint."""
    call = await create_call()
    response = await telephony.omni_flow(call, None)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "nothing to try: give dialedNumber (with a phone channel), flowDevName or fallbackQueue"
    ]


async def test_an_agent_route_answers_only_the_agent(create_call: CreateCall, telephony: Telephony) -> None:
    """Keys that do not apply are omitted, never null; an agent without external id answers its user id."""
    call = await create_call(**{"from": "+12125550123"})
    response = await telephony.omni_flow(call, {"dialedNumber": "+14155550100"})
    assert response.json() == {"agent": CHEN_ID}


async def test_a_skills_route_answers_its_preferred_agent(create_call: CreateCall, telephony: Telephony) -> None:
    """attribute.Department__c Billing: skills-based, preferring bruno."""
    call = await create_call(callAttributes='{"Department__c":"Billing"}')
    response = await telephony.omni_flow(call, {"dialedNumber": "+14155550100"})
    assert response.json() == {"agent": BRUNO_ID}
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert (psr["routingType"], psr["skills"], psr["pushTimeout"]) == ("SkillsBased", {"billing": 5}, 15)


async def test_flow_inputs_may_be_a_json_string(create_call: CreateCall, telephony: Telephony) -> None:
    """flowInputParameters as a serialised JSON object reaches input.* conditions."""
    call = await create_call()
    body = {"dialedNumber": "+14155550100", "flowInputParameters": '{"language":"es"}'}
    response = await telephony.omni_flow(call, body)
    assert response.json()["queue"].endswith("q-spanish")


async def test_transfer_target_at_the_top_level_is_a_flow_input(create_call: CreateCall, telephony: Telephony) -> None:
    """The newer Lambda's top-level transferTarget is input.transferTarget."""
    call = await create_call()
    await telephony.omni_flow(call, {"flowDevName": "Transfers", "transferTarget": "Sales"})
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert psr["queueName"] == "Sales"


async def test_transfer_target_inside_flow_inputs(create_call: CreateCall, telephony: Telephony) -> None:
    """The byo connector puts transferTarget inside flowInputParameters."""
    call = await create_call()
    await telephony.omni_flow(call, {"flowDevName": "Transfers", "flowInputParameters": {"transferTarget": "Sales"}})
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert psr["queueName"] == "Sales"


async def test_voicemail_routes_by_dialed_number_only(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], telephony: Telephony
) -> None:
    """The voicemail packager sends only dialedNumber: a voicemail call takes the call center's voicemail routing."""
    call = await create_call()
    await client.patch(f"/telephony/v1/voiceCalls/{call}", json=payload("voicemail_update_open"), headers=auth())
    response = await telephony.omni_flow(call, payload("voicemail_omniflow"))
    assert response.status_code == 200
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert psr["queueName"] == "Voicemail"


async def test_a_plain_call_with_the_voicemail_body_takes_the_phone_channel(
    create_call: CreateCall, telephony: Telephony
) -> None:
    """Without callOrigin Voicemail, the same body routes through the number's phone channel."""
    call = await create_call()
    response = await telephony.omni_flow(call, payload("voicemail_omniflow"))
    assert response.json() == {"queue": SUPPORT_ARN}


async def test_a_connector_number_with_a_lost_plus_finds_its_channel(
    create_call: CreateCall, telephony: Telephony
) -> None:
    """The demo connector's unencoded '+' arrives as a space: the digits still name the channel."""
    call = await create_call()
    response = await telephony.omni_flow(call, {"dialedNumber": " 14155550100"})
    assert response.json() == {"queue": SUPPORT_ARN}


async def test_xml_body(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """The same properties as XML elements."""
    call = await create_call()
    headers = {**auth(), "Content-Type": "application/xml"}
    body = "<omniFlow><dialedNumber>+14155550100</dialedNumber><flowInputParameters>{}</flowInputParameters></omniFlow>"
    response = await client.patch(f"/telephony/v1/voiceCalls/{call}/omniFlow", content=body, headers=headers)
    assert response.json() == {"queue": SUPPORT_ARN}


async def test_trailing_slash(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """The path with a trailing slash is the same endpoint."""
    call = await create_call()
    response = await client.patch(
        f"/telephony/v1/voiceCalls/{call}/omniFlow/", json={"dialedNumber": "+14155550100"}, headers=auth()
    )
    assert response.json() == {"queue": SUPPORT_ARN}


async def test_unknown_call_is_404(telephony: Telephony) -> None:
    """A VoiceCall id that does not exist."""
    response = await telephony.omni_flow("0LQXX0000000000AAA", {"fallbackQueue": "Support"})
    assert (response.status_code, response.json()["code"]) == (404, "VOICE_CALL_NOT_FOUND")


async def test_another_call_centers_call_is_404(
    create_call: CreateCall, client: httpx2.AsyncClient, other_token: Callable[..., str]
) -> None:
    """A token of OtherCC cannot route ConformanceCC's call."""
    call = await create_call()
    headers = {"Authorization": f"Bearer {other_token()}", "Content-Type": "application/json"}
    response = await client.patch(
        f"/telephony/v1/voiceCalls/{call}/omniFlow", json={"fallbackQueue": "Support"}, headers=headers
    )
    assert response.status_code == 404


async def test_without_a_token_is_401(create_call: CreateCall, client: httpx2.AsyncClient) -> None:
    """Every routing endpoint is authorized."""
    call = await create_call()
    response = await client.patch(f"/telephony/v1/voiceCalls/{call}/omniFlow", json={"fallbackQueue": "Support"})
    assert (response.status_code, response.json()["code"]) == (401, "TOKEN_MISSING")


async def test_the_psr_and_the_call_show_the_queue(
    create_call: CreateCall, telephony: Telephony, read_call: Callable[[str], Awaitable[dict[str, Any]]]
) -> None:
    """A queue-based PSR is created; the call's QueueName and CallQueuedDateTime are set."""
    call = await create_call()
    await telephony.omni_flow(call, {"dialedNumber": "+14155550100"})
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert psr["id"].startswith("0JR")
    assert (psr["routingType"], psr["queueName"], psr["priority"], psr["pushTimeout"]) == (
        "QueueBased",
        "Support",
        1,
        20,
    )
    assert (psr["workItemId"], psr["isTransfer"], psr["isReadyForRouting"]) == (call, False, True)
    stored = await read_call(call)
    assert stored["queueName"] == "Support"
    assert stored["callQueuedDateTime"] is not None


async def test_routing_again_replaces_the_psr(create_call: CreateCall, telephony: Telephony) -> None:
    """A call has one PSR: a retry (the voicemail packager retries) replaces it, and the timeline says so."""
    call = await create_call()
    await telephony.omni_flow(call, {"dialedNumber": "+14155550100"})
    await telephony.omni_flow(call, {"fallbackQueue": "Sales"})
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert psr["queueName"] == "Sales"
    assert "routing.psr_replaced" in await telephony.kinds(call)


async def test_the_timeline_explains_the_decision(create_call: CreateCall, telephony: Telephony) -> None:
    """flow_evaluated names the flow, the rule index and the target; then the PSR is created."""
    call = await create_call()
    await telephony.omni_flow(call, {"dialedNumber": "+14155550100", "flowInputParameters": {"language": "es"}})
    entries = [e for e in await telephony.timeline(call) if e["kind"].startswith("routing.")]
    assert [e["kind"] for e in entries] == ["routing.flow_evaluated", "routing.psr_created"]
    evaluated = entries[0]
    assert evaluated["data"]["flow"] == "Inbound_Support"
    assert evaluated["data"]["ruleIndex"] == 0
    assert evaluated["data"]["target"]["queue"] == "Spanish"
    assert evaluated["reason"] == (
        "flow Inbound_Support: rule 1 matched: input.language = es -> queue Spanish, priority 0, push timeout 20 s"
    )
