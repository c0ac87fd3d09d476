"""Every query of the routing engine: configuration look-ups, pending routings, offers, work and presence.

Contested transitions are conditional UPDATEs whose row count says who won (see ``engine``); the
selects here only propose, they never decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, and_, func, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import CursorResult, Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Delete, Update

from callbridge.kit import ids
from callbridge.models import (
    Agent,
    AgentState,
    AgentWork,
    CallCenter,
    ContactRequest,
    Flow,
    PendingServiceRouting,
    PhoneChannel,
    Queue,
)
from callbridge.voice_calls.repository import find_queue

__all__ = ["find_queue"]

OFFERED = "Assigned"
OPENED = "Opened"


async def changed(session: AsyncSession, statement: Update | Delete) -> int:
    """Run a conditional UPDATE/DELETE; the number of rows it changed (0: someone else got there first)."""
    result = cast(CursorResult[Any], await session.execute(statement.execution_options(synchronize_session=False)))
    return result.rowcount


def looks_like_id(reference: str, prefix: str) -> bool:
    """A 15- or 18-character id with this key prefix (the checksum is not insisted on: configs hold ids as written)."""
    return reference.startswith(prefix) and len(reference) in (15, 18) and reference.isalnum()


def _digits(number: str) -> str:
    return "".join(char for char in number if char.isdigit())


async def find_phone_channel(session: AsyncSession, call_center_id: str, dialed_number: str) -> PhoneChannel | None:
    """The channel of a dialed number: exact, else the same digits (a connector may send ``" 1800…"``)."""
    channels = (await session.scalars(select(PhoneChannel).where(PhoneChannel.call_center_id == call_center_id))).all()
    for channel in channels:
        if channel.dialed_number == dialed_number.strip():
            return channel
    digits = _digits(dialed_number)
    for channel in channels:
        if digits and _digits(channel.dialed_number) == digits:
            return channel
    return None


async def find_flow(session: AsyncSession, org_id: str, reference: str) -> Flow | None:
    """A flow by its id (300), its API name, or a namespaced ``ns__Name`` of a flow stored as ``Name``."""
    reference = reference.strip()
    if ids.is_salesforce_id(reference, ids.FLOW):
        flow = await session.get(Flow, ids.to_18(reference))
        if flow is not None and flow.org_id == org_id:
            return flow
    names = [reference]
    if "__" in reference:
        names.append(reference.split("__", 1)[1])
    for name in names:
        found = (await session.scalars(select(Flow).where(Flow.org_id == org_id, Flow.api_name == name))).first()
        if found is not None:
            return found
    return None


async def find_agent(session: AsyncSession, org_id: str, reference: str) -> Agent | None:
    """An agent by user id (005, 15 or 18 characters), username or external id."""
    reference = reference.strip()
    conditions = [Agent.username == reference, Agent.external_id == reference]
    if looks_like_id(reference, ids.USER):
        conditions.append(func.substr(Agent.user_id, 1, 15) == reference[:15])
    query = select(Agent).where(Agent.org_id == org_id, or_(*conditions)).limit(1)
    return (await session.scalars(query)).first()


async def get_call_center(session: AsyncSession, call_center_id: str) -> CallCenter:
    call_center = await session.get(CallCenter, call_center_id)
    assert call_center is not None, "a request's call center exists"
    return call_center


async def psr_of_work_item(session: AsyncSession, work_item_id: str) -> PendingServiceRouting | None:
    query = (
        select(PendingServiceRouting)
        .where(PendingServiceRouting.work_item_id == work_item_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).first()


async def get_psr(session: AsyncSession, psr_id: str) -> PendingServiceRouting | None:
    query = (
        select(PendingServiceRouting)
        .where(PendingServiceRouting.id == psr_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).first()


async def get_work(session: AsyncSession, work_id: str) -> AgentWork | None:
    query = select(AgentWork).where(AgentWork.id == work_id).execution_options(populate_existing=True)
    return (await session.scalars(query)).first()


async def works_of_item(session: AsyncSession, work_item_id: str, status: str) -> Sequence[AgentWork]:
    query = (
        select(AgentWork)
        .where(AgentWork.work_item_id == work_item_id, AgentWork.status == status)
        .order_by(AgentWork.offered_at, AgentWork.id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).all()


async def works_of_call(session: AsyncSession, voice_call_id: str) -> Sequence[AgentWork]:
    query = select(AgentWork).where(AgentWork.voice_call_id == voice_call_id).order_by(AgentWork.offered_at)
    return (await session.scalars(query)).all()


async def works_of_user(session: AsyncSession, user_id: str, status: str) -> Sequence[AgentWork]:
    query = (
        select(AgentWork)
        .where(AgentWork.user_id == user_id, AgentWork.status == status)
        .order_by(AgentWork.offered_at, AgentWork.id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).all()


async def open_works_of_org(session: AsyncSession, org_id: str) -> Sequence[AgentWork]:
    query = (
        select(AgentWork)
        .where(AgentWork.org_id == org_id, AgentWork.status == OPENED)
        .order_by(AgentWork.accepted_at, AgentWork.id)
    )
    return (await session.scalars(query)).all()


async def psrs_of_org(session: AsyncSession, org_id: str) -> Sequence[PendingServiceRouting]:
    query = (
        select(PendingServiceRouting)
        .where(PendingServiceRouting.org_id == org_id)
        .order_by(PendingServiceRouting.priority, PendingServiceRouting.created_at, PendingServiceRouting.id)
    )
    return (await session.scalars(query)).all()


async def get_state(session: AsyncSession, user_id: str) -> AgentState | None:
    query = select(AgentState).where(AgentState.user_id == user_id).execution_options(populate_existing=True)
    return (await session.scalars(query)).first()


async def get_contact_request(session: AsyncSession, request_id: str) -> ContactRequest | None:
    return await session.get(ContactRequest, request_id)


async def due_offers(session: AsyncSession, now: datetime, limit: int = 500) -> Sequence[AgentWork]:
    """Offers whose push timeout has passed."""
    query = (
        select(AgentWork)
        .where(AgentWork.status == OFFERED, AgentWork.expires_at.is_not(None), AgentWork.expires_at <= now)
        .order_by(AgentWork.expires_at)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).all()


async def due_scheduled(session: AsyncSession, now: datetime) -> Sequence[PendingServiceRouting]:
    """Scheduled routings (callbacks) whose time has come."""
    query = (
        select(PendingServiceRouting)
        .where(PendingServiceRouting.is_ready_for_routing.is_(False), PendingServiceRouting.ready_at <= now)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).all()


async def anything_due(session: AsyncSession, now: datetime) -> bool:
    """Whether a timer pass has anything to do: an offer past its push timeout, a scheduled routing whose
    time has come, or a waiting routing in an org where someone is Available (three indexed probes)."""
    offer = select(AgentWork.id).where(
        AgentWork.status == OFFERED, AgentWork.expires_at.is_not(None), AgentWork.expires_at <= now
    )
    scheduled = select(PendingServiceRouting.id).where(
        PendingServiceRouting.is_ready_for_routing.is_(False), PendingServiceRouting.ready_at <= now
    )
    waiting = (
        select(PendingServiceRouting.id)
        .join(AgentState, AgentState.org_id == PendingServiceRouting.org_id)
        .where(
            PendingServiceRouting.is_ready_for_routing.is_(True),
            PendingServiceRouting.offer_id.is_(None),
            AgentState.status == "Available",
        )
    )
    for probe in (offer, scheduled, waiting):
        if (await session.scalars(probe.limit(1))).first() is not None:
            return True
    return False


async def orgs_with_waiting_work(session: AsyncSession) -> Sequence[str]:
    query = (
        select(PendingServiceRouting.org_id)
        .where(PendingServiceRouting.is_ready_for_routing.is_(True), PendingServiceRouting.offer_id.is_(None))
        .distinct()
    )
    return (await session.scalars(query)).all()


async def waiting_psrs(session: AsyncSession, org_id: str, limit: int) -> Sequence[PendingServiceRouting]:
    """Ready, un-offered routings of an org in routing order: priority, then age."""
    query = (
        select(PendingServiceRouting)
        .where(
            PendingServiceRouting.org_id == org_id,
            PendingServiceRouting.is_ready_for_routing.is_(True),
            PendingServiceRouting.offer_id.is_(None),
        )
        .order_by(PendingServiceRouting.priority, PendingServiceRouting.created_at, PendingServiceRouting.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).all()


async def anyone_available(session: AsyncSession, org_id: str) -> bool:
    query = select(AgentState.user_id).where(AgentState.org_id == org_id, AgentState.status == "Available").limit(1)
    return (await session.scalars(query)).first() is not None


def _json_text_contains(column: Any, key: str) -> Any:
    """A portable pre-filter: the JSON text of ``column`` holds ``"key"`` (checked exactly afterwards)."""
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sql_cast(column, String).like(f'%"{escaped}"%', escape="\\")


CandidateRow = Row[tuple[str, str, list[Any], dict[str, Any], int, int, datetime]]


async def candidates(
    session: AsyncSession,
    psr: PendingServiceRouting,
    *,
    only: str | None = None,
    exclude: Sequence[str] = (),
    after: tuple[datetime, str] | None = None,
    limit: int = 25,
) -> Sequence[CandidateRow]:
    """Available agents of the PSR's org with room for it, most idle first, pre-filtered on queue and skills
    (the caller checks membership and levels exactly). ``after`` pages on (idle_since, user_id)."""
    conditions = [
        Agent.org_id == psr.org_id,
        AgentState.status == "Available",
        AgentState.capacity_used + psr.capacity_weight <= Agent.capacity,
    ]
    if only is not None:
        conditions.append(Agent.user_id == only)
    elif psr.routing_type == "QueueBased" and psr.queue_name is not None:
        conditions.append(_json_text_contains(Agent.queues, psr.queue_name))
    for skill in psr.skills if only is None else ():
        conditions.append(_json_text_contains(Agent.skills, skill))
    if exclude:
        conditions.append(Agent.user_id.not_in(list(exclude)))
    if after is not None:
        conditions.append(
            or_(AgentState.idle_since > after[0], and_(AgentState.idle_since == after[0], Agent.user_id > after[1]))
        )
    query = (
        select(
            Agent.user_id,
            Agent.username,
            Agent.queues,
            Agent.skills,
            Agent.capacity,
            AgentState.capacity_used,
            AgentState.idle_since,
        )
        .join(AgentState, AgentState.user_id == Agent.user_id)
        .where(*conditions)
        .order_by(AgentState.idle_since, Agent.user_id)
        .limit(limit)
    )
    return cast(Sequence[CandidateRow], (await session.execute(query)).all())


async def capacity_held(session: AsyncSession, user_id: str) -> int:
    """What the agent's offers and open work hold, summed from the work itself (for checks)."""
    query = select(func.coalesce(func.sum(AgentWork.capacity_weight), 0)).where(
        AgentWork.user_id == user_id, AgentWork.status.in_((OFFERED, OPENED))
    )
    return int((await session.execute(query)).scalar_one())


async def get_queue(session: AsyncSession, queue_id: str) -> Queue | None:
    return await session.get(Queue, queue_id)


async def get_agent(session: AsyncSession, user_id: str) -> Agent | None:
    return await session.get(Agent, user_id)
