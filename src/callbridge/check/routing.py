"""Checks of routing: executeOmniFlow by fallback queue and by dialed number, its refusal naming every route
tried, both spellings of route, and clearRouting (spec §6-10, decisions "Events and routing")."""

from __future__ import annotations

from typing import Any

from callbridge.check.context import CheckContext
from callbridge.check.registry import CheckSkipped, check, expect, expect_json, expect_response_error

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
