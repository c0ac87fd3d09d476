"""Every query the VoiceCall service makes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, insert, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.kit import ids
from callbridge.kit.db import Base
from callbridge.models import (
    Conversation,
    ConversationParticipant,
    Queue,
    TimelineEntry,
    VoiceCall,
    VoiceCallRecording,
)


async def get_by_id(session: AsyncSession, call_center_id: str, voice_call_id: str) -> VoiceCall | None:
    call = await session.get(VoiceCall, ids.to_18(voice_call_id))
    return call if call is not None and call.call_center_id == call_center_id else None


async def get_newest_leg_by_vendor_call_key(session: AsyncSession, call_center_id: str, key: str) -> VoiceCall | None:
    """A vendorCallKey that several legs share names the newest of them."""
    query = (
        select(VoiceCall)
        .where(VoiceCall.call_center_id == call_center_id, VoiceCall.vendor_call_key == key)
        .order_by(VoiceCall.created_at.desc(), VoiceCall.id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def get_first_leg_by_vendor_call_key(session: AsyncSession, call_center_id: str, key: str) -> VoiceCall | None:
    query = select(VoiceCall).where(
        VoiceCall.call_center_id == call_center_id,
        VoiceCall.vendor_call_key == key,
        VoiceCall.previous_call_id.is_(None),
    )
    return (await session.scalars(query)).first()


async def resolve(session: AsyncSession, call_center_id: str, id_or_key: str) -> VoiceCall | None:
    """A path ``{id}``: the VoiceCall id (15 or 18 characters) or the vendorCallKey (newest leg)."""
    if ids.is_salesforce_id(id_or_key, ids.VOICE_CALL):
        call = await get_by_id(session, call_center_id, id_or_key)
        if call is not None:
            return call
    return await get_newest_leg_by_vendor_call_key(session, call_center_id, id_or_key)


async def legs_of_conversation(session: AsyncSession, conversation_id: str) -> Sequence[VoiceCall]:
    query = (
        select(VoiceCall)
        .where(VoiceCall.conversation_id == conversation_id)
        .order_by(VoiceCall.created_at, VoiceCall.id)
    )
    return (await session.scalars(query)).all()


async def participants_of(session: AsyncSession, conversation_id: str) -> Sequence[ConversationParticipant]:
    query = (
        select(ConversationParticipant)
        .where(ConversationParticipant.conversation_id == conversation_id)
        .order_by(ConversationParticipant.joined_time, ConversationParticipant.id)
    )
    return (await session.scalars(query)).all()


async def get_conversation(session: AsyncSession, conversation_id: str) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None, "a VoiceCall always has its conversation"
    return conversation


async def recording_of(session: AsyncSession, voice_call_id: str) -> VoiceCallRecording | None:
    query = select(VoiceCallRecording).where(VoiceCallRecording.voice_call_id == voice_call_id)
    return (await session.scalars(query)).first()


async def find_queue(session: AsyncSession, org_id: str, reference: str) -> Queue | None:
    """A queue named by its Id (00G), the vendor's external id (an ARN), or its API name."""
    conditions = [Queue.external_id == reference, Queue.api_name == reference]
    if ids.is_salesforce_id(reference, ids.QUEUE):
        conditions.append(Queue.id == ids.to_18(reference))
    query = select(Queue).where(Queue.org_id == org_id, or_(*conditions)).limit(1)
    return (await session.scalars(query)).first()


async def timeline_of(session: AsyncSession, conversation_id: str, limit: int) -> Sequence[TimelineEntry]:
    """A conversation's timeline, oldest first: every leg's entries and the transcript's."""
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.conversation_id == conversation_id)
        .order_by(TimelineEntry.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


def values_of(obj: Base) -> tuple[Table, dict[str, Any]]:
    """A transient ORM object as its table and the column values it was given (defaults apply on insert)."""
    mapper: Any = inspect(type(obj))
    columns = {attribute.key: attribute.columns[0].key for attribute in mapper.column_attrs}
    return mapper.local_table, {columns[key]: value for key, value in vars(obj).items() if key in columns}


async def insert_new(session: AsyncSession, objects: Sequence[Base]) -> None:
    """Insert rows built as (transient) ORM objects with Core: one executemany per table and set of columns,
    tables in the order they first appear (parents first). Several times cheaper than the ORM's unit of work
    on the create hot path, and the columns' defaults apply the same way."""
    groups: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
    for obj in objects:
        table, values = values_of(obj)
        groups.setdefault((table, tuple(values)), []).append(values)
    connection = await session.connection()
    for (table, _), rows in groups.items():
        await connection.execute(insert(table), rows)


_FIRST_LEGS = select(
    VoiceCall.id, VoiceCall.call_center_id, VoiceCall.vendor_call_key, VoiceCall.conversation_id
).where(
    VoiceCall.call_center_id.in_(bindparam("call_center_ids", expanding=True)),
    VoiceCall.vendor_call_key.in_(bindparam("keys", expanding=True)),
    VoiceCall.previous_call_id.is_(None),
)


async def first_legs(session: AsyncSession, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The first leg of each ``(call center id, vendorCallKey)`` that has one: its id and conversation."""
    if not keys:
        return {}
    parameters = {"call_center_ids": sorted({c for c, _ in keys}), "keys": sorted({k for _, k in keys})}
    rows = (await (await session.connection()).execute(_FIRST_LEGS, parameters)).all()
    return {
        (row.call_center_id, row.vendor_call_key): row
        for row in rows
        if (row.call_center_id, row.vendor_call_key) in keys
    }
