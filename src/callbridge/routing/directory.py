"""The routing configuration as this process last read it: phone channels, flows, queues and agents, found by
every name the API uses, and who belongs to a queue or has the skills a routing asks for.

Read once per config revision: ``callbridge apply`` writes a ConfigRevision with every change, each transaction
reads the newest revision id (one indexed probe) and the directory is read again when it moved, so a commit of
``apply`` takes effect at the next request of every process. The directory only names and proposes: presence,
capacity and every contested step stay in the database (see ``engine``).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction

from callbridge.kit import ids
from callbridge.routing import repository

_SESSION_KEY = "routing.directory"
_SKILL_SETS_KEPT = 256  # distinct skill requirements whose agents are remembered (flows name a handful)


@dataclass(frozen=True)
class QueueEntry:
    id: str
    org_id: str
    api_name: str
    external_id: str | None


@dataclass(frozen=True)
class AgentEntry:
    user_id: str
    org_id: str
    username: str
    external_id: str | None
    queues: frozenset[str]  # queue API names
    skills: Mapping[str, Any]  # skill name -> level
    capacity: int

    def has_skills(self, skills: Mapping[str, int]) -> bool:
        """Every skill at the level asked for, or above."""
        return all(
            isinstance(self.skills.get(name), int) and self.skills[name] >= level for name, level in skills.items()
        )


@dataclass(frozen=True)
class FlowEntry:
    id: str
    org_id: str
    api_name: str
    definition: Mapping[str, Any]


@dataclass(frozen=True)
class PhoneChannelEntry:
    call_center_id: str
    dialed_number: str
    flow: str | None
    fallback_queue: str | None


def _digits(number: str) -> str:
    return "".join(char for char in number if char.isdigit())


class Directory:
    """One revision of the routing configuration, indexed."""

    def __init__(
        self,
        revision: int | None,
        queues: Iterable[QueueEntry],
        agents: Iterable[AgentEntry],
        flows: Iterable[FlowEntry],
        channels: Iterable[PhoneChannelEntry],
    ) -> None:
        self.revision = revision
        self._queues: dict[str, QueueEntry] = {}
        self._queue_names: dict[tuple[str, str], QueueEntry] = {}
        self._queue_external_ids: dict[tuple[str, str], QueueEntry] = {}
        for queue in queues:
            self._queues[queue.id] = queue
            self._queue_names[queue.org_id, queue.api_name] = queue
            if queue.external_id is not None:
                self._queue_external_ids.setdefault((queue.org_id, queue.external_id), queue)
        self._agents: dict[str, AgentEntry] = {}
        self._agent_names: dict[tuple[str, str], AgentEntry] = {}
        self._agent_external_ids: dict[tuple[str, str], AgentEntry] = {}
        self._agent_ids15: dict[tuple[str, str], AgentEntry] = {}
        members: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
        self._org_agents: defaultdict[str, list[AgentEntry]] = defaultdict(list)
        for agent in sorted(agents, key=lambda a: a.user_id):
            self._agents[agent.user_id] = agent
            self._agent_names[agent.org_id, agent.username] = agent
            if agent.external_id is not None:
                self._agent_external_ids.setdefault((agent.org_id, agent.external_id), agent)
            self._agent_ids15.setdefault((agent.org_id, agent.user_id[:15]), agent)
            self._org_agents[agent.org_id].append(agent)
            for queue_name in agent.queues:
                members[agent.org_id, queue_name].append(agent.user_id)
        self._members = {key: frozenset(users) for key, users in members.items()}
        self._skilled: dict[tuple[str, frozenset[tuple[str, int]]], frozenset[str]] = {}
        self._flows: dict[str, FlowEntry] = {}
        self._flow_names: dict[tuple[str, str], FlowEntry] = {}
        for flow in flows:
            self._flows[flow.id] = flow
            self._flow_names[flow.org_id, flow.api_name] = flow
        self._channels: defaultdict[str, list[PhoneChannelEntry]] = defaultdict(list)
        for channel in channels:
            self._channels[channel.call_center_id].append(channel)

    def phone_channel(self, call_center_id: str, dialed_number: str) -> PhoneChannelEntry | None:
        """The channel of a dialed number: exact, else the same digits (a connector may send ``" 1800…"``)."""
        channels = self._channels.get(call_center_id, ())
        for channel in channels:
            if channel.dialed_number == dialed_number.strip():
                return channel
        digits = _digits(dialed_number)
        for channel in channels:
            if digits and _digits(channel.dialed_number) == digits:
                return channel
        return None

    def flow(self, org_id: str, reference: str) -> FlowEntry | None:
        """A flow by its id (300), its API name, or a namespaced ``ns__Name`` of a flow stored as ``Name``."""
        reference = reference.strip()
        if ids.is_salesforce_id(reference, ids.FLOW):
            flow = self._flows.get(ids.to_18(reference))
            if flow is not None and flow.org_id == org_id:
                return flow
        found = self._flow_names.get((org_id, reference))
        if found is None and "__" in reference:
            found = self._flow_names.get((org_id, reference.split("__", 1)[1]))
        return found

    def queue(self, org_id: str, reference: str) -> QueueEntry | None:
        """A queue named by its Id (00G), the vendor's external id (an ARN), or its API name."""
        if ids.is_salesforce_id(reference, ids.QUEUE):
            queue = self._queues.get(ids.to_18(reference))
            if queue is not None and queue.org_id == org_id:
                return queue
        return self._queue_external_ids.get((org_id, reference)) or self._queue_names.get((org_id, reference))

    def queue_by_id(self, queue_id: str) -> QueueEntry | None:
        return self._queues.get(queue_id)

    def agent(self, org_id: str, reference: str) -> AgentEntry | None:
        """An agent by user id (005, 15 or 18 characters), username or external id."""
        reference = reference.strip()
        if repository.looks_like_id(reference, ids.USER):
            agent = self._agent_ids15.get((org_id, reference[:15]))
            if agent is not None:
                return agent
        return self._agent_names.get((org_id, reference)) or self._agent_external_ids.get((org_id, reference))

    def agent_by_id(self, user_id: str) -> AgentEntry | None:
        return self._agents.get(user_id)

    def in_org(self, org_id: str, user_id: str) -> bool:
        agent = self._agents.get(user_id)
        return agent is not None and agent.org_id == org_id

    def eligible(self, org_id: str, queue_name: str | None, skills: Mapping[str, int]) -> frozenset[str]:
        """The user ids of the org's agents who belong to ``queue_name`` (when given) and have ``skills``."""
        found = self._members.get((org_id, queue_name), frozenset()) if queue_name is not None else None
        if skills:
            with_skills = self._with_skills(org_id, skills)
            found = with_skills if found is None else found & with_skills
        if found is None:
            return frozenset(agent.user_id for agent in self._org_agents.get(org_id, ()))
        return found

    def _with_skills(self, org_id: str, skills: Mapping[str, int]) -> frozenset[str]:
        key = (org_id, frozenset(skills.items()))
        found = self._skilled.get(key)
        if found is None:
            found = frozenset(a.user_id for a in self._org_agents.get(org_id, ()) if a.has_skills(skills))
            if len(self._skilled) >= _SKILL_SETS_KEPT:
                self._skilled.clear()
            self._skilled[key] = found
        return found


