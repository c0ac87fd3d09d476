"""Checks of the VoiceCall lifecycle: create, idempotent re-create, update and close, transfer legs, unknown
calls, and error bodies that name every bad field (spec §2-3, decisions "Identifiers and calls")."""

from __future__ import annotations

import re
import secrets

from callbridge.check.context import CheckContext
from callbridge.check.registry import check, expect, expect_api_error, expect_json, expect_response_error
from callbridge.client import VoiceCallUpdate
from callbridge.kit import ids

_VOICE_CALL_ID = re.compile(r"0LQ[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?")


def unknown_voice_call_id() -> str:
    """A well-formed 18-character VoiceCall id (valid checksum) that no server has issued."""
    return ids.to_18("0LQ" + "".join(secrets.choice("0123456789") for _ in range(12)))


@check("voice_call.create", "POST /voiceCalls answers 200 {voiceCallId: 0LQ..., errors: []}")
async def create(ctx: CheckContext) -> str | None:
    response = await ctx.client.raw_request("POST", "/voiceCalls", body=ctx.create_body(ctx.key("create")))
    body = expect_json(response, 200)
    voice_call_id = body.get("voiceCallId") if isinstance(body, dict) else None
    expect(
        isinstance(voice_call_id, str) and _VOICE_CALL_ID.fullmatch(voice_call_id) is not None,
        f"voiceCallId is not a 15- or 18-character 0LQ id: {voice_call_id!r}",
    )
    expect(body.get("errors") == [], f"errors is not [] on a clean create: {body.get('errors')!r}")
    return None


@check(
    "voice_call.create_idempotent",
    "creating again with the same vendorCallKey (no parent) returns the same voiceCallId and creates nothing",
)
async def create_idempotent(ctx: CheckContext) -> str | None:
    key = ctx.key("idempotent")
    body = ctx.create_body(key)
    first = expect_json(await ctx.client.raw_request("POST", "/voiceCalls", body=body), 200)
    second = expect_json(await ctx.client.raw_request("POST", "/voiceCalls", body=body), 200)
    expect(
        first.get("voiceCallId") == second.get("voiceCallId"),
        f"the re-create made a second call: {first.get('voiceCallId')} then {second.get('voiceCallId')}",
    )
    return None


