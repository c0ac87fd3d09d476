"""Checks of routing: executeOmniFlow by fallback queue and by dialed number, its refusal naming every route
tried, both spellings of route, clearRouting, reroute passing the agent over, and the refusal of an ended call
(spec §6-10, decisions "Events and routing")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from callbridge.check.context import CheckContext, offer_declining_others
from callbridge.check.registry import CheckFailed, CheckSkipped, check, expect, expect_json, expect_response_error
from callbridge.client import Presence, RouteRequest

SUCCESS = {"status": "Success"}


def _queue(ctx: CheckContext) -> str:
    if not ctx.config.queue:
        raise CheckSkipped("needs a queue to route to: give --queue")
    return ctx.config.queue


def _flat_routing_answer(body: Any) -> None:
    """Amazon Connect flows read ``$.External.agent`` / ``queue``: flat strings, keys absent rather than null."""
    expect(isinstance(body, dict), f"the answer is not a JSON object: {body!r}")
    expect(set(body) <= {"agent", "queue"}, f"the answer has keys besides agent and queue: {sorted(body)}")
    expect(bool(body), "the answer names neither an agent nor a queue")
    for name, value in body.items():
        expect(isinstance(value, str) and bool(value), f"{name} is {value!r}, not a non-empty string")


@check(
    "routing.omni_flow_queue",
    "executeOmniFlow with a fallbackQueue answers 200 {queue: <external id>}, no null keys, and a PSR exists",
)
async def omni_flow_queue(ctx: CheckContext) -> str | None:
    queue = _queue(ctx)
    call = await ctx.new_call("omniflow")
    body = {"fallbackQueue": queue, "flowInputParameters": {}}
    response = await ctx.client.raw_request("PATCH", f"/voiceCalls/{call.vendor_call_key}/omniFlow", body=body)
    answer = expect_json(response, 200)
    _flat_routing_answer(answer)
    expect("queue" in answer, f"a queue route answered {answer} without 'queue'")
    if not await ctx.has_read_api():
        return "answer checked; the PendingServiceRouting was not (no read API)"
    routing = await ctx.client.get_routing(call.voice_call_id)
    expect(len(routing.pending_service_routings) == 1, f"{len(routing.pending_service_routings)} PSRs, expected 1")
    return None


@check(
    "routing.omni_flow_dialed_number",
    "executeOmniFlow with the dialedNumber of a phone channel routes by that channel's flow (200 agent or queue)",
)
async def omni_flow_dialed_number(ctx: CheckContext) -> str | None:
    if not ctx.config.dialed_number:
        raise CheckSkipped("needs a phone channel's number: give --dialed-number")
    call = await ctx.new_call("dialed")
    response = await ctx.client.raw_request(
        "PATCH",
        f"/voiceCalls/{call.vendor_call_key}/omniFlow",
        body={"dialedNumber": ctx.config.dialed_number, "flowInputParameters": {"recordId": call.voice_call_id}},
    )
    _flat_routing_answer(expect_json(response, 200))
    return None


@check(
    "routing.omni_flow_unroutable",
    "executeOmniFlow that nothing can route is 400 ROUTING_FAILED naming each route tried (dialedNumber, flowDevName)",
)
async def omni_flow_unroutable(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("unroutable")
    body = {"dialedNumber": "+19995550123", "flowDevName": f"Callbridge_Check_No_Such_Flow_{ctx.run_id}"}
    response = await ctx.client.raw_request("PATCH", f"/voiceCalls/{call.vendor_call_key}/omniFlow", body=body)
    expect_response_error(response, status=400, code="ROUTING_FAILED", naming=["dialedNumber", "flowDevName"])
    return None


@check(
    "routing.route_both_spellings",
    "route answers {status: Success} as clients send it (PATCH /voiceCalls/route/{id}) and as documented "
    "(POST /voiceCalls/{id}/routeVoiceCall)",
)
async def route_both_spellings(ctx: CheckContext) -> str | None:
    queue = _queue(ctx)
    call = await ctx.new_call("route")
    body = {"routingTarget": queue}
    response = await ctx.client.raw_request("PATCH", f"/voiceCalls/route/{call.vendor_call_key}", body=body)
    expect_json(response, 200, SUCCESS)
    response = await ctx.client.raw_request("POST", f"/voiceCalls/{call.vendor_call_key}/routeVoiceCall", body=body)
    expect_json(response, 200, SUCCESS)
    return None


@check(
    "routing.clear_routing",
    "clearRouting removes the call's pending routing and answers {status: Success} (also with nothing to clear)",
)
async def clear_routing(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("clear")
    path = f"/voiceCalls/{call.vendor_call_key}/clearRouting"
    expect_json(await ctx.client.raw_request("PATCH", path, content=b"null"), 200, SUCCESS)
    if not ctx.config.queue:
        return "checked on a call with nothing to clear (give --queue to clear a real routing)"
    routed = await ctx.client.raw_request(
        "PATCH", f"/voiceCalls/{call.vendor_call_key}/omniFlow", body={"fallbackQueue": ctx.config.queue}
    )
    expect_json(routed, 200)
    expect_json(await ctx.client.raw_request("PATCH", path, content=b"null"), 200, SUCCESS)
    if not await ctx.has_read_api():
        return "answers checked; the routing left was not (no read API)"
    routing = await ctx.client.get_routing(call.voice_call_id)
    expect(not routing.pending_service_routings, f"{len(routing.pending_service_routings)} PSR(s) left after clearing")
    return None


@check(
    "routing.call_ended",
    "omniFlow, route and reroute on an ended call that is not a voicemail are 409 CALL_ENDED (nobody is left to "
    "offer to an agent)",
)
async def call_ended(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("ended")
    key = call.vendor_call_key
    ended = {"endTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "isActiveCall": False}
    expect_json(await ctx.client.raw_request("PATCH", f"/voiceCalls/{key}", body=ended), 200)
    target = ctx.config.queue or "Callbridge_Check_Any_Queue"
    response = await ctx.client.raw_request("PATCH", f"/voiceCalls/{key}/omniFlow", body={"fallbackQueue": target})
    expect_response_error(response, status=409, code="CALL_ENDED")
    response = await ctx.client.raw_request("PATCH", f"/voiceCalls/route/{key}", body={"routingTarget": target})
    expect_response_error(response, status=409, code="CALL_ENDED")
    response = await ctx.client.raw_request("PATCH", f"/voiceCalls/{key}/reroute", content=b"null")
    expect_response_error(response, status=409, code="CALL_ENDED")
    return None


@check(
    "routing.reroute_passes_over",
    "reroute (PATCH, body null) of a call an agent accepted closes their work and routes the call again with "
    "that agent passed over and no preferred agent",
)
async def reroute_passes_over(ctx: CheckContext) -> str | None:
    await ctx.require_read_api()
    async with ctx.agent() as agent:
        me = await agent.me()
        await agent.set_presence(Presence.AVAILABLE)
        call = await ctx.new_call("reroute")
        await ctx.client.route_voice_call(call.vendor_call_key, RouteRequest(routing_target=me.user_id))
        try:
            offer = await offer_declining_others(agent, call.voice_call_id, wait_seconds=10)
        except TimeoutError as exc:
            raise CheckFailed(f"the call routed to {me.username} was not offered to them within 10 s") from exc
        await agent.accept_offer(offer.id)
        await agent.set_presence(Presence.BUSY)  # not offered the call again while it is rerouted
        response = await ctx.client.raw_request("PATCH", f"/voiceCalls/{call.vendor_call_key}/reroute", content=b"null")
        expect_json(response, 200, SUCCESS)
        routing = await ctx.client.get_routing(call.voice_call_id)
    closed = [w for w in routing.agent_work if w.user_id == me.user_id and w.status == "Closed"]
    expect(bool(closed), f"{me.username}'s accepted work was not closed: {[w.status for w in routing.agent_work]}")
    expect(len(routing.pending_service_routings) == 1, "the call was not routed again (no pending routing)")
    (psr,) = routing.pending_service_routings
    expect(me.user_id in psr.passed_over, f"{me.username} is not passed over: passedOver {psr.passed_over}")
    expect(psr.preferred_user_id is None, f"the preferred agent {psr.preferred_user_id} was kept")
    return None
