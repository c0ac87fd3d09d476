"""Checks of transcripts: one message, a resent messageId, bulk (Salesforce's 202 and 207 answers, the Contact
Lens processor's request, the limits), the vendorCallKey rule, and messages dropped (still answered Accepted)
outside the call or while it is on hold (spec §4-5, decisions "Responses" and "Transcripts")."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx2

from callbridge.check.context import Call, CheckContext, offer_declining_others
from callbridge.check.registry import CheckFailed, CheckSkipped, check, expect, expect_json, expect_response_error
from callbridge.check.voice_calls import unknown_voice_call_id
from callbridge.client import (
    AsyncConsoleClient,
    Presence,
    RouteRequest,
    TranscriptEntry,
    TranscriptMessage,
    VoiceCallUpdate,
    epoch_ms,
)

ACCEPTED = {"result": "Accepted"}
TAKEN = "Successfully Processed Transcripts"  # a bulk entry's 202 message, as Salesforce words it
PAUSED = "Transcription paused for participant"


def message(label: str, content: str, **fields: object) -> TranscriptMessage:
    return TranscriptMessage.model_validate({"content": content, "message_id": label, **fields})


async def send(ctx: CheckContext, key: str, message: TranscriptMessage, *, suffix: str = "") -> None:
    response = await ctx.client.raw_request("POST", f"/voiceCalls/{key}/messages{suffix}", body=message.wire())
    expect_json(response, 200, ACCEPTED)


async def entries(ctx: CheckContext, call: Call, *, include_dropped: bool = False) -> dict[str, TranscriptEntry]:
    found: dict[str, TranscriptEntry] = {}
    async for entry in ctx.client.iter_messages(call.voice_call_id, include_dropped=include_dropped):
        found[entry.message_id] = entry
    return found


@check(
    "transcript.single",
    "one message is 200 {result: Accepted}, stored with participantId rewritten to {vendorCallKey}END_USER",
)
async def single(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("transcript")
    await send(ctx, call.vendor_call_key, message(f"{ctx.run_id}-1", "Hello, I have a billing question."))
    if not await ctx.has_read_api():
        return "answer checked; the stored entry was not (no read API)"
    stored = (await entries(ctx, call)).get(f"{ctx.run_id}-1")
    expect(stored is not None, "the message is not among the conversation's entries")
    assert stored is not None
    expect(stored.content == "Hello, I have a billing question.", f"the stored content is {stored.content!r}")
    expected_participant = f"{call.vendor_call_key}END_USER"
    expect(
        stored.sender.participant_id == expected_participant,
        f"participantId is {stored.sender.participant_id!r}, not {expected_participant!r}",
    )
    return None


@check(
    "transcript.resend_replaces",
    "resending a messageId changes nothing when identical and replaces the content when it differs",
)
async def resend_replaces(ctx: CheckContext) -> str | None:
    await ctx.require_read_api()
    call = await ctx.new_call("resend")
    first = message(f"{ctx.run_id}-partial", "I would like to")
    await send(ctx, call.vendor_call_key, first)
    await send(ctx, call.vendor_call_key, first)
    await send(ctx, call.vendor_call_key, first.model_copy(update={"content": "I would like to pay my bill."}))
    stored = await entries(ctx, call)
    expect(len(stored) == 1, f"{len(stored)} entries after resending one messageId: {sorted(stored)}")
    entry = stored.get(first.message_id)
    expect(entry is not None, "the message is not stored")
    assert entry is not None
    expect(entry.content == "I would like to pay my bill.", f"the content was not replaced: {entry.content!r}")
    expect(entry.version == 2, f"version is {entry.version}, expected 2 (one replacement)")
    return None


def bulk_entry(key: str, count: int, tag: str) -> dict[str, object]:
    """One entry as the Contact Lens processor builds it: ``count`` utterances of one contact."""
    return {
        "vendorCallKey": key,
        "messages": [message(f"{key}-{tag}{n}", f"utterance {n}").wire() for n in range(count)],
    }


async def post_bulk(ctx: CheckContext, entries: list[dict[str, object]]) -> httpx2.Response:
    return await ctx.client.raw_request("POST", "/voiceCalls/messages", body={"entries": entries})


def multi_status_problems(body: Any, keys: list[str]) -> list[str]:
    """What keeps ``body`` from being Salesforce's 207 for entries of ``keys``: ``{"errorResponse":
    {"errorResponseEntries": [...]}}``, one element per entry in request order, each ``vendorCallKey``,
    ``status`` (an integer HTTP status) and ``message``."""
    response = body.get("errorResponse") if isinstance(body, dict) else None
    items = response.get("errorResponseEntries") if isinstance(response, dict) else None
    if not isinstance(items, list):
        return [f"the 207 body is not {{errorResponse: {{errorResponseEntries: [...]}}}}: {json.dumps(body)[:160]}"]
    named = [item.get("vendorCallKey") if isinstance(item, dict) else None for item in items]
    if named != keys:
        return [f"errorResponseEntries name {named}, not one per entry in request order {keys}"]
    problems = []
    for index, item in enumerate(items):
        status = item.get("status")
        if not isinstance(status, int) or isinstance(status, bool):
            problems.append(f"errorResponseEntries[{index}].status is {status!r}, not an integer HTTP status")
        if not isinstance(item.get("message"), str):
            problems.append(f"errorResponseEntries[{index}].message is {item.get('message')!r}, not a string")
    return problems


def expect_multi_status(response: httpx2.Response, keys: list[str]) -> list[tuple[int, str]]:
    """The response is Salesforce's 207 for entries of ``keys``: its (status, message) per entry."""
    body = expect_json(response, 207)
    problems = multi_status_problems(body, keys)
    expect(not problems, "; ".join(problems))
    return [(item["status"], item["message"]) for item in body["errorResponse"]["errorResponseEntries"]]


