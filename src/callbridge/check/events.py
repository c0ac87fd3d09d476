"""Checks of conversation intelligence: real-time signals during the call, sentiment needing a participant,
and post-call events only once the call has closed (spec §9, decisions "Events and routing")."""

from __future__ import annotations

from datetime import timedelta

from callbridge.check.context import CheckContext
from callbridge.check.registry import check, expect, expect_json, expect_response_error
from callbridge.client import (
    PostCallEvent,
    PostConversationEvents,
    RealtimeConversationEvents,
    RealtimeEvent,
    SignalParticipant,
    SignalType,
    VoiceCallUpdate,
    epoch_ms,
)

ACCEPTED = {"status": "202 Accepted"}
SERVICE = "CallbridgeCheck"


@check("events.realtime", "a real-time Category signal during the call is 202 {status: '202 Accepted'}")
async def realtime(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("realtime")
    body = RealtimeConversationEvents(
        service=SERVICE,
        persist=False,
        events=[
            RealtimeEvent(
                type=SignalType.CATEGORY,
                value="CustomerAngry",
                details={"BeginOffsetMillis": 5120, "EndOffsetMillis": 15495},
            )
        ],
    ).wire()
    response = await ctx.client.raw_request(
        "POST", f"/voiceCalls/{call.vendor_call_key}/realtimeConversationEvents", body=body
    )
    expect_json(response, 202, ACCEPTED)
    return None


@check(
    "events.sentiment_needs_participant",
    "a Sentiment signal without participant is 400 INVALID_REQUEST naming events[0].participant",
)
async def sentiment_needs_participant(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("sentiment")
    event = {"type": SignalType.SENTIMENT.value, "value": "400", "startTime": epoch_ms()}
    body = {"service": SERVICE, "events": [event]}
    response = await ctx.client.raw_request(
        "POST", f"/voiceCalls/{call.vendor_call_key}/realtimeConversationEvents", body=body
    )
    expect_response_error(response, status=400, code="INVALID_REQUEST", naming=["events[0].participant"])
    return None


def _post_call(start_ms: int, end_ms: int) -> PostConversationEvents:
    return PostConversationEvents(
        service=SERVICE,
        events=[
            PostCallEvent(
                type=SignalType.OVERALL_SENTIMENT_SCORE,
                value="0.8",
                start_time=start_ms,
                end_time=end_ms,
                participant=SignalParticipant.AGENT,
            )
        ],
    )


@check(
    "events.post_call_before_close",
    "post-call events on a call still open are 409 CONVERSATION_NOT_CLOSED",
)
async def post_call_before_close(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("open")
    body = _post_call(epoch_ms(call.started_at), epoch_ms()).wire()
    path = f"/voiceCalls/{call.vendor_call_key}/postConversationEvents"
    response = await ctx.client.raw_request("POST", path, body=body)
    expect_response_error(response, status=409, code="CONVERSATION_NOT_CLOSED")
    return None


@check(
    "events.post_call_after_close",
    "once an update closed the call, post-call events are 202 and stored; OverallSentimentScore sets the "
    "agent's sentiment score",
)
async def post_call_after_close(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("closed")
    ended = call.started_at + timedelta(seconds=30)
    await ctx.client.update_voice_call(call.vendor_call_key, VoiceCallUpdate(end_time=ended))
    body = _post_call(epoch_ms(call.started_at), epoch_ms(ended)).wire()
    path = f"/voiceCalls/{call.vendor_call_key}/postConversationEvents"
    response = await ctx.client.raw_request("POST", path, body=body)
    expect_json(response, 202, ACCEPTED)
    if not await ctx.has_read_api():
        return "answer checked; the stored event was not (no read API)"
    page = await ctx.client.list_conversation_events(call.voice_call_id)
    types = [event.type for event in page.events]
    expect(types == [SignalType.OVERALL_SENTIMENT_SCORE.value], f"the stored events are {types}")
    stored = await ctx.client.get_voice_call(call.voice_call_id)
    expect(stored.agent_sentiment_score == 0.8, f"agentSentimentScore is {stored.agent_sentiment_score}, not 0.8")
    return None
