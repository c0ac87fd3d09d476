"""Timeline entries that are published as typed events: their ``data`` is the event's own payload, so the
unit of work publishes the typed event after the commit and a console resuming after an id replays the same
event from storage (``callbridge.events.catalogue``)."""

from __future__ import annotations

from typing import Any

from callbridge.events.catalogue import PAYLOAD_KINDS, event_of, payload_of
from callbridge.events.schemas import AnyEvent
from callbridge.kit.uow import UnitOfWork, row_of
from callbridge.models import TimelineEntry

SIGNAL = "intelligence.signal"
POST_CALL = "intelligence.post_call"
SENTIMENT_UPDATED = "voice_call.sentiment_updated"


class Outbox:
    """Timeline entries of one unit of work that are published as their typed event."""

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
        """Like ``UnitOfWork.record``; ``fields`` are the event's own fields by alias, validated here so that
        what is stored always rebuilds the event."""
        now = self._uow.clock.now()
        base = {"id": 0, "voiceCallId": voice_call_id, "callCenterId": call_center_id, "occurredAt": now}
        event = PAYLOAD_KINDS[kind].model_validate({**fields, **base})
        entry = self._uow.record(
            call_center_id=call_center_id,
            voice_call_id=voice_call_id,
            conversation_id=conversation_id,
            kind=kind,
            outcome=outcome,
            reason=reason,
            data=payload_of(event),
        )
        self._entries.append(entry)
        return entry

    def events(self) -> list[AnyEvent]:
        """The typed events, in id order; only meaningful after the commit gave the entries their ids."""
        return [event_of(row_of(entry)) for entry in sorted(self._entries, key=lambda entry: entry.id)]
