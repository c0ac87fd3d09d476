"""Receiving intelligence signals: real-time events for the live console (published, stored on request) and
post-call events for the conversation data store (stored once, linked, setting the call's sentiment scores)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.context import CallCenterContext
from callbridge.intelligence import repository
from callbridge.intelligence.errors import ConversationNotClosed, VendorCallKeyRequired
from callbridge.intelligence.events import POST_CALL, SENTIMENT_UPDATED, SIGNAL
from callbridge.intelligence.rules import Prepared, Signal, overlaps, prepare, validate
from callbridge.intelligence.schemas import (
    POST_CALL_TYPES,
    REALTIME_TYPES,
    Participant,
    PostConversationEvents,
    RealtimeConversationEvents,
    SignalType,
)
from callbridge.intelligence.sentiment import call_score
from callbridge.kit import ids
from callbridge.kit.times import isoformat_z
from callbridge.kit.uow import UnitOfWork
from callbridge.models import Conversation, VoiceCall
from callbridge.voice_calls.errors import VoiceCallNotFound

REALTIME = "realtime"
POST_CALL_SOURCE = "post_call"

_SCORE_ATTRIBUTE = {Participant.agent: "agent_sentiment_score", Participant.customer: "customer_sentiment_score"}


def _check_key(vendor_call_key: str) -> None:
    if ids.is_salesforce_id(vendor_call_key, ids.VOICE_CALL):
        raise VendorCallKeyRequired(vendor_call_key)


def parse_realtime(vendor_call_key: str, data: Any) -> RealtimeConversationEvents:
    """The body, after the key's shape was checked (404 VENDOR_CALL_KEY_REQUIRED for a VoiceCall id)."""
    _check_key(vendor_call_key)
    return validate(RealtimeConversationEvents, data, REALTIME_TYPES)


def parse_post_call(vendor_call_key: str, data: Any) -> PostConversationEvents:
    _check_key(vendor_call_key)
    return validate(PostConversationEvents, data, POST_CALL_TYPES)


@dataclass(frozen=True)
class Target:
    named: VoiceCall  # the leg the key names: the first leg for the conversation's own key
    current: VoiceCall  # the conversation's newest leg, where the call is now
    conversation: Conversation
    note: str | None


async def resolve(session: AsyncSession, call_center_id: str, key: str) -> Target:
    """The conversation a vendorCallKey names for events, as for transcripts: the one it is the identifier of
    (its first leg's key), else the conversation of the newest leg that carries it (noted)."""
    legs = await repository.legs_with_key(session, call_center_id, key)
    if not legs:
        raise VoiceCallNotFound(key)
    note = None
    own = [(call, conversation) for call, conversation in legs if conversation.conversation_identifier == key]
    call, conversation = own[0] if own else legs[-1]
    if not own:
        note = (
            f"vendorCallKey '{key}' names leg {call.id}, not the first leg of its conversation; the events were "
            f"taken on the conversation of '{conversation.conversation_identifier}'"
        )
    current = await repository.newest_leg(session, conversation.id)
    return Target(named=call, current=current, conversation=conversation, note=note)


def _row(
    context: CallCenterContext, call: VoiceCall, source: str, service: str, signal: Signal, now: datetime
) -> dict[str, Any]:
    sentiment = None
    if signal.type is SignalType.overall_sentiment_score and signal.number is not None:
        sentiment = call_score(signal.number).score
    return {
        "call_center_id": context.call_center_id,
        "conversation_id": call.conversation_id,
        "voice_call_id": call.id,
        "source": source,
        "service": service,
        "type": signal.type.value,
        "value": signal.value,
        "numeric_value": signal.number,
        "sentiment_score": sentiment,
        "score": signal.score,
        "participant": signal.participant.value if signal.participant else None,
        "start_time": signal.start_ms,
        "end_time": signal.end_ms,
        "details": signal.details,
        "natural_key": signal.natural_key,
        "received_at": now,
    }


async def _store(
    session: AsyncSession, conversation_id: str, rows: list[dict[str, Any]], signals: list[Signal]
) -> list[int | None]:
    """Insert each event unless already stored (None then), and link the new ones to the transcript entries
    their spans overlap (entries that arrive later are not linked)."""
    stored = [await repository.insert_event(session, row) for row in rows]
    new = [(event_id, signal) for event_id, signal in zip(stored, signals, strict=True) if event_id is not None]
    if new:
        until = max(signal.span[1] for _, signal in new)
        entries = await repository.entries_starting_by(session, conversation_id, until)
        await repository.insert_links(
            session,
            [
                {"event_id": event_id, "entry_id": entry.id}
                for event_id, signal in new
                for entry in entries
                if overlaps(signal.span, entry.client_timestamp, entry.client_duration)
            ],
        )
    return stored


def _notes(target: Target, prepared: Prepared) -> list[str]:
    return ([target.note] if target.note else []) + prepared.notes


