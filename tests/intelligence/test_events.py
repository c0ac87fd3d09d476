"""Intelligence events on the broker: the wire contract of real emitted payloads, published after the commit
with the id of their timeline entry, and rebuilt from storage for a console that resumes."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import TypeAdapter
from sqlalchemy import select

from callbridge.events.catalogue import event_of
from callbridge.events.schemas import (
    Event,
    IntelligencePostCallStored,
    IntelligenceSignal,
    TimelineRecorded,
    VoiceCallSentimentUpdated,
    VoiceCallStateChanged,
)
from callbridge.kit.state import AppState
from callbridge.kit.uow import row_of
from callbridge.models import TimelineEntry
from tests.intelligence.conftest import POST_CALL, REALTIME, Post, body, drain, realtime, signal
from tests.transcripts.conftest import INBOUND_KEY
from tests.voice_calls.conftest import CreateCall

WIRE = TypeAdapter(Event)


async def test_signal_payload_matches_the_contract(
    create_call: CreateCall, send: Post, app_state_of: AppState, timeline: Callable
) -> None:
    """A published intelligence.signal, serialised by alias, parses back through the union with every field."""
    call_id = await create_call()
    queue = app_state_of.broker.subscribe()
    await send(INBOUND_KEY, REALTIME, body("contact_lens_realtime_category", persist=True))
    (event,) = [e for e in drain(queue) if isinstance(e, IntelligenceSignal)]
    wire = event.model_dump(mode="json", by_alias=True)
    assert WIRE.validate_python(wire) == event
    (entry,) = await timeline(call_id, "intelligence.signal")
    assert wire == {
        "type": "intelligence.signal",
        "version": 1,
        "id": entry["id"],
        "voiceCallId": call_id,
        "callCenterId": event.call_center_id,
        "occurredAt": wire["occurredAt"],
        "conversationId": event.conversation_id,
        "service": "AmazonConnectContactLens",
        "signalType": "IntelligenceSignal__Category",
        "value": "CustomerAngry",
        "score": None,
        "participant": None,
        "startTime": 1795544215000,
        "details": {"BeginOffsetMillis": 5120, "EndOffsetMillis": 15495},
        "persisted": True,
        "conversationEventId": event.conversation_event_id,
        "conversationClosed": False,
    }
    assert event.conversation_event_id is not None


async def test_sentiment_signal_carries_score_and_participant(
    create_call: CreateCall, send: Post, app_state_of: AppState
) -> None:
    """A real-time Sentiment event is published with its value, score and participant as sent."""
    await create_call()
    queue = app_state_of.broker.subscribe()
    sentiment = signal(type="IntelligenceSignal__Sentiment", value="-400.5", score=870, participant="customer")
    await send(INBOUND_KEY, REALTIME, realtime(sentiment))
    (event,) = [e for e in drain(queue) if isinstance(e, IntelligenceSignal)]
    wire = WIRE.validate_python(event.model_dump(mode="json", by_alias=True))
    assert isinstance(wire, IntelligenceSignal)
    assert (wire.signal_type, wire.value, wire.score, wire.participant) == (
        "IntelligenceSignal__Sentiment",
        "-400.5",
        870.0,
        "CUSTOMER",
    )
    assert wire.persisted is False and wire.conversation_event_id is None


async def test_post_call_payloads_match_the_contract(
    create_call: CreateCall, send: Post, close_call: Callable, app_state_of: AppState
) -> None:
    """A post-call batch publishes intelligence.post_call_stored then voice_call.sentiment_updated, both valid."""
    call_id = await create_call()
    await close_call(INBOUND_KEY)
    queue = app_state_of.broker.subscribe()
    await send(INBOUND_KEY, POST_CALL, body("post_call_analysis_batch"))
    stored, updated = (WIRE.validate_python(e.model_dump(mode="json", by_alias=True)) for e in drain(queue))
    assert isinstance(stored, IntelligencePostCallStored)
    assert (stored.voice_call_id, stored.service, stored.received, stored.stored, stored.duplicates) == (
        call_id,
        "AmazonConnectContactLens",
        5,
        5,
        0,
    )
    assert len(stored.conversation_event_ids) == 5
    assert isinstance(updated, VoiceCallSentimentUpdated)
    assert (updated.agent_sentiment_score, updated.customer_sentiment_score) == (0.8, -1.6)
    assert [(c.participant, c.scale, c.score) for c in updated.changes] == [
        ("AGENT", "-5..5", 0.8),
        ("CUSTOMER", "-5..5", -1.6),
    ]
    assert stored.id < updated.id


async def test_request_entry_then_signals_are_published_in_order(
    create_call: CreateCall, send: Post, app_state_of: AppState
) -> None:
    """The request's timeline.recorded comes first, then each signal in startTime order, ids increasing."""
    await create_call()
    queue = app_state_of.broker.subscribe()
    events = [signal(value="b", startTime=1795544216000), signal(value="a", startTime=1795544215000)]
    await send(INBOUND_KEY, REALTIME, realtime(*events))
    request, first, second = drain(queue)
    assert isinstance(request, TimelineRecorded) and request.kind == "intelligence.realtime"
    assert isinstance(first, IntelligenceSignal) and isinstance(second, IntelligenceSignal)
    assert (first.value, second.value) == ("a", "b")
    assert request.id < first.id < second.id


async def test_nothing_is_published_for_a_refused_request(
    create_call: CreateCall, send: Post, app_state_of: AppState
) -> None:
    """Post-call events before the call closed are refused (409) and nothing reaches the broker."""
    await create_call()
    queue = app_state_of.broker.subscribe()
    response = await send(INBOUND_KEY, POST_CALL, body("post_call_analysis_batch"))
    assert response.status_code == 409
    assert drain(queue) == []


async def test_published_events_rebuild_from_the_timeline(
    create_call: CreateCall, send: Post, close_call: Callable, app_state_of: AppState
) -> None:
    """A console resuming after an id gets the very same events, rebuilt from the stored timeline entries."""
    await create_call()
    queue = app_state_of.broker.subscribe()
    await send(INBOUND_KEY, REALTIME, body("contact_lens_realtime_category"))
    await close_call(INBOUND_KEY)
    await send(INBOUND_KEY, POST_CALL, body("post_call_analysis_batch"))
    published = [e for e in drain(queue) if not isinstance(e, TimelineRecorded | VoiceCallStateChanged)]
    async with app_state_of.database.read_session() as session:
        query = select(TimelineEntry).where(TimelineEntry.id.in_([e.id for e in published])).order_by(TimelineEntry.id)
        rebuilt = [event_of(row_of(entry)) for entry in (await session.scalars(query)).all()]
    assert rebuilt == published
    assert [type(e) for e in rebuilt] == [IntelligenceSignal, IntelligencePostCallStored, VoiceCallSentimentUpdated]
