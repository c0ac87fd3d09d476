"""The unit of work: one transaction, the timeline entries written in it, and their release after commit."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.events.broker import Broker
from callbridge.events.schemas import TimelineRecorded
from callbridge.kit.clock import Clock
from callbridge.kit.db import Database
from callbridge.models import TimelineEntry


@dataclass(frozen=True)
class Actor:
    """Who caused a change and through which request, for the timeline."""

    name: str
    request: str | None = None


class UnitOfWork:
    """``async with UnitOfWork(...) as uow``: commits on a clean exit, rolls back on an exception, and only
    after a successful commit publishes what the timeline recorded."""

    def __init__(self, database: Database, broker: Broker, clock: Clock, actor: Actor) -> None:
        self._database = database
        self._broker = broker
        self.clock = clock
        self.actor = actor
        self._entries: list[TimelineEntry] = []
        self._session_context: Any = None
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        self._session_context = self._database.write_session()
        self.session = await self._session_context.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            await self._session_context.__aexit__(exc_type, exc, tb)
        if exc_type is None and self._entries:
            await self._broker.publish([to_event(entry) for entry in self._entries])

    def record(
        self,
        *,
        call_center_id: str,
        voice_call_id: str | None,
        conversation_id: str | None,
        kind: str,
        outcome: str,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> TimelineEntry:
        """Append a timeline entry to this transaction."""
        entry = TimelineEntry(
            call_center_id=call_center_id,
            voice_call_id=voice_call_id,
            conversation_id=conversation_id,
            occurred_at=self.clock.now(),
            kind=kind,
            actor=self.actor.name,
            request=self.actor.request,
            outcome=outcome,
            reason=reason,
            data=data or {},
        )
        self.session.add(entry)
        self._entries.append(entry)
        return entry


def to_event(entry: TimelineEntry) -> TimelineRecorded:
    return TimelineRecorded(
        id=entry.id,
        voiceCallId=entry.voice_call_id,
        callCenterId=entry.call_center_id,
        occurredAt=entry.occurred_at,
        kind=entry.kind,
        actor=entry.actor,
        outcome=entry.outcome,
        reason=entry.reason,
        data=entry.data,
    )
