"""Every query of the routing engine: configuration look-ups, pending routings, offers, work and presence.

Contested transitions are conditional UPDATEs whose row count says who won (see ``engine``); the
selects here only propose, they never decide.

The statements of the routing hot path are built once, with bound parameters, and run on the session's
connection: building a statement, and the ORM's handling of one, cost several times what SQLite takes to run
it. Pending ORM changes are flushed first, as the session's own ``execute`` would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Insert, Select, Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import CursorResult, Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import Delete, Update
from sqlalchemy.sql.elements import BindParameter

from callbridge.models import (
    Agent,
    AgentState,
    AgentWork,
    CallCenter,
    ConfigRevision,
    ContactRequest,
    Flow,
    PendingServiceRouting,
    PhoneChannel,
    Queue,
)

OFFERED = "Assigned"
OPENED = "Opened"


_CONNECTION = "routing.connection"


async def connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection, its pending ORM changes flushed (what the session's autoflush would do); kept
    for the rest of the transaction, which saves the session's own look-up at every statement."""
    if session.sync_session.autoflush and (session.new or session.dirty or session.deleted):
        await session.flush()
    kept = session.info.get(_CONNECTION)
    transaction = session.sync_session.get_transaction()
    if kept is not None and transaction is not None and kept[0] is transaction:
        found: AsyncConnection = kept[1]
        return found
    found = await session.connection()
    session.info[_CONNECTION] = (session.sync_session.get_transaction(), found)
    return found


async def changed(session: AsyncSession, statement: Update | Delete, params: Mapping[str, Any] | None = None) -> int:
    """Run a conditional UPDATE/DELETE; the number of rows it changed (0: someone else got there first). The
    session's objects are not synchronised: read again what you need (``populate_existing``)."""
    result = cast(CursorResult[Any], await (await connection(session)).execute(statement, params))
    return result.rowcount


@cache
def _insert_statement(model: type[PendingServiceRouting | AgentWork]) -> tuple[Insert, tuple[str, ...]]:
    table = model.__table__
    assert isinstance(table, Table)
    return insert(table), tuple(column.key for column in table.columns)


async def insert_new(session: AsyncSession, row: PendingServiceRouting | AgentWork) -> None:
    """Insert a row built as a (transient) ORM object, every column set, with one Core INSERT: half the cost of
    the ORM's unit of work. The object stays out of the session: load the row to have it there."""
    statement, columns = _insert_statement(type(row))
    await (await connection(session)).execute(statement, {column: getattr(row, column) for column in columns})


_LATEST_REVISION = select(func.max(ConfigRevision.id))


async def latest_config_revision(session: AsyncSession) -> int | None:
    """The id of the newest ConfigRevision (``callbridge apply`` writes one with every change)."""
    revision: int | None = (await (await connection(session)).execute(_LATEST_REVISION)).scalar()
    return revision


@dataclass(frozen=True)
class RoutingConfiguration:
    """The configuration rows routing reads (``callbridge.routing.directory`` indexes them)."""

    queues: Sequence[Row[tuple[str, str, str, str | None]]]
    agents: Sequence[Row[tuple[str, str, str, str | None, list[Any], dict[str, Any], int]]]
    flows: Sequence[Row[tuple[str, str, str, dict[str, Any]]]]
    channels: Sequence[Row[tuple[str, str, str | None, str | None]]]


async def routing_configuration(session: AsyncSession) -> RoutingConfiguration:
    """Every queue, agent, flow and phone channel, as plain rows."""
    run = (await connection(session)).execute
    queues = await run(select(Queue.id, Queue.org_id, Queue.api_name, Queue.external_id))
    agents = await run(
        select(
            Agent.user_id, Agent.org_id, Agent.username, Agent.external_id, Agent.queues, Agent.skills, Agent.capacity
        )
    )
    flows = await run(select(Flow.id, Flow.org_id, Flow.api_name, Flow.definition))
    channels = await run(
        select(PhoneChannel.call_center_id, PhoneChannel.dialed_number, PhoneChannel.flow, PhoneChannel.fallback_queue)
    )
    return RoutingConfiguration(
        queues=cast(Any, queues.all()),
        agents=cast(Any, agents.all()),
        flows=cast(Any, flows.all()),
        channels=cast(Any, channels.all()),
    )


