"""The unit of work: one transaction, the timeline entries written in it, and their release after commit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.events.broker import Broker
from callbridge.events.catalogue import PAYLOAD_KINDS, event_of, payload_of
from callbridge.events.schemas import AnyEvent
from callbridge.kit.bounds import cut
from callbridge.kit.clock import Clock
from callbridge.kit.db import Database, lock_timeline
from callbridge.models import TimelineEntry

log = structlog.get_logger()


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
        self._before_commit: dict[str, Callable[[UnitOfWork], Awaitable[None]]] = {}
        # What steps of this unit of work touched, for its before-commit steps (e.g. queues whose backlog changed).
        self.touched: defaultdict[str, set[str]] = defaultdict(set)
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
                for step in list(self._before_commit.values()):
                    await step(self)
                if self._entries:
                    await self._insert_entries()
                await self.session.commit()
                # On SQLite, still holding the write lock: events leave in commit order. On PostgreSQL the
                # broker puts them in id order (callbridge.events.ordered).
                if self._entries:
                    await self._publish()
            else:
                await self.session.rollback()
        finally:
            await self._session_context.__aexit__(exc_type, exc, tb)

    async def _insert_entries(self) -> None:
        """The timeline entries go in last, under the timeline lock, so that their ids follow commit order."""
        await self.session.flush()
        await lock_timeline(self.session)
        self.session.add_all(self._entries)
        await self.session.flush()

    async def _publish(self) -> None:
        try:
            await self._broker.publish([to_event(entry) for entry in sorted(self._entries, key=lambda e: e.id)])
        except Exception:  # committed: the request succeeded; consoles resume from the timeline
            log.exception("publishing after commit failed")

    def before_commit(self, name: str, step: Callable[[UnitOfWork], Awaitable[None]]) -> None:
        """Run ``step`` once, right before the commit (registering the same ``name`` again changes nothing)."""
        self._before_commit.setdefault(name, step)

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
        """Append a timeline entry to this transaction: it is inserted right before the commit, so it has no
        id until then."""
        entry = TimelineEntry(
            call_center_id=call_center_id,
            voice_call_id=voice_call_id,
            conversation_id=conversation_id,
            occurred_at=self.clock.now(),
            kind=kind,
            actor=self.actor.name,
            request=self.actor.request,
            outcome=outcome,
            reason=stored_reason(reason),
            data=data or {},
        )
        self._entries.append(entry)
        return entry

    def record_event(
        self,
        *,
        call_center_id: str,
        voice_call_id: str | None,
        conversation_id: str | None,
        kind: str,
        outcome: str,
        reason: str | None,
        fields: dict[str, Any],
    ) -> TimelineEntry:
        """Like ``record``, for a kind whose stored data is its typed event's payload (``PAYLOAD_KINDS``):
        ``fields`` are the event's own fields by alias, validated here so that what is stored always rebuilds
        the event."""
        base = {"id": 0, "voiceCallId": voice_call_id, "callCenterId": call_center_id, "occurredAt": self.clock.now()}
        event = PAYLOAD_KINDS[kind].model_validate({**fields, **base})
        return self.record(
            call_center_id=call_center_id,
            voice_call_id=voice_call_id,
            conversation_id=conversation_id,
            kind=kind,
            outcome=outcome,
            reason=reason,
            data=payload_of(event),
        )


# TimelineEntry.reason's column: a reason quoting client values (a routing target, a key) is cut to fit it.
MAX_REASON = 1024


def stored_reason(reason: str | None) -> str | None:
    return reason if reason is None or len(reason) <= MAX_REASON else cut(reason, MAX_REASON)


def row_of(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "call_center_id": entry.call_center_id,
        "voice_call_id": entry.voice_call_id,
        "conversation_id": entry.conversation_id,
        "occurred_at": entry.occurred_at,
        "kind": entry.kind,
        "actor": entry.actor,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "data": entry.data,
    }


def to_event(entry: TimelineEntry) -> AnyEvent:
    """The event a recorded entry is published as (typed where its kind has one)."""
    return event_of(row_of(entry))
