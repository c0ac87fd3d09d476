"""Reading the conversation data store back: a conversation's stored events, in startTime order, paginated."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.context import CallCenterContext
from callbridge.errors import InvalidRequest
from callbridge.intelligence import repository
from callbridge.intelligence.schemas import ConversationEventOut, ConversationEventPage, SignalType, signal_type
from callbridge.models import ConversationEvent
from callbridge.transcripts.errors import InvalidCursor
from callbridge.voice_calls import repository as voice_calls
from callbridge.voice_calls.errors import VoiceCallNotFound

_CURSOR = re.compile(r"^(\d{1,18})\.(\d{1,18})$")
_ALL_TYPES = tuple(SignalType)


def parse_cursor(after: str | None) -> tuple[int, int] | None:
    """Cursors are ``<startTime>.<id>`` of the last event of a page: the (startTime, id) order is total, so a
    page never repeats or skips an event."""
    if after is None or after == "":
        return None
    match = _CURSOR.match(after)
    if match is None:
        raise InvalidCursor(after)
    return int(match[1]), int(match[2])


def parse_types(value: str | None) -> list[str]:
    """``type``: one signal type or several, comma-separated, any case."""
    if not value:
        return []
    types, problems = [], []
    for part in value.split(","):
        found = signal_type(part, _ALL_TYPES)
        if found is None:
            allowed = ", ".join(member.value for member in SignalType)
            problems.append(f"type: '{part.strip()}' is not one of {allowed}")
        else:
            types.append(found.value)
    if problems:
        raise InvalidRequest.for_fields(problems)
    return types


def _out(event: ConversationEvent, identifiers: list[str]) -> ConversationEventOut:
    return ConversationEventOut(
        id=event.id,
        source="realtime" if event.source == "realtime" else "post_call",
        service=event.service,
        type=event.type,
        value=event.value,
        sentimentScore=event.sentiment_score,
        score=event.score,
        participant=event.participant,
        startTime=event.start_time,
        endTime=event.end_time,
        details=event.details,
        voiceCallId=event.voice_call_id,
        entryIdentifiers=identifiers,
        receivedAt=event.received_at,
    )


async def list_events(
    session: AsyncSession,
    context: CallCenterContext,
    id_or_key: str,
    *,
    limit: int,
    after: str | None,
    type_filter: str | None,
) -> ConversationEventPage:
    """The stored events of the conversation of a VoiceCall (id or vendorCallKey)."""
    position = parse_cursor(after)
    types = parse_types(type_filter)
    call = await voice_calls.resolve(session, context.call_center_id, id_or_key)
    if call is None:
        raise VoiceCallNotFound(id_or_key)
    conversation = await voice_calls.get_conversation(session, call.conversation_id)
    events = await repository.events_page(session, conversation.id, types=types, after=position, limit=limit + 1)
    page = list(events[:limit])
    linked = await repository.linked_identifiers(session, [event.id for event in page])
    last = page[-1] if page else None
    return ConversationEventPage(
        voiceCallId=call.id,
        conversationId=conversation.id,
        conversationIdentifier=conversation.conversation_identifier,
        events=[_out(event, linked.get(event.id, [])) for event in page],
        next=f"{last.start_time}.{last.id}" if last is not None and len(events) > limit else None,
    )
