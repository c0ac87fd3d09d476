"""What supervisors watch change: a queue's backlog and an agent's presence and load, recorded once per unit of
work for every queue and agent a routing step touched (``queue.backlog``, ``agent.presence_changed``).

Both are org-wide timeline entries: ``call_center_id`` holds the org id, there is no call."""

from __future__ import annotations

from callbridge.kit.uow import UnitOfWork
from callbridge.routing import repository
from callbridge.routing.directory import AgentEntry, QueueEntry, directory

_QUEUES = "routing.snapshot.queues"
_AGENTS = "routing.snapshot.agents"


def touch_queue(uow: UnitOfWork, queue_id: str | None) -> None:
    """The queue's backlog changed in this unit of work: record it before the commit."""
    if queue_id is not None:
        uow.touched[_QUEUES].add(queue_id)
        uow.before_commit("routing.snapshots", record_snapshots)


def touch_agent(uow: UnitOfWork, user_id: str) -> None:
    """The agent's presence or load changed in this unit of work: record it before the commit."""
    uow.touched[_AGENTS].add(user_id)
    uow.before_commit("routing.snapshots", record_snapshots)


async def record_snapshots(uow: UnitOfWork) -> None:
    """One query for the backlogs of every touched queue, one for the presence of every touched agent; names
    and capacities come from the directory (a queue or agent the config no longer has is left out)."""
    queue_ids = sorted(uow.touched.pop(_QUEUES, set()))
    user_ids = sorted(uow.touched.pop(_AGENTS, set()))
    names = await directory(uow.session)
    queues = [queue for queue in map(names.queue_by_id, queue_ids) if queue is not None]
    if queues:
        backlogs = await repository.backlogs(uow.session, [queue.id for queue in queues])
        for queue in queues:
            _record_backlog(uow, queue, backlogs.get(queue.id, repository.Backlog(0, 0, None)))
    agents = [agent for agent in map(names.agent_by_id, user_ids) if agent is not None]
    if agents:
        presence = await repository.presence_of(uow.session, [agent.user_id for agent in agents])
        for agent in agents:
            status, capacity_used = presence.get(agent.user_id, ("Offline", 0))
            _record_agent(uow, agent, status, capacity_used)


def _record_backlog(uow: UnitOfWork, queue: QueueEntry, backlog: repository.Backlog) -> None:
    uow.record_event(
        call_center_id=queue.org_id,
        voice_call_id=None,
        conversation_id=None,
        kind="queue.backlog",
        outcome="changed",
        reason=f"{backlog.waiting} waiting, {backlog.offered} offered",
        fields={
            "orgId": queue.org_id,
            "queueId": queue.id,
            "queueName": queue.api_name,
            "queueApiName": queue.api_name,
            "waiting": backlog.waiting,
            "offered": backlog.offered,
            "oldestWaitingSince": backlog.oldest_waiting_since,
        },
    )


def _record_agent(uow: UnitOfWork, agent: AgentEntry, status: str, capacity_used: int) -> None:
    uow.record_event(
        call_center_id=agent.org_id,
        voice_call_id=None,
        conversation_id=None,
        kind="agent.presence_changed",
        outcome="changed",
        reason=f"{agent.username} is {status} ({capacity_used} of {agent.capacity} capacity used)",
        fields={
            "orgId": agent.org_id,
            "userId": agent.user_id,
            "username": agent.username,
            "presence": status,
            "capacityUsed": capacity_used,
            "capacity": agent.capacity,
        },
    )
