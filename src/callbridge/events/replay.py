"""Events read back from storage: what a console missed while it was away, and what a shared broker's
notification names by id. The same ``event_of`` as the live path, so a replayed event equals the pushed one."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.events.catalogue import TRANSCRIPT_KINDS, event_of
from callbridge.events.schemas import AnyEvent
from callbridge.models import ConversationEntry, TimelineEntry

_COLUMNS = (
    TimelineEntry.id,
    TimelineEntry.call_center_id,
    TimelineEntry.voice_call_id,
    TimelineEntry.conversation_id,
    TimelineEntry.occurred_at,
    TimelineEntry.kind,
    TimelineEntry.actor,
    TimelineEntry.outcome,
    TimelineEntry.reason,
    TimelineEntry.data,
)


async def last_event_id(session: AsyncSession) -> int:
    """The newest event's id (0 when there is none): a live-only stream starts after it."""
    return int((await session.execute(select(func.coalesce(func.max(TimelineEntry.id), 0)))).scalar_one())


async def events_after(
    session: AsyncSession,
    after: int,
    *,
    call_center_ids: Collection[str],
    calls: Collection[str] | None = None,
    limit: int = 500,
) -> list[AnyEvent]:
    """Events with an id above ``after``, oldest first, of these call centers (or orgs, for org-wide events);
    with ``calls``, only those of these VoiceCall or Conversation ids."""
    query = (
        select(*_COLUMNS)
        .where(TimelineEntry.id > after, TimelineEntry.call_center_id.in_(list(call_center_ids)))
        .order_by(TimelineEntry.id)
        .limit(limit)
    )
    if calls is not None:
        wanted = list(calls)
        query = query.where(or_(TimelineEntry.voice_call_id.in_(wanted), TimelineEntry.conversation_id.in_(wanted)))
    return await _events(session, [dict(row._mapping) for row in await session.execute(query)])


async def events_between(session: AsyncSession, after: int, through: int, *, limit: int = 500) -> list[AnyEvent]:
    """Every event with an id above ``after`` and at most ``through``, oldest first, whoever it concerns (a
    shared broker's catch-up: what other processes committed)."""
    query = (
        select(*_COLUMNS)
        .where(TimelineEntry.id > after, TimelineEntry.id <= through)
        .order_by(TimelineEntry.id)
        .limit(limit)
    )
    return await _events(session, [dict(row._mapping) for row in await session.execute(query)])


async def events_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[AnyEvent]:
    """The events of these timeline entries, in id order (ids not found are left out)."""
    if not ids:
        return []
    query = select(*_COLUMNS).where(TimelineEntry.id.in_(list(ids))).order_by(TimelineEntry.id)
    return await _events(session, [dict(row._mapping) for row in await session.execute(query)])


async def _events(session: AsyncSession, rows: list[dict[str, Any]]) -> list[AnyEvent]:
    """Transcript entries keep no text in the timeline: their event carries the entry's current text."""
    wanted = [row for row in rows if row["kind"] in TRANSCRIPT_KINDS and row["conversation_id"]]
    if wanted:
        texts = await _texts(session, {(row["conversation_id"], row["data"].get("messageId")) for row in wanted})
        for row in wanted:
            row["content"] = texts.get((row["conversation_id"], row["data"].get("messageId")))
    return [event_of(row) for row in rows]


async def _texts(session: AsyncSession, keys: set[tuple[str, Any]]) -> dict[tuple[str, str], str]:
    conversations = sorted({conversation for conversation, _ in keys})
    identifiers = sorted({str(identifier) for _, identifier in keys if identifier is not None})
    query = select(
        ConversationEntry.conversation_id, ConversationEntry.identifier, ConversationEntry.message_text
    ).where(ConversationEntry.conversation_id.in_(conversations), ConversationEntry.identifier.in_(identifiers))
    return {(c, i): text for c, i, text in await session.execute(query) if (c, i) in keys}
