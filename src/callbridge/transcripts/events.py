"""Building the events a transcript batch publishes after its commit; each needs its timeline entry's id,
known only once the rows are written, so the batch holds builders that take that id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callbridge.events.catalogue import event_of
from callbridge.events.schemas import (
    AnyEvent,
    TranscriptAccepted,
    TranscriptDropped,
    TranscriptRedacted,
    TranscriptReplaced,
    TranscriptSender,
)

EventBuilder = Callable[[int], AnyEvent]


@dataclass(frozen=True)
class Utterance:
    """What every transcript event says about the utterance it concerns."""

    call_center_id: str
    voice_call_id: str | None
    conversation_id: str
    occurred_at: datetime
    message_id: str
    role: str
    participant_id: str
    start_time: int
    end_time: int

    def fields(self) -> dict[str, Any]:
        return {
            "voiceCallId": self.voice_call_id,
            "callCenterId": self.call_center_id,
            "occurredAt": self.occurred_at,
            "conversationId": self.conversation_id,
            "messageId": self.message_id,
            "sender": TranscriptSender(role=self.role, participantId=self.participant_id),
            "startTime": self.start_time,
            "endTime": self.end_time,
        }


def accepted(utterance: Utterance, content: str, received: int) -> EventBuilder:
    """The hot path's event (one per stored utterance): built from values the batch made and typed itself, so
    without validating them again."""
    return lambda event_id: TranscriptAccepted.model_construct(
        id=event_id,
        content=content,
        server_received_timestamp=received,
        voice_call_id=utterance.voice_call_id,
        call_center_id=utterance.call_center_id,
        occurred_at=utterance.occurred_at,
        conversation_id=utterance.conversation_id,
        message_id=utterance.message_id,
        sender=TranscriptSender.model_construct(role=utterance.role, participantId=utterance.participant_id),
        start_time=utterance.start_time,
        end_time=utterance.end_time,
    )


def replaced(utterance: Utterance, content: str, received: int, version: int) -> EventBuilder:
    return lambda event_id: TranscriptReplaced(
        id=event_id, content=content, serverReceivedTimestamp=received, entryVersion=version, **utterance.fields()
    )


def dropped(utterance: Utterance, code: str, reason: str) -> EventBuilder:
    return lambda event_id: TranscriptDropped(id=event_id, dropReason=code, reason=reason, **utterance.fields())


def redacted(
    call_center_id: str,
    voice_call_id: str | None,
    conversation_id: str,
    occurred_at: datetime,
    message_id: str,
    text: str,
) -> EventBuilder:
    return lambda event_id: TranscriptRedacted(
        id=event_id,
        voiceCallId=voice_call_id,
        callCenterId=call_center_id,
        occurredAt=occurred_at,
        conversationId=conversation_id,
        messageId=message_id,
        content=text,
    )


def timeline_recorded(row: dict[str, Any]) -> EventBuilder:
    """The event of any other timeline entry, as the unit of work publishes it, from its row."""
    return lambda event_id: event_of({**row, "id": event_id})