@check("transcript.bulk", "POST /voiceCalls/messages with 2 calls of 2 messages each is 202 {result: Accepted}")
async def bulk(ctx: CheckContext) -> str | None:
    calls = [await ctx.new_call("bulk-a"), await ctx.new_call("bulk-b")]
    response = await post_bulk(ctx, [bulk_entry(call.vendor_call_key, 2, "") for call in calls])
    expect_json(response, 202, ACCEPTED)
    if not await ctx.has_read_api():
        return "answer checked; the stored entries were not (no read API)"
    for call in calls:
        stored = await entries(ctx, call)
        expected = {f"{call.vendor_call_key}-0", f"{call.vendor_call_key}-1"}
        expect(set(stored) == expected, f"{call.vendor_call_key} holds {sorted(stored)}, expected {sorted(expected)}")
    return None


@check(
    "transcript.bulk_contact_lens",
    "the Contact Lens processor's request (one entry per contact: 7 and 40 utterances) is 202, every utterance stored",
)
async def bulk_contact_lens(ctx: CheckContext) -> str | None:
    if ctx.config.bulk_max_messages < 40:
        raise CheckSkipped(
            f"the server's bulk limit is {ctx.config.bulk_max_messages} messages per entry (--bulk-max-messages); "
            "Salesforce's own processor sends more"
        )
    calls = [await ctx.new_call("lens-a"), await ctx.new_call("lens-b")]
    counts = {calls[0].vendor_call_key: 7, calls[1].vendor_call_key: 40}
    response = await post_bulk(ctx, [bulk_entry(key, count, "u") for key, count in counts.items()])
    expect_json(response, 202, ACCEPTED)
    if not await ctx.has_read_api():
        return "answer checked; the stored entries were not (no read API)"
    for call in calls:
        stored = len(await entries(ctx, call))
        expect(stored == counts[call.vendor_call_key], f"{call.vendor_call_key} holds {stored} entries, not {counts}")
    return None


