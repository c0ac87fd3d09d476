"""Which event a timeline entry is published as, built from the stored entry alone.

The live path and a resuming console must see the same event for the same entry: the unit of work publishes
``event_of(entry)`` after its commit, and the stream replays ``event_of(row)`` from storage. Transcript
entries keep no text in the timeline; their current text is looked up (``content``) when replaying.
An entry whose kind has no typed event, or whose stored data predates its typed event, is published as the
generic ``timeline.recorded``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import ValidationError

from callbridge.events.schemas import (
    AgentPresenceChanged,
    AnyEvent,
    IntelligencePostCallStored,
    IntelligenceSignal,
    QueueBacklog,
    RoutingOffered,
    RoutingOfferEnded,
    RoutingWorkClosed,
    TimelineRecorded,
    TranscriptAccepted,
    TranscriptDropped,
    TranscriptRedacted,
    TranscriptReplaced,
    VoiceCallSentimentUpdated,
    VoiceCallStateChanged,
)

Row = Mapping[str, Any]
"""A timeline entry as a mapping: id, call_center_id, voice_call_id, conversation_id, occurred_at, kind, actor,
outcome, reason, data (and ``content`` for transcript entries being replayed)."""

# Kinds whose stored ``data`` is the event's own payload (the typed event minus its base fields).
PAYLOAD_KINDS: dict[str, type[AnyEvent]] = {
    "intelligence.signal": IntelligenceSignal,
    "intelligence.post_call": IntelligencePostCallStored,
    "voice_call.sentiment_updated": VoiceCallSentimentUpdated,
    "agent.presence_changed": AgentPresenceChanged,
    "queue.backlog": QueueBacklog,
}

TRANSCRIPT_KINDS = frozenset({"transcript.accepted", "transcript.replaced", "transcript.redacted"})
"""Kinds whose event carries the utterance's text, which only the conversation entry holds."""

_STATE_CHANGES = {
    "voice_call.hold": "hold_started",
    "voice_call.resumed": "hold_ended",
    "voice_call.recording_paused": "recording_paused",
    "voice_call.recording_resumed": "recording_resumed",
}
_OFFER_ENDINGS: dict[str, Literal["accepted", "declined", "expired", "withdrawn"]] = {
    "routing.offer_accepted": "accepted",
    "routing.offer_declined": "declined",
    "routing.offer_expired": "expired",
    "routing.offer_withdrawn": "withdrawn",
}
PAYLOAD_EXCLUDE = frozenset({"id", "voice_call_id", "call_center_id", "occurred_at", "type", "version"})


def base(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "voiceCallId": row["voice_call_id"],
        "callCenterId": row["call_center_id"],
        "occurredAt": row["occurred_at"],
    }


def payload_of(event: AnyEvent) -> dict[str, Any]:
    """What a payload kind stores as ``data``: the event without its base fields."""
    return event.model_dump(mode="json", by_alias=True, exclude=set(PAYLOAD_EXCLUDE))


def timeline_recorded(row: Row) -> TimelineRecorded:
    return TimelineRecorded(
        **base(row),
        conversationId=row["conversation_id"],
        kind=row["kind"],
        actor=row["actor"],
        outcome=row["outcome"],
        reason=row["reason"],
        data=row["data"] or {},
    )


def _utterance(row: Row) -> dict[str, Any]:
    data = row["data"]
    return {
        **base(row),
        "conversationId": row["conversation_id"],
        "messageId": data["messageId"],
        "sender": data["sender"],
        "startTime": data["startTime"],
        "endTime": data["endTime"],
    }


def _transcript(row: Row) -> AnyEvent | None:
    kind, data = row["kind"], row["data"]
    if kind == "transcript.dropped":
        return TranscriptDropped(**_utterance(row), dropReason=data["dropReason"], reason=row["reason"] or "")
    content = row.get("content")
    if content is None:
        return None
    if kind == "transcript.accepted":
        return TranscriptAccepted(
            **_utterance(row), content=content, serverReceivedTimestamp=data["serverReceivedTimestamp"]
        )
    if kind == "transcript.replaced":
        return TranscriptReplaced(
            **_utterance(row),
            content=content,
            serverReceivedTimestamp=data["serverReceivedTimestamp"],
            entryVersion=data["version"],
        )
    return TranscriptRedacted(
        **base(row), conversationId=row["conversation_id"], messageId=data["messageId"], content=content
    )


def _voice_call(row: Row) -> AnyEvent | None:
    state = row["data"].get("state")
    if state is None or (row["kind"] == "voice_call.created" and row["outcome"] != "created"):
        return None
    change = _STATE_CHANGES.get(row["kind"], state.get("change"))
    return VoiceCallStateChanged(
        **base(row),
        change=change,
        conversationId=row["conversation_id"],
        vendorCallKey=state["vendorCallKey"],
        isActiveCall=state["isActiveCall"],
        isOnHold=state["isOnHold"],
        isRecordingPaused=state["isRecordingPaused"],
        reason=row["reason"],
        record=row["data"].get("record") if change == "closed" else None,
    )


def _routing(row: Row) -> AnyEvent | None:
    kind, data = row["kind"], row["data"]
    common = {**base(row), "conversationId": row["conversation_id"], "reason": row["reason"]}
    if kind == "routing.offer_made":
        return RoutingOffered(
            **common,
            offerId=data["offerId"],
            psrId=data["psrId"],
            userId=data["userId"],
            username=data["username"],
            queueId=data.get("queueId"),
            queueName=data.get("queueName"),
            expiresAt=data["expiresAt"],
            pushTimeoutSeconds=data.get("pushTimeout"),
        )
    if kind in _OFFER_ENDINGS:
        return RoutingOfferEnded(
            **common,
            offerId=data.get("offerId") or data["workId"],
            psrId=data["psrId"],
            userId=data["userId"],
            outcome=_OFFER_ENDINGS[kind],
        )
    return RoutingWorkClosed(**common, workId=data["workId"], userId=data["userId"], status=row["outcome"])


def _payload(row: Row) -> AnyEvent:
    return PAYLOAD_KINDS[row["kind"]].model_validate({**row["data"], **base(row)})


_BUILDERS: dict[str, Callable[[Row], AnyEvent | None]] = {
    **{kind: _payload for kind in PAYLOAD_KINDS},
    **{kind: _transcript for kind in (*TRANSCRIPT_KINDS, "transcript.dropped")},
    **{kind: _voice_call for kind in ("voice_call.created", "voice_call.updated", *_STATE_CHANGES)},
    **{kind: _routing for kind in ("routing.offer_made", "routing.work_closed", *_OFFER_ENDINGS)},
}


def event_of(row: Row) -> AnyEvent:
    """The event a timeline entry is published as."""
    build = _BUILDERS.get(row["kind"])
    if build is not None:
        try:
            event = build(row)
        except (KeyError, ValidationError):
            event = None  # stored before its typed event existed
        if event is not None:
            return event
    return timeline_recorded(row)
