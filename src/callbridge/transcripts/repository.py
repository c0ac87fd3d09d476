"""Every query of the transcript domain: the writer's batch loads and writes (SQLAlchemy Core on the session's
connection, skipping the ORM's per-statement work; one statement per kind of row per batch), and the reads."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any
from typing import cast as typed

import orjson
from sqlalchemy import ARRAY, BigInteger, String, Table, bindparam, cast, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.kit.bulk import BulkInsert
from callbridge.models import (
    Conversation,
    ConversationEntry,
    ConversationParticipant,
    ConversationUpload,
    TimelineEntry,
    VoiceCall,
)

ENTRIES = typed(Table, ConversationEntry.__table__)
PARTICIPANTS = typed(Table, ConversationParticipant.__table__)
UPLOADS = typed(Table, ConversationUpload.__table__)

DROPPED = "transcript.dropped"


# The batch loads are built once, their lists bound as expanding parameters: a batch pays for no statement
# construction or cache-key generation, whatever its size or mix.
_LEGS = (
    select(
        VoiceCall.id,
        VoiceCall.call_center_id,
        VoiceCall.vendor_call_key,
        VoiceCall.conversation_id,
        VoiceCall.previous_call_id,
        VoiceCall.is_on_hold,
        VoiceCall.is_recording_paused,
        VoiceCall.call_origin,
        VoiceCall.call_start_date_time,
        VoiceCall.call_end_date_time,
        Conversation.conversation_identifier,
        Conversation.start_time,
        Conversation.end_time,
    )
    .join(Conversation, Conversation.id == VoiceCall.conversation_id)
    .where(
        or_(
            VoiceCall.conversation_id.in_(
                select(VoiceCall.conversation_id).where(
                    VoiceCall.call_center_id.in_(bindparam("call_center_ids", expanding=True)),
                    VoiceCall.vendor_call_key.in_(bindparam("keys", expanding=True)),
                )
            ),
            VoiceCall.conversation_id.in_(bindparam("conversation_ids", expanding=True)),
        )
    )
    .order_by(VoiceCall.created_at, VoiceCall.id)
)

_ENTRY_NAMES = (
    "id",
    "conversation_id",
    "identifier",
    "message_text",
    "version",
    "is_redacted",
    "sender_id",
    "client_timestamp",
    "client_duration",
    "server_received_timestamp",
    "voice_call_id",
)
_ENTRY_COLUMNS = ", ".join(_ENTRY_NAMES)
# (conversation, identifier) pairs joined to the unique index, pair by pair. A row-value IN list would say the
# same, but SQLite answers it by scanning the whole index; a join to the pairs as a table is searched.
_ENTRIES_NAMED = {
    "sqlite": text(
        f"SELECT e.{_ENTRY_COLUMNS.replace(', ', ', e.')} FROM json_each(:pairs) AS w "
        "JOIN conversation_entries AS e ON e.conversation_id = json_extract(w.value, '$[0]') "
        "AND e.identifier = json_extract(w.value, '$[1]')"
    ).columns(*(ENTRIES.c[name] for name in _ENTRY_NAMES)),
    "postgresql": text(
        f"SELECT e.{_ENTRY_COLUMNS.replace(', ', ', e.')} "
        "FROM unnest(CAST(:conversation_ids AS text[]), CAST(:identifiers AS text[])) AS w(c, i) "
        "JOIN conversation_entries AS e ON e.conversation_id = w.c AND e.identifier = w.i"
    )
    .bindparams(bindparam("conversation_ids", type_=ARRAY(String)), bindparam("identifiers", type_=ARRAY(String)))
    .columns(*(ENTRIES.c[name] for name in _ENTRY_NAMES)),
}

# One max() per conversation, which both databases answer with one seek at the end of the
# (conversation, serverReceivedTimestamp) index; a GROUP BY would read every entry of every conversation.
_LAST_RECEIVED = select(
    Conversation.id,
    select(func.max(ConversationEntry.server_received_timestamp))
    .where(ConversationEntry.conversation_id == Conversation.id)
    .scalar_subquery(),
).where(Conversation.id.in_(bindparam("conversation_ids", expanding=True)))

_PARTICIPANTS_IN = select(
    ConversationParticipant.id,
    ConversationParticipant.conversation_id,
    ConversationParticipant.participant_role,
    ConversationParticipant.participant_key,
).where(ConversationParticipant.conversation_id.in_(bindparam("conversation_ids", expanding=True)))

# Bound parameters per statement stay far below SQLite's limit (32,766) and PostgreSQL's (32,767 for asyncpg).
_CHUNK = 5000


async def legs_for(
    session: AsyncSession, keys: Collection[tuple[str, str]], conversation_ids: Collection[str]
) -> Sequence[Any]:
    """Every leg (with its conversation) of each conversation that has a leg named by one of ``keys``
    ((call center id, vendorCallKey)) or whose id is in ``conversation_ids``: one query for a whole batch."""
    if not keys and not conversation_ids:
        return []
    parameters = {
        "call_center_ids": sorted({cc for cc, _ in keys}),
        "keys": sorted({key for _, key in keys}),
        "conversation_ids": sorted(set(conversation_ids)),
    }
    return (await (await session.connection()).execute(_LEGS, parameters)).all()


async def entries_named(session: AsyncSession, wanted: Mapping[str, Collection[str]]) -> Sequence[Any]:
    """The stored entries with these messageIds, per conversation (``wanted`` maps conversation ids to them)."""
    pairs = [(conversation_id, identifier) for conversation_id, named in wanted.items() for identifier in set(named)]
    if not pairs:
        return []
    dialect = (await session.connection()).dialect.name
    if dialect == "sqlite":
        parameters: dict[str, Any] = {"pairs": orjson.dumps(pairs).decode()}
    else:
        parameters = {"conversation_ids": [c for c, _ in pairs], "identifiers": [i for _, i in pairs]}
    return (await (await session.connection()).execute(_ENTRIES_NAMED[dialect], parameters)).all()


async def last_received(session: AsyncSession, conversation_ids: Collection[str]) -> dict[str, int]:
    """The newest serverReceivedTimestamp of each conversation that has entries."""
    found: dict[str, int] = {}
    connection = await session.connection()
    ids = sorted(set(conversation_ids))
    for start in range(0, len(ids), _CHUNK):
        rows = await connection.execute(_LAST_RECEIVED, {"conversation_ids": ids[start : start + _CHUNK]})
        found.update({conversation_id: newest for conversation_id, newest in rows.all() if newest is not None})
    return found


async def participants_in(session: AsyncSession, conversation_ids: Collection[str]) -> Sequence[Any]:
    rows: list[Any] = []
    connection = await session.connection()
    ids = sorted(set(conversation_ids))
    for start in range(0, len(ids), _CHUNK):
        rows += (await connection.execute(_PARTICIPANTS_IN, {"conversation_ids": ids[start : start + _CHUNK]})).all()
    return rows


insert_participants = BulkInsert(PARTICIPANTS)
insert_entries = BulkInsert(ENTRIES)
_UPDATE_ENTRY = (
    update(ENTRIES)
    .where(ENTRIES.c.id == bindparam("b_id"))
    .values(
        message_text=bindparam("b_message_text"),
        sender_id=bindparam("b_sender_id"),
        client_timestamp=bindparam("b_client_timestamp"),
        client_duration=bindparam("b_client_duration"),
        version=bindparam("b_version"),
        is_redacted=bindparam("b_is_redacted"),
        updated_at=bindparam("b_updated_at"),
    )
)


async def update_entries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """``rows`` carry ``b_``-prefixed keys: the id and every updatable column."""
    if rows:
        await (await session.connection()).execute(_UPDATE_ENTRY, rows)


async def save_upload(session: AsyncSession, row: dict[str, Any], *, new: bool) -> None:
    if new:
        await session.execute(insert(UPLOADS), [row])
    else:
        values = {key: value for key, value in row.items() if key not in ("id", "created_at")}
        await session.execute(update(UPLOADS).where(UPLOADS.c.id == row["id"]).values(**values))


# Reads.


async def conversation_by_identifier(
    session: AsyncSession, call_center_id: str, identifier: str
) -> Conversation | None:
    """A conversation named by its ConversationIdentifier (first leg's vendorCallKey) or its 0dw id."""
    query = (
        select(Conversation)
        .where(
            Conversation.call_center_id == call_center_id,
            or_(Conversation.conversation_identifier == identifier, Conversation.id == identifier),
        )
        .order_by(Conversation.start_time.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def entries_after(
    session: AsyncSession, conversation_id: str, after: int, limit: int
) -> Sequence[ConversationEntry]:
    query = (
        select(ConversationEntry)
        .where(
            ConversationEntry.conversation_id == conversation_id,
            ConversationEntry.server_received_timestamp > after,
        )
        .order_by(ConversationEntry.server_received_timestamp)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def drops_after(session: AsyncSession, conversation_id: str, after: int, limit: int) -> Sequence[TimelineEntry]:
    # as_integer() casts to a 32-bit INTEGER on PostgreSQL; epoch milliseconds need 64 bits.
    received = cast(TimelineEntry.data["serverReceivedTimestamp"].as_string(), BigInteger)
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.conversation_id == conversation_id, TimelineEntry.kind == DROPPED, received > after)
        .order_by(TimelineEntry.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def entries_between(
    session: AsyncSession, conversation_id: str, start: int, end: int | None, limit: int, *, from_end: bool
) -> list[ConversationEntry]:
    """Entries whose serverReceivedTimestamp lies in [start, end], the first or last ``limit`` of them,
    oldest first."""
    conditions = [
        ConversationEntry.conversation_id == conversation_id,
        ConversationEntry.server_received_timestamp >= start,
    ]
    if end is not None:
        conditions.append(ConversationEntry.server_received_timestamp <= end)
    order = ConversationEntry.server_received_timestamp
    query = select(ConversationEntry).where(*conditions).order_by(order.desc() if from_end else order).limit(limit)
    rows = list((await session.scalars(query)).all())
    return rows[::-1] if from_end else rows


async def participants_by_id(session: AsyncSession, conversation_id: str) -> dict[str, ConversationParticipant]:
    query = select(ConversationParticipant).where(ConversationParticipant.conversation_id == conversation_id)
    return {participant.id: participant for participant in (await session.scalars(query)).all()}


async def uploads_by_id(session: AsyncSession, call_center_id: str, upload_ids: list[str]) -> list[ConversationUpload]:
    query = select(ConversationUpload).where(
        ConversationUpload.call_center_id == call_center_id, ConversationUpload.id.in_(upload_ids)
    )
    return list((await session.scalars(query)).all())


async def voice_calls_of(session: AsyncSession, conversation_id: str, candidates: Collection[str]) -> set[str]:
    """Which of ``candidates`` (18-character ids) are legs of the conversation."""
    if not candidates:
        return set()
    query = select(VoiceCall.id).where(VoiceCall.conversation_id == conversation_id, VoiceCall.id.in_(candidates))
    return set((await session.scalars(query)).all())