async def _read(session: AsyncSession, revision: int | None) -> Directory:
    rows = await repository.routing_configuration(session)
    return Directory(
        revision,
        queues=(QueueEntry(r.id, r.org_id, r.api_name, r.external_id) for r in rows.queues),
        agents=(
            AgentEntry(
                r.user_id,
                r.org_id,
                r.username,
                r.external_id,
                frozenset(str(name) for name in r.queues or ()),
                dict(r.skills or {}),
                r.capacity,
            )
            for r in rows.agents
        ),
        flows=(FlowEntry(r.id, r.org_id, r.api_name, r.definition) for r in rows.flows),
        channels=(
            PhoneChannelEntry(r.call_center_id, r.dialed_number, r.flow, r.fallback_queue) for r in rows.channels
        ),
    )


class DirectoryCache:
    """The newest directory one process has read from one database.

    Requests that find the revision moved each read it in their own transaction (a burst once per apply on
    PostgreSQL; SQLite's writers take turns, so the first one's read serves the others)."""

    def __init__(self) -> None:
        self.current: Directory | None = None
        self.reads = 0  # how many times the configuration was read

    async def at(self, session: AsyncSession, revision: int | None) -> Directory:
        """The directory of ``revision``: the one kept, or read in ``session``'s transaction."""
        current = self.current
        if current is not None and current.revision == revision:
            return current
        self.reads += 1
        found = await _read(session, revision)
        # A transaction that began before an apply reads the older revision: it is used, never kept over a newer one.
        if self.current is None or _newer(revision, self.current.revision):
            self.current = found
        return found


def _newer(revision: int | None, than: int | None) -> bool:
    return revision is not None and (than is None or revision > than)


_caches: weakref.WeakKeyDictionary[Engine, DirectoryCache] = weakref.WeakKeyDictionary()


def cache_of(session: AsyncSession) -> DirectoryCache:
    """The one ``DirectoryCache`` of this process for the database ``session`` is bound to."""
    engine = session.get_bind().engine
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches[engine] = DirectoryCache()
    return cache


async def directory(session: AsyncSession) -> Directory:
    """The routing configuration as of ``session``'s transaction (its revision is read once per transaction)."""
    transaction: SessionTransaction | None = session.sync_session.get_transaction()
    remembered = session.info.get(_SESSION_KEY)
    if remembered is not None and transaction is not None and remembered[0] is transaction:
        found: Directory = remembered[1]
        return found
    revision = await repository.latest_config_revision(session)  # begins the transaction when none has begun
    found = await cache_of(session).at(session, revision)
    session.info[_SESSION_KEY] = (session.sync_session.get_transaction(), found)
    return found