async def receive_realtime(
    uow: UnitOfWork, context: CallCenterContext, vendor_call_key: str, body: RealtimeConversationEvents
) -> None:
    """Record the request, one timeline entry per signal (published as ``intelligence.signal`` after the commit)
    and, with ``persist``, store each signal once. A closed conversation still gets them, flagged."""
    target = await resolve(uow.session, context.call_center_id, vendor_call_key)
    prepared = prepare(body.events)
    conversation, call = target.conversation, target.current
    closed = conversation.end_time is not None
    signals = prepared.signals
    stored: list[int | None] = [None] * len(signals)
    if body.persist:
        now = uow.clock.now()
        rows = [_row(context, call, REALTIME, body.service, signal, now) for signal in signals]
        stored = await _store(uow.session, conversation.id, rows, signals)
    new = sum(event_id is not None for event_id in stored)
    notes = _notes(target, prepared)
    if closed:
        assert conversation.end_time is not None
        notes.append(
            f"the conversation closed at {isoformat_z(conversation.end_time)}: real-time signals are meant for the "
            "live console; accepted, published and recorded anyway"
        )
    uow.record(
        call_center_id=context.call_center_id,
        voice_call_id=call.id,
        conversation_id=conversation.id,
        kind="intelligence.realtime",
        outcome="accepted_after_close" if closed else "accepted",
        reason="; ".join(notes) or None,
        data={
            "vendorCallKey": vendor_call_key,
            "service": body.service,
            "persist": body.persist,
            "received": len(signals),
            "published": len(signals),
            "stored": new,
            "duplicates": len(signals) - new if body.persist else 0,
            "types": dict(Counter(signal.type.value for signal in signals)),
            "sortedOnArrival": prepared.sorted_on_arrival,
            "conversationClosed": closed,
        },
    )
    for signal, event_id in zip(signals, stored, strict=True):
        duplicate = body.persist and event_id is None
        uow.record_event(
            call_center_id=context.call_center_id,
            voice_call_id=call.id,
            conversation_id=conversation.id,
            kind=SIGNAL,
            outcome="duplicate" if duplicate else ("stored" if event_id is not None else "published"),
            reason="an identical event (type, participant, startTime, value) is already stored" if duplicate else None,
            fields={
                "conversationId": conversation.id,
                "service": body.service,
                "signalType": signal.type.value,
                "value": signal.value,
                "score": signal.score,
                "participant": signal.participant.value if signal.participant else None,
                "startTime": signal.start_ms,
                "details": signal.details,
                "persisted": event_id is not None,
                "conversationEventId": event_id,
                "conversationClosed": closed,
            },
        )


async def store_post_call(
    uow: UnitOfWork, context: CallCenterContext, vendor_call_key: str, body: PostConversationEvents
) -> None:
    """Store a batch once the conversation closed (409 before): each event once, linked to the VoiceCall the
    key names and to the overlapping entries; new OverallSentimentScore events set the call's scores."""
    target = await resolve(uow.session, context.call_center_id, vendor_call_key)
    if target.conversation.end_time is None:
        raise ConversationNotClosed(vendor_call_key)
    prepared = prepare(body.events)
    call, conversation, signals = target.named, target.conversation, prepared.signals
    now = uow.clock.now()
    rows = [_row(context, call, POST_CALL_SOURCE, body.service, signal, now) for signal in signals]
    stored = await _store(uow.session, conversation.id, rows, signals)
    new_ids = [event_id for event_id in stored if event_id is not None]
    uow.record_event(
        call_center_id=context.call_center_id,
        voice_call_id=call.id,
        conversation_id=conversation.id,
        kind=POST_CALL,
        outcome="stored" if new_ids else "unchanged",
        reason="; ".join(_notes(target, prepared)) or None,
        fields={
            "conversationId": conversation.id,
            "service": body.service,
            "received": len(signals),
            "stored": len(new_ids),
            "duplicates": len(signals) - len(new_ids),
            "conversationEventIds": new_ids,
            "types": dict(
                Counter(s.type.value for s, event_id in zip(signals, stored, strict=True) if event_id is not None)
            ),
        },
    )
    changes = _apply_sentiment(call, [s for s, event_id in zip(signals, stored, strict=True) if event_id is not None])
    if changes:
        call.updated_at = now
        uow.record_event(
            call_center_id=context.call_center_id,
            voice_call_id=call.id,
            conversation_id=conversation.id,
            kind=SENTIMENT_UPDATED,
            outcome="updated",
            reason=None,
            fields={
                "conversationId": conversation.id,
                "agentSentimentScore": call.agent_sentiment_score,
                "customerSentimentScore": call.customer_sentiment_score,
                "changes": changes,
            },
        )


def _apply_sentiment(call: VoiceCall, new_signals: list[Signal]) -> list[dict[str, Any]]:
    """Each participant's newest (latest startTime, then last sent) new OverallSentimentScore sets its score."""
    latest: dict[Participant, Signal] = {}
    for signal in new_signals:
        if signal.type is SignalType.overall_sentiment_score and signal.participant is not None:
            latest[signal.participant] = signal
    changes = []
    for participant, signal in sorted(latest.items()):
        assert signal.number is not None, "validated: sentiment values are numbers"
        mapped = call_score(signal.number)
        attribute = _SCORE_ATTRIBUTE[participant]
        previous: float | None = getattr(call, attribute)
        if previous == mapped.score:
            continue
        setattr(call, attribute, mapped.score)
        changes.append(
            {
                "participant": participant.value,
                "value": signal.value,
                "scale": mapped.scale.value,
                "score": mapped.score,
                "previous": previous,
            }
        )
    return changes
