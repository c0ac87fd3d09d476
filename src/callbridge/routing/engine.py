"""The assignment engine: offers, their expiry, decline, accept, and the end of work.

States of a work item::

    PSR waiting ──offer──► PSR offered + AgentWork Assigned (capacity held) ──accept──► AgentWork Opened
        ▲                        │ decline / push timeout / agent leaves      (PSR deleted)     │
        └────────────────────────┘ (agent passed over for this round)           close / call ends
                                                                                     ▼
                                                                              AgentWork Closed

Every contested step is a conditional UPDATE checked by its row count, so that several processes on one
database never offer a PSR to two agents, assign it twice, or take an agent past their capacity:

- hold capacity: ``SET capacity_used = capacity_used + :c WHERE user_id = :u AND status = 'Available'
  AND capacity_used + :c <= (the agent's capacity)``;
- claim the PSR for that agent: ``SET offer_id = :w WHERE id = :p AND offer_id IS NULL`` (a lost claim
  gives the capacity back);
- move an offer or work on: ``SET status = :new WHERE id = :w AND status = :old``; only the transaction
  that moved it releases the capacity and puts the PSR back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import delete, update

from callbridge.kit import ids
from callbridge.kit.uow import UnitOfWork
from callbridge.models import Agent, AgentWork, PendingServiceRouting, VoiceCall
from callbridge.routing import repository
from callbridge.routing.directory import directory
from callbridge.routing.repository import OFFERED, OPENED, changed
from callbridge.routing.snapshots import touch_agent, touch_queue

AGENT_WORK = "0Bz"
PAGE = 10  # candidates per query: the first one usually takes it
MAX_LISTED = 500  # eligible agents named in the candidates query; more are filtered as the pages come


class WorkStatus(StrEnum):
    assigned = OFFERED
    opened = OPENED
    declined = "Declined"
    timed_out = "DeclinedOnPushTimeout"
    canceled = "Canceled"
    closed = "Closed"
    transferred = "Transferred"


def record(
    uow: UnitOfWork,
    item: PendingServiceRouting | AgentWork,
    kind: str,
    outcome: str,
    reason: str | None = None,
    **data: Any,
) -> None:
    """A routing step in the timeline of the call the work item belongs to."""
    if isinstance(item, PendingServiceRouting):
        queue_id, queue_name = item.queue_id, item.queue_name
    else:
        queue_id, queue_name = item.routing.get("queueId"), item.routing.get("queueName")
    base: dict[str, Any] = {"workItemId": item.work_item_id, "workItemType": item.work_item_type}
    if queue_id is not None:
        base |= {"queueId": queue_id, "queueName": queue_name}
        touch_queue(uow, queue_id)
    if isinstance(data.get("userId"), str):
        touch_agent(uow, data["userId"])
    uow.record(
        call_center_id=item.call_center_id,
        voice_call_id=item.voice_call_id,
        conversation_id=item.conversation_id,
        kind=kind,
        outcome=outcome,
        reason=reason,
        data={**base, **data},
    )


def routing_of(psr: PendingServiceRouting) -> dict[str, Any]:
    """What a PSR asked for, kept on its AgentWork so that a reroute can ask again."""
    return {
        "routingType": psr.routing_type,
        "queueId": psr.queue_id,
        "queueName": psr.queue_name,
        "skills": dict(psr.skills),
        "preferredUserId": psr.preferred_user_id,
        "isPreferredUserRequired": psr.is_preferred_user_required,
        "priority": psr.priority,
        "pushTimeout": psr.push_timeout,
        "capacityWeight": psr.capacity_weight,
        "isTransfer": psr.is_transfer,
        "decision": dict(psr.decision),
    }


async def release_capacity(uow: UnitOfWork, user_id: str, weight: int, *, idle_from: datetime | None = None) -> None:
    await repository.release_capacity(uow.session, user_id, weight, idle_from)


async def _hold_first(uow: UnitOfWork, psr: PendingServiceRouting, exclude: list[str]) -> tuple[str, str] | None:
    """Hold capacity with the first eligible agent, most idle first: (user id, username), or None.

    Who is eligible (queue membership, skill levels) comes from the directory; who is Available with room for
    the PSR comes from the database, and holding the capacity is the conditional UPDATE that decides."""
    session, now, weight = uow.session, uow.clock.now(), psr.capacity_weight
    names = await directory(session)
    preferred = psr.preferred_user_id
    if preferred is not None and psr.is_preferred_user_required:
        eligible = frozenset([preferred]) if names.in_org(psr.org_id, preferred) else frozenset()
    else:
        if preferred is not None and preferred not in exclude and names.in_org(psr.org_id, preferred):
            for row in await repository.candidates(session, psr.org_id, weight, among=[preferred]):
                if await repository.hold_capacity(session, row.user_id, weight, now):
                    return row.user_id, row.username
        queue = psr.queue_name if psr.routing_type == "QueueBased" else None
        eligible = names.eligible(psr.org_id, queue, psr.skills)
    eligible = eligible.difference(exclude)
    if not eligible:
        return None
    # A long list is checked here rather than sent as parameters (the drivers' limits; SQLite's planner).
    among = sorted(eligible) if len(eligible) <= MAX_LISTED else None
    after: tuple[datetime, str] | None = None
    while True:
        rows = await repository.candidates(
            session, psr.org_id, weight, among=among, exclude=exclude if among is None else (), after=after, limit=PAGE
        )
        for row in rows:
            if row.user_id in eligible and await repository.hold_capacity(session, row.user_id, weight, now):
                return row.user_id, row.username
        if len(rows) < PAGE:
            return None
        after = (rows[-1].idle_since, rows[-1].user_id)


async def try_offer(uow: UnitOfWork, psr: PendingServiceRouting, *, new_round: bool = False) -> AgentWork | None:
    """Offer a waiting PSR to one eligible agent; None when nobody can take it or it was taken meanwhile."""
    offered = await _offer(uow, psr, new_round=new_round)
    return offered if isinstance(offered, AgentWork) else None


async def _offer(
    uow: UnitOfWork, psr: PendingServiceRouting, *, new_round: bool
) -> AgentWork | Literal["nobody", "taken"]:
    """Capacity is held first, then the PSR is claimed (``WHERE offer_id IS NULL``); a lost claim gives the
    capacity back."""
    session = uow.session
    passed_over = [str(user) for user in psr.declined_by]
    chosen = await _hold_first(uow, psr, passed_over)
    if chosen is None and new_round and passed_over:
        # Everyone eligible was passed over: a new round offers it to them again.
        chosen = await _hold_first(uow, psr, [])
        passed_over = []
    if chosen is None:
        return "nobody"
    user_id, username = chosen
    work_id = ids.new_id(AGENT_WORK)
    if not await repository.claim_psr(session, psr.id, work_id, user_id, passed_over):
        await release_capacity(uow, user_id, psr.capacity_weight)
        return "taken"
    now = uow.clock.now()
    expires_at = now + timedelta(seconds=psr.push_timeout) if psr.push_timeout else None
    work = AgentWork(
        id=work_id,
        org_id=psr.org_id,
        call_center_id=psr.call_center_id,
        user_id=user_id,
        psr_id=psr.id,
        work_item_id=psr.work_item_id,
        work_item_type=psr.work_item_type,
        voice_call_id=psr.voice_call_id,
        conversation_id=psr.conversation_id,
        status=WorkStatus.assigned.value,
        capacity_weight=psr.capacity_weight,
        routing=routing_of(psr),
        offered_at=now,
        expires_at=expires_at,
    )
    await repository.insert_new(session, work)
    record(
        uow,
        psr,
        "routing.offer_made",
        "offered",
        f"{username} was the most idle eligible agent"
        + (" (the preferred agent)" if user_id == psr.preferred_user_id else ""),
        offerId=work_id,
        psrId=psr.id,
        userId=user_id,
        username=username,
        expiresAt=expires_at.isoformat() if expires_at else None,
        pushTimeout=psr.push_timeout,
    )
    return work


async def dispatch(uow: UnitOfWork, org_id: str, *, new_round: bool = False, limit: int = 50) -> int:
    """Offer waiting PSRs of an org, by priority then age, while agents can take them; how many were offered.

    A dispatch only takes capacity, so once a PSR found nobody, a later one asking for the same agents
    (queue, skills, weight, preferred agent, passed-over agents) finds nobody either and is not tried."""
    waiting = await repository.waiting_psrs(uow.session, org_id, limit)
    if len(waiting) > 2 and not await repository.anyone_available(uow.session, org_id):
        return 0  # a long queue and nobody to take it: spare a query per waiting PSR
    offered = 0
    nobody_for: set[tuple[Any, ...]] = set()
    for psr in waiting:
        asks = _asks_for(psr)
        if asks in nobody_for:
            continue
        outcome = await _offer(uow, psr, new_round=new_round)
        if isinstance(outcome, AgentWork):
            offered += 1
        elif outcome == "nobody":
            nobody_for.add(asks)
    return offered


def _asks_for(psr: PendingServiceRouting) -> tuple[Any, ...]:
    """Everything that decides which agents a PSR may be offered to."""
    return (
        psr.routing_type,
        psr.queue_name if psr.routing_type == "QueueBased" else None,
        frozenset(psr.skills.items()),
        psr.capacity_weight,
        psr.preferred_user_id,
        psr.is_preferred_user_required,
        frozenset(str(user) for user in psr.declined_by),
    )


async def end_offer(uow: UnitOfWork, work: AgentWork, status: WorkStatus, reason: str, *, pass_over: bool) -> bool:
    """Move a standing offer to ``status``: release the capacity and give the PSR back to routing (the agent
    is passed over for this round when ``pass_over``). False when the offer was no longer standing."""
    session = uow.session
    now = uow.clock.now()
    moved = (
        update(AgentWork)
        .where(AgentWork.id == work.id, AgentWork.status == WorkStatus.assigned.value)
        .values(status=status.value, ended_at=now, end_reason=reason)
    )
    if await changed(session, moved) != 1:
        return False
    await release_capacity(uow, work.user_id, work.capacity_weight)
    psr = await repository.get_psr(session, work.psr_id)
    if psr is not None and psr.offer_id == work.id:
        declined = [*psr.declined_by, work.user_id] if pass_over else list(psr.declined_by)
        await changed(
            session,
            update(PendingServiceRouting)
            .where(PendingServiceRouting.id == psr.id, PendingServiceRouting.offer_id == work.id)
            .values(offer_id=None, offered_to=None, declined_by=declined),
        )
    kinds = {
        WorkStatus.declined: ("routing.offer_declined", "declined"),
        WorkStatus.timed_out: ("routing.offer_expired", "expired"),
        WorkStatus.canceled: ("routing.offer_withdrawn", "withdrawn"),
    }
    kind, outcome = kinds[status]
    record(uow, work, kind, outcome, reason, offerId=work.id, psrId=work.psr_id, userId=work.user_id)
    return True


class AcceptOutcome(StrEnum):
    accepted = "accepted"
    expired = "expired"  # the push timeout passed (now recorded), or the offer already ended
    already_accepted = "already_accepted"
    capacity_exceeded = "capacity_exceeded"


@dataclass(frozen=True)
class Accepted:
    outcome: AcceptOutcome
    work: AgentWork


async def accept(uow: UnitOfWork, work: AgentWork, agent: Agent) -> Accepted:
    """The agent takes the offered work: AgentWork Opened, PSR removed, the call's agent set."""
    session = uow.session
    now = uow.clock.now()
    if work.status == WorkStatus.assigned and work.expires_at is not None and work.expires_at <= now:
        await end_offer(
            uow, work, WorkStatus.timed_out, "the push timeout passed before it was accepted", pass_over=True
        )
        await dispatch(uow, work.org_id)
        return Accepted(AcceptOutcome.expired, work)
    held = await repository.capacity_held(session, agent.user_id)
    if held > agent.capacity:
        reason = f"the agent holds {held} of a capacity of {agent.capacity}"
        await end_offer(uow, work, WorkStatus.declined, reason, pass_over=True)
        await dispatch(uow, work.org_id)
        return Accepted(AcceptOutcome.capacity_exceeded, work)
    moved = (
        update(AgentWork)
        .where(AgentWork.id == work.id, AgentWork.status == WorkStatus.assigned.value)
        .values(status=WorkStatus.opened.value, accepted_at=now)
    )
    if await changed(session, moved) != 1:
        current = await repository.get_work(session, work.id)
        if current is not None and current.status == WorkStatus.opened:
            return Accepted(AcceptOutcome.already_accepted, current)
        return Accepted(AcceptOutcome.expired, current or work)
    removed = delete(PendingServiceRouting).where(
        PendingServiceRouting.id == work.psr_id, PendingServiceRouting.offer_id == work.id
    )
    if await changed(session, removed) != 1:
        raise AssertionError("a standing offer always has its PSR")  # rolls the accept back: never half-done
    for earlier in await repository.works_of_item(session, work.work_item_id, WorkStatus.opened.value):
        if earlier.id != work.id:
            await close(uow, earlier, WorkStatus.transferred, f"the work went on to {agent.username}")
    changes: dict[str, Any] = {}
    if work.work_item_type == "VoiceCall":
        call = await session.get(VoiceCall, work.voice_call_id)
        if call is not None:
            call.agent_username = agent.username
            changes["agent"] = agent.username
            if call.call_accept_date_time is None:
                call.call_accept_date_time = now
                changes["callAcceptDateTime"] = now.isoformat()
            call.updated_at = now
    refreshed = await repository.get_work(session, work.id)
    assert refreshed is not None
    record(
        uow,
        refreshed,
        "routing.offer_accepted",
        "accepted",
        f"{agent.username} accepted: the AgentWork is open and the PendingServiceRouting is removed",
        workId=work.id,
        psrId=work.psr_id,
        userId=agent.user_id,
        username=agent.username,
        changes=changes,
    )
    return Accepted(AcceptOutcome.accepted, refreshed)


