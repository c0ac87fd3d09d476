"""Every query of the intelligence domain: resolving a vendorCallKey, the conversation data store's writes
(idempotent on the natural key) and its reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any
from typing import cast as typed

from sqlalchemy import Table, and_, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.models import Conversation, ConversationEntry, ConversationEvent, ConversationEventEntry, VoiceCall

EVENTS = typed(Table, ConversationEvent.__table__)
LINKS = typed(Table, ConversationEventEntry.__table__)


async def legs_with_key(
    session: AsyncSession, call_center_id: str, key: str
) -> Sequence[tuple[VoiceCall, Conversation]]:
    """Every leg of the call center that carries ``key``, with its conversation, oldest first."""
    query = (
        select(VoiceCall, Conversation)
        .join(Conversation, Conversation.id == VoiceCall.conversation_id)
        .where(VoiceCall.call_center_id == call_center_id, VoiceCall.vendor_call_key == key)
        .order_by(VoiceCall.created_at, VoiceCall.id)
    )
    return [(call, conversation) for call, conversation in (await session.execute(query)).all()]


async def newest_leg(session: AsyncSession, conversation_id: str) -> VoiceCall:
    """The leg a live signal belongs to: the conversation's newest."""
    query = (
        select(VoiceCall)
        .where(VoiceCall.conversation_id == conversation_id)
        .order_by(VoiceCall.created_at.desc(), VoiceCall.id.desc())
        .limit(1)
    )
    call = (await session.scalars(query)).first()
    assert call is not None, "a conversation always has a leg"
    return call


async def insert_event(session: AsyncSession, row: dict[str, Any]) -> int | None:
    """Store one event; its id, or None when the conversation already holds its natural key."""
    dialect = (await session.connection()).dialect.name
    make_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        make_insert(EVENTS)
        .values(**row)
        .on_conflict_do_nothing(index_elements=[EVENTS.c.conversation_id, EVENTS.c.natural_key])
        .returning(EVENTS.c.id)
    )
    inserted: int | None = (await session.execute(statement)).scalar_one_or_none()
    return inserted


async def entries_starting_by(session: AsyncSession, conversation_id: str, until_ms: int) -> Sequence[Any]:
    """The (id, client_timestamp, client_duration) of the conversation's entries that start by ``until_ms``:
    the candidates for overlapping a span that ends then."""
    query = select(ConversationEntry.id, ConversationEntry.client_timestamp, ConversationEntry.client_duration).where(
        ConversationEntry.conversation_id == conversation_id, ConversationEntry.client_timestamp <= until_ms
    )
    return (await session.execute(query)).all()


async def insert_links(session: AsyncSession, rows: list[dict[str, int]]) -> None:
    if rows:
        await session.execute(insert(LINKS), rows)


async def events_page(
    session: AsyncSession,
    conversation_id: str,
    *,
    types: Collection[str],
    after: tuple[int, int] | None,
    limit: int,
) -> Sequence[ConversationEvent]:
    """Stored events in (startTime, id) order, after the cursor position, of the given types (all if empty)."""
    conditions = [ConversationEvent.conversation_id == conversation_id]
    if types:
        conditions.append(ConversationEvent.type.in_(set(types)))
    if after is not None:
        start, event_id = after
        conditions.append(
            or_(
                ConversationEvent.start_time > start,
                and_(ConversationEvent.start_time == start, ConversationEvent.id > event_id),
            )
        )
    query = (
        select(ConversationEvent)
        .where(*conditions)
        .order_by(ConversationEvent.start_time, ConversationEvent.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def linked_identifiers(session: AsyncSession, event_ids: Collection[int]) -> dict[int, list[str]]:
    """The messageIds of the entries linked to each event, in spoken order."""
    if not event_ids:
        return {}
    query = (
        select(ConversationEventEntry.event_id, ConversationEntry.identifier)
        .join(ConversationEntry, ConversationEntry.id == ConversationEventEntry.entry_id)
        .where(ConversationEventEntry.event_id.in_(set(event_ids)))
        .order_by(ConversationEntry.client_timestamp, ConversationEntry.server_received_timestamp)
    )
    linked: dict[int, list[str]] = defaultdict(list)
    for event_id, identifier in (await session.execute(query)).all():
        linked[event_id].append(identifier)
    return linked