@check(
    "transcript.bulk_limits",
    "a bulk request over the limits (--bulk-max-entries, --bulk-max-messages) is 400 BULK_LIMIT_EXCEEDED",
)
async def bulk_limits(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("limits")
    entries_max, messages_max = ctx.config.bulk_max_entries, ctx.config.bulk_max_messages
    too_many_entries = [bulk_entry(call.vendor_call_key, 1, f"{ctx.run_id}-e{n}-") for n in range(entries_max + 1)]
    response = await post_bulk(ctx, too_many_entries)
    expect_response_error(response, status=400, code="BULK_LIMIT_EXCEEDED", naming=["entries"])
    response = await post_bulk(ctx, [bulk_entry(call.vendor_call_key, messages_max + 1, f"{ctx.run_id}-m")])
    expect_response_error(response, status=400, code="BULK_LIMIT_EXCEEDED", naming=["entries[0].messages"])
    return None


@check(
    "transcript.bulk_partial",
    "a bulk entry for an unknown call makes a 207 {errorResponse: {errorResponseEntries}}: 202 then 404, in order",
)
async def bulk_partial(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("partial")
    keys = [call.vendor_call_key, ctx.key("nobody")]
    answers = expect_multi_status(await post_bulk(ctx, [bulk_entry(key, 1, "") for key in keys]), keys)
    statuses = [status for status, _ in answers]
    expect(statuses == [202, 404], f"the entries' statuses are {statuses}, not [202, 404]")
    expect(answers[0][1] == TAKEN, f"the taken entry's message is {answers[0][1]!r}, not {TAKEN!r}")
    return None


@check(
    "transcript.vendor_call_key_required",
    "messages addressed by a VoiceCall id (0LQ...) instead of the vendorCallKey are 404 VENDOR_CALL_KEY_REQUIRED",
)
async def vendor_call_key_required(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("by-id")
    response = await ctx.client.raw_request(
        "POST", f"/voiceCalls/{call.voice_call_id}/messages", body=message(f"{ctx.run_id}-id", "hi").wire()
    )
    expect_response_error(response, status=404, code="VENDOR_CALL_KEY_REQUIRED", naming=["vendorCallKey"])
    response = await ctx.client.raw_request(
        "POST", f"/voiceCalls/{unknown_voice_call_id()}/messages", body=message(f"{ctx.run_id}-id2", "hi").wire()
    )
    expect(response.status_code == 404, f"an unknown 0LQ id got {response.status_code}, not 404")
    return None


@check(
    "transcript.before_start_dropped",
    "a message timed before the call started is answered Accepted but not stored; the timeline says why",
)
async def before_start_dropped(ctx: CheckContext) -> str | None:
    await ctx.require_read_api()
    call = await ctx.new_call("early")
    early = epoch_ms(call.started_at - timedelta(hours=1))
    await send(ctx, call.vendor_call_key, message(f"{ctx.run_id}-early", "too early", start_time=early))
    expect(f"{ctx.run_id}-early" not in await entries(ctx, call), "the message from before the start was stored")
    dropped = (await entries(ctx, call, include_dropped=True)).get(f"{ctx.run_id}-early")
    expect(dropped is not None and dropped.drop_reason == "before_start", f"the drop is not recorded: {dropped}")
    timeline = await ctx.client.get_timeline(call.voice_call_id)
    drops = timeline.of_kind("transcript.dropped")
    expect(bool(drops) and all(entry.reason for entry in drops), "the timeline has no transcript.dropped with a reason")
    return None


async def take_call(ctx: CheckContext, agent: AsyncConsoleClient, label: str) -> Call:
    """A new call routed straight to the (free) agent, who accepts it."""
    session_agent = await agent.me()
    await agent.set_presence(Presence.AVAILABLE)
    call = await ctx.new_call(label)
    await ctx.client.route_voice_call(call.vendor_call_key, RouteRequest(routing_target=session_agent.user_id))
    try:
        offer = await offer_declining_others(agent, call.voice_call_id, wait_seconds=10)
    except TimeoutError as exc:
        busy = len(await agent.offers()) + len(await agent.work())
        raise CheckFailed(
            f"the call routed to {session_agent.username} was not offered to them within 10 s "
            f"(they hold {busy} other offer(s) or work item(s): a free agent is needed)"
        ) from exc
    await agent.accept_offer(offer.id)
    return call


@check(
    "transcript.on_hold_dropped",
    "while the agent holds the call, messages are answered Accepted but dropped (on_hold); after resume, stored",
)
async def on_hold_dropped(ctx: CheckContext) -> str | None:
    await ctx.require_read_api()
    async with ctx.agent() as agent:
        call = await take_call(ctx, agent, "hold")
        held = await agent.hold(call.voice_call_id)
        expect(held.is_on_hold, "the call is not on hold after POST /console/v1/calls/{id}/hold")
        await send(ctx, call.vendor_call_key, message(f"{ctx.run_id}-held", "said on hold"))
        await agent.resume(call.voice_call_id)
        await send(ctx, call.vendor_call_key, message(f"{ctx.run_id}-resumed", "said after resume"))
        await ctx.client.update_voice_call(call.vendor_call_key, VoiceCallUpdate(is_active_call=False))
    recorded = await entries(ctx, call, include_dropped=True)
    held_entry, resumed = recorded.get(f"{ctx.run_id}-held"), recorded.get(f"{ctx.run_id}-resumed")
    expect(
        held_entry is not None and held_entry.status == "dropped" and held_entry.drop_reason == "on_hold",
        f"the message sent on hold was not dropped as on_hold: {held_entry}",
    )
    expect(resumed is not None and resumed.status == "stored", f"the message after resume was not stored: {resumed}")
    return None


@check(
    "transcript.bulk_paused",
    "with recording paused, that call's bulk entry is 409 'Transcription paused for participant' in a 207",
)
async def bulk_paused(ctx: CheckContext) -> str | None:
    async with ctx.agent() as agent:
        call = await take_call(ctx, agent, "paused")
        other = await ctx.new_call("unpaused")
        paused = await agent.pause_recording(call.voice_call_id)
        expect(paused.is_recording_paused, "recording is not paused after POST /console/v1/calls/{id}/pause-recording")
        keys = [call.vendor_call_key, other.vendor_call_key]
        response = await post_bulk(ctx, [bulk_entry(key, 1, f"{ctx.run_id}-p") for key in keys])
        await agent.resume_recording(call.voice_call_id)
        await ctx.client.update_voice_call(call.vendor_call_key, VoiceCallUpdate(is_active_call=False))
    answers = expect_multi_status(response, keys)
    expect(answers == [(409, PAUSED), (202, TAKEN)], f"the entries' answers are {answers}, not 409 then 202")
    return None
