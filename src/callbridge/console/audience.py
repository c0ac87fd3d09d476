"""Who sees which event on the push channel.

A supervisor sees everything of their org. An agent sees their own offers, work and presence, the backlog of
their queues, and every event of the calls offered to or accepted by them (matched by VoiceCall id or by
conversation, so that a transfer leg's transcripts still reach the agent on the conversation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.console import repository
from callbridge.events.schemas import AnyEvent, QueueBacklog, RoutingOffered, RoutingOfferEnded, RoutingWorkClosed
from callbridge.models import Agent, AgentWork, TimelineEntry
from callbridge.routing.repository import OFFERED, OPENED


@dataclass
class Audience:
    user_id: str
    org_id: str
    is_supervisor: bool
    call_center_ids: frozenset[str]
    queues: frozenset[str] = frozenset()
    calls: set[str] = field(default_factory=set)

    @property
    def role(self) -> str:
        return "supervisor" if self.is_supervisor else "agent"

    @property
    def sources(self) -> frozenset[str]:
        """The timeline's ``call_center_id`` values this audience reads: its call centers and its org."""
        return self.call_center_ids | {self.org_id}

    def follow(self, event: AnyEvent) -> None:
        """Keep the agent's calls up to date as offers come and work ends."""
        if self.is_supervisor or getattr(event, "user_id", None) != self.user_id:
            return
        keys = {key for key in (event.voice_call_id, getattr(event, "conversation_id", None)) if key}
        if isinstance(event, RoutingOffered):
            self.calls |= keys
        elif (isinstance(event, RoutingOfferEnded) and event.outcome != "accepted") or isinstance(
            event, RoutingWorkClosed
        ):
            self.calls -= keys

    def admits(self, event: AnyEvent) -> bool:
        if event.call_center_id not in self.sources:
            return False
        if self.is_supervisor:
            return True
        if getattr(event, "user_id", None) == self.user_id:
            return True
        if isinstance(event, QueueBacklog):
            return event.queue_api_name in self.queues
        keys = (event.voice_call_id, getattr(event, "conversation_id", None))
        return any(key in self.calls for key in keys if key)


async def audience_of(session: AsyncSession, agent: Agent, *, after: int | None) -> Audience:
    """The audience of a signed-in agent; an agent resuming after an event also follows the calls whose work
    ended since then (so that the end of that work is replayed)."""
    centers = await repository.call_centers_of_org(session, agent.org_id)
    audience = Audience(
        user_id=agent.user_id,
        org_id=agent.org_id,
        is_supervisor=agent.role == "supervisor",
        call_center_ids=frozenset(centers),
        queues=frozenset(str(queue) for queue in agent.queues),
    )
    if audience.is_supervisor:
        return audience
    current = AgentWork.status.in_([OFFERED, OPENED])
    since = await _time_of(session, after) if after is not None else None
    query = select(AgentWork.voice_call_id, AgentWork.conversation_id).where(
        AgentWork.user_id == agent.user_id, or_(current, AgentWork.ended_at >= since) if since else current
    )
    for voice_call_id, conversation_id in await session.execute(query):
        audience.calls |= {voice_call_id, conversation_id}
    return audience


async def _time_of(session: AsyncSession, event_id: int) -> datetime | None:
    query = select(TimelineEntry.occurred_at).where(TimelineEntry.id <= event_id).order_by(TimelineEntry.id.desc())
    return (await session.execute(query.limit(1))).scalar_one_or_none()