@check(
    "voice_call.update_closes",
    "PATCH with isActiveCall false answers {status: pending} and the call is completed, its conversation ended",
)
async def update_closes(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("close")
    response = await ctx.client.raw_request(
        "PATCH",
        f"/voiceCalls/{call.vendor_call_key}",
        body=VoiceCallUpdate(end_time=call.started_at, is_active_call=False).wire(),
    )
    expect_json(response, 200, {"status": "pending"})
    if not await ctx.has_read_api():
        return "answer checked; the stored state was not (no read API)"
    stored = await ctx.client.get_voice_call(call.voice_call_id)
    expect(not stored.is_active_call, "the call is still active after isActiveCall false")
    expect(stored.call_disposition == "completed", f"callDisposition is {stored.call_disposition!r}, not completed")
    expect(stored.conversation.end_time is not None, "the conversation has no end time after the call closed")
    return None


@check("voice_call.update_by_id_or_key", "PATCH /voiceCalls/{id} takes the VoiceCall id and the vendorCallKey alike")
async def update_by_id_or_key(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("address")
    by_id = VoiceCallUpdate(is_active_call=True, number_of_holds=2).wire()
    by_key = VoiceCallUpdate(is_active_call=True, longest_hold_duration=7).wire()
    expect_json(await ctx.client.raw_request("PATCH", f"/voiceCalls/{call.voice_call_id}", body=by_id), 200)
    expect_json(await ctx.client.raw_request("PATCH", f"/voiceCalls/{call.vendor_call_key}", body=by_key), 200)
    if not await ctx.has_read_api():
        return "answers checked; the stored state was not (no read API)"
    stored = await ctx.client.get_voice_call(call.voice_call_id)
    expect(
        (stored.number_of_holds, stored.longest_hold_duration) == (2, 7),
        f"not both updates reached the call: numberOfHolds={stored.number_of_holds}, "
        f"longestHoldDuration={stored.longest_hold_duration} (expected 2 and 7)",
    )
    return None


@check("voice_call.unknown_404", "an unknown VoiceCall id answers 404 VOICE_CALL_NOT_FOUND in the error shape")
async def unknown_404(ctx: CheckContext) -> str | None:
    unknown = unknown_voice_call_id()
    response = await ctx.client.raw_request("PATCH", f"/voiceCalls/{unknown}", body={"isActiveCall": True})
    expect_response_error(response, status=404, code="VOICE_CALL_NOT_FOUND")
    if await ctx.has_read_api():
        await expect_api_error(ctx.client.get_voice_call(unknown), status=404, code="VOICE_CALL_NOT_FOUND")
    return None


@check(
    "voice_call.transfer_leg",
    "a create with parentVoiceCallId (the parent's vendorCallKey) makes a new leg linked to its parent",
)
async def transfer_leg(ctx: CheckContext) -> str | None:
    parent = await ctx.new_call("parent")
    child_key = ctx.key("child")
    body = ctx.create_body(child_key, initiationMethod="Transfer", parentVoiceCallId=parent.vendor_call_key)
    created = expect_json(await ctx.client.raw_request("POST", "/voiceCalls", body=body), 200)
    child_id = created.get("voiceCallId")
    expect(isinstance(child_id, str) and child_id != parent.voice_call_id, f"no new leg: voiceCallId {child_id!r}")
    if not await ctx.has_read_api():
        return "answer checked; the links were not (no read API)"
    child = await ctx.client.get_voice_call(child_key)
    stored_parent = await ctx.client.get_voice_call(parent.voice_call_id)
    expect(child.call_type == "Transfer", f"the leg's callType is {child.call_type!r}, not Transfer")
    expect(child.previous_call_id == parent.voice_call_id, f"previousCallId is {child.previous_call_id!r}")
    expect(stored_parent.next_call_id == child.id, f"the parent's nextCallId is {stored_parent.next_call_id!r}")
    expect(child.conversation_id == stored_parent.conversation_id, "the leg does not share its parent's conversation")
    return None


@check(
    "voice_call.transfer_needs_parent",
    "a Transfer without parentVoiceCallId, or with an unknown one, is a 400 naming parentVoiceCallId",
)
async def transfer_needs_parent(ctx: CheckContext) -> str | None:
    missing = ctx.create_body(ctx.key("orphan"), initiationMethod="Transfer")
    response = await ctx.client.raw_request("POST", "/voiceCalls", body=missing)
    expect_response_error(response, status=400, code="INVALID_REQUEST", naming=["parentVoiceCallId"])
    unknown = ctx.create_body(ctx.key("orphan"), initiationMethod="Transfer", parentVoiceCallId=ctx.key("nobody"))
    response = await ctx.client.raw_request("POST", "/voiceCalls", body=unknown)
    expect_response_error(response, status=400, code="PARENT_VOICE_CALL_NOT_FOUND", naming=["parentVoiceCallId"])
    return None


@check("voice_call.outbound_refused", "initiationMethod Outbound is refused on create (400 naming initiationMethod)")
async def outbound_refused(ctx: CheckContext) -> str | None:
    body = ctx.create_body(ctx.key("outbound"), initiationMethod="Outbound")
    response = await ctx.client.raw_request("POST", "/voiceCalls", body=body)
    expect_response_error(response, status=400, code="INVALID_REQUEST", naming=["initiationMethod"])
    return None


@check(
    "errors.every_field_named",
    "a create with several bad fields is one 400 INVALID_REQUEST whose errors name each field",
)
async def every_field_named(ctx: CheckContext) -> str | None:
    body = ctx.create_body(ctx.key("invalid"), startTime="yesterday")
    del body["vendorCallKey"], body["participants"]
    response = await ctx.client.raw_request("POST", "/voiceCalls", body=body)
    expect_response_error(
        response, status=400, code="INVALID_REQUEST", naming=["startTime", "vendorCallKey", "participants"]
    )
    return None


@check(
    "voice_call.missing_fields_listed",
    "a create missing several required fields is one 400 INVALID_REQUEST naming every one of them",
)
async def missing_fields_listed(ctx: CheckContext) -> str | None:
    body = {"callCenterApiName": ctx.config.call_center_api_name}
    response = await ctx.client.raw_request("POST", "/voiceCalls", body=body)
    answer = expect_response_error(response, status=400, code="INVALID_REQUEST")
    named = {str(problem).split(":", 1)[0].strip() for problem in answer["errors"]}
    missing = [
        f for f in ("vendorCallKey", "to", "from", "initiationMethod", "startTime", "participants") if f not in named
    ]
    expect(not missing, f"the 400 does not name {', '.join(missing)}: {answer['errors']}")
    return None