async def close(uow: UnitOfWork, work: AgentWork, status: WorkStatus, reason: str) -> bool:
    """End accepted work and release the capacity it held; False when it was already ended."""
    now = uow.clock.now()
    moved = (
        update(AgentWork)
        .where(AgentWork.id == work.id, AgentWork.status == WorkStatus.opened.value)
        .values(status=status.value, ended_at=now, end_reason=reason)
    )
    if await changed(uow.session, moved) != 1:
        return False
    await release_capacity(uow, work.user_id, work.capacity_weight, idle_from=now)
    record(uow, work, "routing.work_closed", status.value.lower(), reason, workId=work.id, userId=work.user_id)
    return True


async def remove_psr(uow: UnitOfWork, psr: PendingServiceRouting, reason: str) -> bool:
    """Delete a PSR, withdrawing its standing offer; False when it was gone already.

    The PSR is read again under a row lock: on PostgreSQL another transaction may have offered it since it was
    read, and deleting it on the strength of the older read would strand that offer (capacity held, no PSR)."""
    current = await repository.lock_psr(uow.session, psr.id)
    if current is None:
        return False
    psr = current
    if psr.offer_id is not None:
        work = await repository.get_work(uow.session, psr.offer_id)
        if work is not None:
            await end_offer(uow, work, WorkStatus.canceled, reason, pass_over=False)
    removed = delete(PendingServiceRouting).where(PendingServiceRouting.id == psr.id)
    return await changed(uow.session, removed) == 1


async def expire_due(uow: UnitOfWork, limit: int = 500) -> int:
    """Expire offers whose push timeout passed, at most ``limit`` of them (the oldest); how many."""
    expired = 0
    for work in await repository.due_offers(uow.session, uow.clock.now(), limit):
        reason = f"not accepted within the push timeout of {work.routing.get('pushTimeout')} s"
        if await end_offer(uow, work, WorkStatus.timed_out, reason, pass_over=True):
            expired += 1
    return expired


async def release_scheduled(uow: UnitOfWork) -> int:
    """Make scheduled routings (callbacks) ready once their time has come; how many."""
    released = 0
    for psr in await repository.due_scheduled(uow.session, uow.clock.now()):
        ready = (
            update(PendingServiceRouting)
            .where(PendingServiceRouting.id == psr.id, PendingServiceRouting.is_ready_for_routing.is_(False))
            .values(is_ready_for_routing=True)
        )
        if await changed(uow.session, ready) == 1:
            released += 1
            record(
                uow,
                psr,
                "routing.callback_released",
                "ready",
                f"its scheduled time {psr.ready_at.isoformat()} has come: it is routed now",
                psrId=psr.id,
            )
    return released
