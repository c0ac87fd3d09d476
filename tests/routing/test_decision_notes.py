"""How routing decisions read in the timeline: the phone channel's flow winning over flowDevName is said, naming
both, and a queue named by routingTarget is the target, not a fallback."""

from __future__ import annotations

from tests.routing.conftest import Telephony
from tests.voice_calls.conftest import CreateCall, payload


async def test_the_phone_channel_winning_over_flow_dev_name_is_said(
    create_call: CreateCall, telephony: Telephony
) -> None:
    """executeOmniFlow with flowDevName and a dialed number that has a phone channel: the timeline names both flows."""
    call = await create_call()
    body = payload("lambda_execute_omniflow", dialedNumber="+14155550100")
    assert (await telephony.omni_flow(call, body)).status_code == 200
    (skipped,) = [e for e in await telephony.timeline(call) if e["kind"] == "routing.flow_skipped"]
    assert skipped["outcome"] == "skipped"
    assert "Inbound_Support" in skipped["reason"] and "SCV_Basic_Routing_Flow" in skipped["reason"]
    assert skipped["data"]["flow"] == "SCV_Basic_Routing_Flow"


async def test_flow_dev_name_alone_is_not_said_to_be_skipped(create_call: CreateCall, telephony: Telephony) -> None:
    """No phone channel for the dialed number: flowDevName routes and nothing is noted as skipped."""
    call = await create_call()
    assert (await telephony.omni_flow(call, payload("lambda_execute_omniflow"))).status_code == 200
    assert "routing.flow_skipped" not in await telephony.kinds(call)


async def test_route_to_a_queue_is_logged_as_the_target(create_call: CreateCall, telephony: Telephony) -> None:
    """routeVoiceCall to a queue: routing.target_resolved (matched), never routing.fallback_taken."""
    call = await create_call()
    assert (await telephony.route(call, {"routingTarget": "Sales"})).json() == {"status": "Success"}
    kinds = await telephony.kinds(call)
    assert "routing.fallback_taken" not in kinds
    (target,) = [e for e in await telephony.timeline(call) if e["kind"] == "routing.target_resolved"]
    assert (target["outcome"], target["reason"]) == ("matched", "routingTarget: queue Sales")


async def test_route_falling_back_is_still_a_fallback(create_call: CreateCall, telephony: Telephony) -> None:
    """routingTarget fails and fallbackQueue takes it: that one is logged as the fallback it is."""
    call = await create_call()
    await telephony.route(call, {"routingTarget": "Never_Matches", "fallbackQueue": "Sales"})
    (fallback,) = [e for e in await telephony.timeline(call) if e["kind"] == "routing.fallback_taken"]
    assert fallback["data"]["via"] == "fallbackQueue"


async def test_a_dialed_number_whose_plus_arrived_as_a_space_finds_its_channel(
    create_call: CreateCall, telephony: Telephony
) -> None:
    """omniFlow dialedNumber " 14155550100": read as +14155550100, its phone channel routes, and it is noted."""
    call = await create_call()
    response = await telephony.omni_flow(call, {"dialedNumber": " 14155550100"})
    assert response.status_code == 200, response.text
    (restored,) = [e for e in await telephony.timeline(call) if e["kind"] == "request.number_restored"]
    assert restored["reason"].startswith("dialedNumber ' 14155550100' arrived with a space")
    (evaluated,) = [e for e in await telephony.timeline(call) if e["kind"] == "routing.flow_evaluated"]
    assert evaluated["data"]["via"] == "phone channel +14155550100"
