"""Reading a conversation's entries back: Callbridge's paginated list (with the drop records on request) and
the Connect API's entries query."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.context import CallCenterContext
from callbridge.models import Conversation, ConversationEntry, TimelineEntry
from callbridge.transcripts import repository
from callbridge.transcripts.errors import ConversationNotFound, InvalidCursor
from callbridge.transcripts.rules import connect_role
from callbridge.transcripts.schemas import (
    ConnectEntries,
    ConnectEntry,
    ConnectSender,
    TranscriptEntryOut,
    TranscriptPage,
    TranscriptSenderOut,
)
from callbridge.voice_calls import repository as voice_calls
from callbridge.voice_calls.errors import VoiceCallNotFound


def parse_cursor(after: str | None) -> int:
    """Cursors are the serverReceivedTimestamp of the last item of a page: strictly increasing per
    conversation, so a page never repeats or skips an item, whatever arrives meanwhile."""
    if after is None or after == "":
        return -1
    if not (after.isascii() and after.isdigit()) or len(after) > 18:  # "²" is a digit to isdigit
        raise InvalidCursor(after)
    return int(after)


def _stored(entry: ConversationEntry) -> TranscriptEntryOut:
    return TranscriptEntryOut(
        messageId=entry.identifier,
        status="stored",
        content=entry.message_text,
        sender=TranscriptSenderOut(role=entry.sender_role, participantId=entry.sender_id),
        startTime=entry.client_timestamp,
        endTime=entry.client_timestamp + entry.client_duration,
        serverReceivedTimestamp=entry.server_received_timestamp,
        voiceCallId=entry.voice_call_id,
        version=entry.version,
        redacted=entry.is_redacted,
        source=entry.source,
        dropReason=None,
        reason=None,
    )


def _dropped(record: TimelineEntry) -> TranscriptEntryOut:
    data = record.data
    sender = data.get("sender", {})
    return TranscriptEntryOut(
        messageId=data["messageId"],
        status="dropped",
        content=None,
        sender=TranscriptSenderOut(role=sender.get("role", ""), participantId=sender.get("participantId", "")),
        startTime=data["startTime"],
        endTime=data["endTime"],
        serverReceivedTimestamp=data["serverReceivedTimestamp"],
        voiceCallId=record.voice_call_id,
        version=None,
        redacted=False,
        source="realtime",
        dropReason=data.get("dropReason"),
        reason=record.reason,
    )


async def list_messages(
    session: AsyncSession,
    context: CallCenterContext,
    id_or_key: str,
    *,
    limit: int,
    after: str | None,
    include_dropped: bool,
) -> TranscriptPage:
    """The entries of the conversation of a VoiceCall (id or vendorCallKey), oldest first."""
    call = await voice_calls.resolve(session, context.call_center_id, id_or_key)
    if call is None:
        raise VoiceCallNotFound(id_or_key)
    conversation = await voice_calls.get_conversation(session, call.conversation_id)
    position = parse_cursor(after)
    items = [_stored(e) for e in await repository.entries_after(session, conversation.id, position, limit + 1)]
    if include_dropped:
        items += [_dropped(r) for r in await repository.drops_after(session, conversation.id, position, limit + 1)]
        items.sort(key=lambda item: item.serverReceivedTimestamp)
    page = items[:limit]
    more = len(items) > limit
    return TranscriptPage(
        voiceCallId=call.id,
        conversationId=conversation.id,
        conversationIdentifier=conversation.conversation_identifier,
        entries=page,
        next=str(page[-1].serverReceivedTimestamp) if more and page else None,
    )


async def find_conversation(session: AsyncSession, context: CallCenterContext, identifier: str) -> Conversation:
    conversation = await repository.conversation_by_identifier(session, context.call_center_id, identifier)
    if conversation is None:
        raise ConversationNotFound(identifier)
    return conversation


async def connect_entries(
    session: AsyncSession,
    context: CallCenterContext,
    identifier: str,
    *,
    start: int,
    end: int | None,
    direction: Literal["FromEnd", "FromStart"],
    limit: int,
) -> ConnectEntries:
    """Entries whose serverReceivedTimestamp lies in [start, end]: the last ``limit`` of them (FromEnd) or the
    first (FromStart), always returned oldest first."""
    conversation = await find_conversation(session, context, identifier)
    entries = await repository.entries_between(
        session, conversation.id, start, end, limit, from_end=direction == "FromEnd"
    )
    participants = await repository.participants_by_id(session, conversation.id)
    result = []
    for entry in entries:
        participant = participants.get(entry.participant_id)
        sender = ConnectSender(
            appType=(participant.app_type if participant else "telephony_integration").upper(),
            role=connect_role(participant.participant_role if participant else entry.sender_role),
            subject=participant.participant_key if participant else entry.sender_id,
        )
        result.append(
            ConnectEntry(
                clientDuration=entry.client_duration,
                clientTimestamp=entry.client_timestamp,
                identifier=entry.identifier,
                messageText=entry.message_text,
                relatedRecords=[entry.voice_call_id] if entry.voice_call_id else [],
                sender=sender,
                serverReceivedTimestamp=entry.server_received_timestamp,
            )
        )
    return ConnectEntries(conversationEntries=result)
