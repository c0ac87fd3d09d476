"""Timeline entries that are published as typed events, and the events built from them.

The unit of work publishes every entry it records as ``timeline.recorded``. The entries written here are
added to the same transaction but published by the caller after the commit, as their typed event; the
entry's ``data`` is the event's own payload, so ``event_of`` rebuilds the same event from storage (a console
resuming after an id replays it)."""

from __future__ import annotations

from typing import Any

import structlog

from callbridge.events.broker import Broker
from callbridge.events.schemas import (
    AnyEvent,
    IntelligencePostCallStored,
    IntelligenceSignal,
    VoiceCallSentimentUpdated,
)
from callbridge.kit.uow import UnitOfWork
from callbridge.models import TimelineEntry

log = structlog.get_logger()

SIGNAL = "intelligence.signal"
POST_CALL = "intelligence.post_call"
SENTIMENT_UPDATED = "voice_call.sentiment_updated"

TYPED_KINDS: dict[str, type[IntelligenceSignal | IntelligencePostCallStored | VoiceCallSentimentUpdated]] = {
    SIGNAL: IntelligenceSignal,
    POST_CALL: IntelligencePostCallStored,
    SENTIMENT_UPDATED: VoiceCallSentimentUpdated,
}

_BASE_FIELDS = {"id", "voice_call_id", "call_center_id", "occurred_at", "type", "version"}


def event_of(entry: TimelineEntry) -> AnyEvent:
    """The typed event of a timeline entry written by ``Outbox.record`` (its kind is in ``TYPED_KINDS``)."""
    model = TYPED_KINDS[entry.kind]
    return model.model_validate(
        {
            **entry.data,
            "id": entry.id,
            "voiceCallId": entry.voice_call_id,
            "callCenterId": entry.call_center_id,
            "occurredAt": entry.occurred_at,
        }
    )


class Outbox:
    """Timeline entries of one unit of work to publish as typed events once it committed."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._entries: list[TimelineEntry] = []

    def record(
        self,
        *,
        call_center_id: str,
        voice_call_id: str | None,
        conversation_id: str,
        kind: str,
        outcome: str,
        reason: str | None,
        fields: dict[str, Any],
    ) -> TimelineEntry:
        """Like ``UnitOfWork.record``, but published as the typed event of ``kind`` instead; ``fields`` are the
        event's own fields by alias, validated here so that what is stored always rebuilds the event."""
        now = self._uow.clock.now()
        base = {"id": 0, "voiceCallId": voice_call_id, "callCenterId": call_center_id, "occurredAt": now}
        event = TYPED_KINDS[kind].model_validate({**fields, **base})
        data = event.model_dump(mode="json", by_alias=True, exclude=_BASE_FIELDS)
        entry = TimelineEntry(
            call_center_id=call_center_id,
            voice_call_id=voice_call_id,
            conversation_id=conversation_id,
            occurred_at=now,
            kind=kind,
            actor=self._uow.actor.name,
            request=self._uow.actor.request,
            outcome=outcome,
            reason=reason,
            data=data,
        )
        self._uow.session.add(entry)
        self._entries.append(entry)
        return entry

    def events(self) -> list[AnyEvent]:
        """The typed events, in id order; only meaningful after the commit gave the entries their ids."""
        return [event_of(entry) for entry in sorted(self._entries, key=lambda entry: entry.id)]

    async def publish(self, broker: Broker) -> None:
        """Hand the events to the broker. The request is already committed: a broker failure is logged, not
        answered with an error (consoles resume from the timeline)."""
        if not self._entries:
            return
        try:
            await broker.publish(self.events())
        except Exception:
            log.exception("publishing intelligence events after commit failed")