def looks_like_id(reference: str, prefix: str) -> bool:
    """A 15- or 18-character id with this key prefix (the checksum is not insisted on: configs hold ids as written)."""
    return reference.startswith(prefix) and len(reference) in (15, 18) and reference.isalnum()


async def get_call_center(session: AsyncSession, call_center_id: str) -> CallCenter:
    call_center = await session.get(CallCenter, call_center_id)
    assert call_center is not None, "a request's call center exists"
    return call_center


_PSR_OF_WORK_ITEM = (
    select(PendingServiceRouting)
    .where(PendingServiceRouting.work_item_id == bindparam("work_item_id"))
    .execution_options(populate_existing=True)
)


async def psr_of_work_item(session: AsyncSession, work_item_id: str) -> PendingServiceRouting | None:
    return (await session.scalars(_PSR_OF_WORK_ITEM, {"work_item_id": work_item_id})).first()


_HAS_PSR = select(PendingServiceRouting.id).where(PendingServiceRouting.work_item_id == bindparam("work_item_id"))


async def has_psr(session: AsyncSession, work_item_id: str) -> bool:
    """Whether the work item has a PendingServiceRouting (cheaper than loading it)."""
    found = await (await connection(session)).execute(_HAS_PSR, {"work_item_id": work_item_id})
    return found.first() is not None


async def get_psr(session: AsyncSession, psr_id: str) -> PendingServiceRouting | None:
    query = (
        select(PendingServiceRouting)
        .where(PendingServiceRouting.id == psr_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).first()


async def lock_psr(session: AsyncSession, psr_id: str) -> PendingServiceRouting | None:
    """The PSR as committed now, its row locked until the transaction ends (``FOR UPDATE`` on PostgreSQL; SQLite
    serialises writers anyway): no other transaction can offer or remove it meanwhile."""
    query = (
        select(PendingServiceRouting)
        .where(PendingServiceRouting.id == psr_id)
        .with_for_update()
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


async def waiting_with_room(session: AsyncSession) -> bool:
    """Whether a routing waits in an org where an Available agent has capacity left. Waiting work that no agent
    has room for gives a timer pass nothing to do: it would try the work against every agent and offer
    nothing, holding the write lock while requests wait (the tail of omniFlow's latency)."""
    waiting = (
        select(PendingServiceRouting.id)
        .join(AgentState, AgentState.org_id == PendingServiceRouting.org_id)
        .join(Agent, Agent.user_id == AgentState.user_id)
        .where(
            PendingServiceRouting.is_ready_for_routing.is_(True),
            PendingServiceRouting.offer_id.is_(None),
            AgentState.status == "Available",
            AgentState.capacity_used < Agent.capacity,
        )
    )
    return (await session.scalars(waiting.limit(1))).first() is not None


async def expiry_due(session: AsyncSession, now: datetime) -> bool:
    """Whether an offer is past its push timeout or a scheduled routing's time has come (what a pass does
    besides offering waiting work)."""
    offer = select(AgentWork.id).where(
        AgentWork.status == OFFERED, AgentWork.expires_at.is_not(None), AgentWork.expires_at <= now
    )
    scheduled = select(PendingServiceRouting.id).where(
        PendingServiceRouting.is_ready_for_routing.is_(False), PendingServiceRouting.ready_at <= now
    )
    for probe in (offer, scheduled):
        if (await session.scalars(probe.limit(1))).first() is not None:
            return True
    return False


class WaitingState(NamedTuple):
    """What decides whether a pass over waiting work can offer anything: the waiting routings and the room of
    the Available agents. A pass that offered nothing offers nothing again until one of these moves."""

    waiting: int
    available: int
    free_capacity: int
    last_idle_since: datetime | None


async def waiting_state(session: AsyncSession) -> WaitingState:
    waiting = select(func.count(PendingServiceRouting.id)).where(
        PendingServiceRouting.is_ready_for_routing.is_(True), PendingServiceRouting.offer_id.is_(None)
    )
    room = (
        select(
            func.count(AgentState.user_id),
            func.coalesce(func.sum(Agent.capacity - AgentState.capacity_used), 0),
            func.max(AgentState.idle_since),
        )
        .join(Agent, Agent.user_id == AgentState.user_id)
        .where(AgentState.status == "Available")
    )
    connection = await session.connection()
    count = (await connection.execute(waiting)).scalar_one()
    available, free, last_idle = (await connection.execute(room)).one()
    return WaitingState(int(count), int(available), int(free), last_idle)


async def orgs_with_waiting_work(session: AsyncSession) -> Sequence[str]:
    query = (
        select(PendingServiceRouting.org_id)
        .where(PendingServiceRouting.is_ready_for_routing.is_(True), PendingServiceRouting.offer_id.is_(None))
        .distinct()
    )
    return (await session.scalars(query)).all()


_WAITING_PSRS = (
    select(PendingServiceRouting)
    .where(
        PendingServiceRouting.org_id == bindparam("org_id"),
        PendingServiceRouting.is_ready_for_routing.is_(True),
        PendingServiceRouting.offer_id.is_(None),
    )
    .order_by(PendingServiceRouting.priority, PendingServiceRouting.created_at, PendingServiceRouting.id)
    .limit(bindparam("limit"))
    .execution_options(populate_existing=True)
)


async def waiting_psrs(session: AsyncSession, org_id: str, limit: int) -> Sequence[PendingServiceRouting]:
    """Ready, un-offered routings of an org in routing order: priority, then age."""
    return (await session.scalars(_WAITING_PSRS, {"org_id": org_id, "limit": limit})).all()


_ANYONE_AVAILABLE = (
    select(AgentState.user_id)
    .where(AgentState.org_id == bindparam("org_id"), AgentState.status == "Available")
    .limit(1)
)


async def anyone_available(session: AsyncSession, org_id: str) -> bool:
    return (await (await connection(session)).execute(_ANYONE_AVAILABLE, {"org_id": org_id})).first() is not None


CandidateRow = Row[str, str, datetime]


@cache
def _candidates_statement(listed: bool, excluding: bool, paged: bool) -> Select[str, str, datetime]:
    conditions = [
        AgentState.status == "Available",
        AgentState.capacity_used + bindparam("weight") <= Agent.capacity,
        # A list is looked up by primary key; without one, the org's agents are (not the agents table's org_id
        # index, which SQLite's planner prefers and which then visits every agent of the org).
        AgentState.user_id.in_(bindparam("among", expanding=True))
        if listed
        else AgentState.org_id == bindparam("org_id"),
    ]
    if excluding:
        conditions.append(AgentState.user_id.not_in(bindparam("exclude", expanding=True)))
    if paged:
        idle: BindParameter[datetime] = bindparam("after_idle_since")
        user: BindParameter[str] = bindparam("after_user_id")
        conditions.append(or_(AgentState.idle_since > idle, and_(AgentState.idle_since == idle, Agent.user_id > user)))
    return (
        select(Agent.user_id, Agent.username, AgentState.idle_since)
        .join(AgentState, AgentState.user_id == Agent.user_id)
        .where(*conditions)
        .order_by(AgentState.idle_since, Agent.user_id)
        .limit(bindparam("limit"))
    )


async def candidates(
    session: AsyncSession,
    org_id: str,
    weight: int,
    *,
    among: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    after: tuple[datetime, str] | None = None,
    limit: int = 25,
) -> Sequence[CandidateRow]:
    """Available agents with room for ``weight``, most idle first: user id, username and idle_since. Those
    ``among`` (the caller's list of the org's agents), else every agent of the org. ``after`` pages on
    (idle_since, user_id)."""
    params: dict[str, Any] = {"weight": weight, "limit": limit}
    if among is not None:
        params["among"] = list(among)
    else:
        params["org_id"] = org_id
    if exclude:
        params["exclude"] = list(exclude)
    if after is not None:
        params["after_idle_since"], params["after_user_id"] = after
    statement = _candidates_statement(among is not None, bool(exclude), after is not None)
    return (await (await connection(session)).execute(statement, params)).all()


_HOLD_CAPACITY = (
    update(AgentState)
    .where(
        AgentState.user_id == bindparam("holder"),
        AgentState.status == "Available",
        AgentState.capacity_used + bindparam("weight")
        <= select(Agent.capacity).where(Agent.user_id == bindparam("holder")).scalar_subquery(),
    )
    .values(capacity_used=AgentState.capacity_used + bindparam("weight"), idle_since=bindparam("now"))
)


async def hold_capacity(session: AsyncSession, user_id: str, weight: int, now: datetime) -> bool:
    """Hold ``weight`` of an Available agent's capacity if it fits; False when it does not (or they left)."""
    return await changed(session, _HOLD_CAPACITY, {"holder": user_id, "weight": weight, "now": now}) == 1


_RELEASE_CAPACITY = (
    update(AgentState)
    .where(AgentState.user_id == bindparam("holder"))
    .values(capacity_used=AgentState.capacity_used - bindparam("weight"))
)
_RELEASE_CAPACITY_IDLE = _RELEASE_CAPACITY.values(idle_since=bindparam("idle_from"))


async def release_capacity(session: AsyncSession, user_id: str, weight: int, idle_from: datetime | None) -> None:
    """Give back capacity held (idle from ``idle_from`` when given: the end of work)."""
    if idle_from is None:
        await changed(session, _RELEASE_CAPACITY, {"holder": user_id, "weight": weight})
    else:
        await changed(session, _RELEASE_CAPACITY_IDLE, {"holder": user_id, "weight": weight, "idle_from": idle_from})


_CLAIM_PSR = (
    update(PendingServiceRouting)
    .where(
        PendingServiceRouting.id == bindparam("psr_id"),
        PendingServiceRouting.offer_id.is_(None),
        PendingServiceRouting.is_ready_for_routing.is_(True),
    )
    .values(offer_id=bindparam("work_id"), offered_to=bindparam("user"), declined_by=bindparam("passed_over"))
)


async def claim_psr(session: AsyncSession, psr_id: str, work_id: str, user_id: str, passed_over: list[str]) -> bool:
    """Set the PSR's standing offer, unless another one stands (or it is not ready): False then."""
    params = {"psr_id": psr_id, "work_id": work_id, "user": user_id, "passed_over": passed_over}
    return await changed(session, _CLAIM_PSR, params) == 1


class Backlog(NamedTuple):
    waiting: int  # not offered to anyone
    offered: int  # with a standing offer
    oldest_waiting_since: datetime | None


_BACKLOGS = (
    select(
        PendingServiceRouting.queue_id,
        func.count().filter(PendingServiceRouting.offer_id.is_(None)),
        func.count().filter(PendingServiceRouting.offer_id.is_not(None)),
        func.min(PendingServiceRouting.created_at).filter(PendingServiceRouting.offer_id.is_(None)),
    )
    .where(PendingServiceRouting.queue_id.in_(bindparam("queue_ids", expanding=True)))
    .group_by(PendingServiceRouting.queue_id)
)


async def backlogs(session: AsyncSession, queue_ids: Sequence[str]) -> dict[str, Backlog]:
    """The pending routings of each queue (a queue with none is absent)."""
    rows = await (await connection(session)).execute(_BACKLOGS, {"queue_ids": list(queue_ids)})
    return {str(queue_id): Backlog(waiting, offered, oldest) for queue_id, waiting, offered, oldest in rows}


_PRESENCE = select(AgentState.user_id, AgentState.status, AgentState.capacity_used).where(
    AgentState.user_id.in_(bindparam("user_ids", expanding=True))
)


async def presence_of(session: AsyncSession, user_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
    """Each agent's presence and the capacity held (an agent who never signed in is absent: Offline)."""
    rows = await (await connection(session)).execute(_PRESENCE, {"user_ids": list(user_ids)})
    return {user_id: (status, capacity_used) for user_id, status, capacity_used in rows}


async def capacity_held(session: AsyncSession, user_id: str) -> int:
    """What the agent's offers and open work hold, summed from the work itself (for checks)."""
    query = select(func.coalesce(func.sum(AgentWork.capacity_weight), 0)).where(
        AgentWork.user_id == user_id, AgentWork.status.in_((OFFERED, OPENED))
    )
    return int((await session.execute(query)).scalar_one())


async def get_agent(session: AsyncSession, user_id: str) -> Agent | None:
    return await session.get(Agent, user_id)
