"""Deciding where a work item goes: flows and fallback queues in the documented order, each attempt
explained. Reads configuration only (``directory``); the service turns a decision into a PendingServiceRouting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.contact_center.schemas import MAX_PUSH_TIMEOUT
from callbridge.routing import repository
from callbridge.routing.directory import AgentEntry, FlowEntry, QueueEntry, directory
from callbridge.routing.flows import FlowContext, evaluate

DEFAULT_PRIORITY = 1
QUEUE_BASED = "QueueBased"
SKILLS_BASED = "SkillsBased"


@dataclass(frozen=True)
class Target:
    """A resolved route: what the PSR will ask for."""

    routing_type: str
    queue: QueueEntry | None = None
    agent: AgentEntry | None = None  # the required agent of a direct route, or the preferred one of a skills route
    agent_required: bool = False
    skills: Mapping[str, int] = field(default_factory=dict)
    priority: int = DEFAULT_PRIORITY
    push_timeout: int = MAX_PUSH_TIMEOUT

    def describe(self) -> str:
        if self.queue is not None:
            what = f"queue {self.queue.api_name}"
        elif self.agent_required and self.agent is not None:
            what = f"agent {self.agent.username}"
        else:
            levels = ", ".join(f"{name} >= {level}" for name, level in self.skills.items())
            what = f"skills ({levels})" + (f", preferring {self.agent.username}" if self.agent else "")
        return f"{what}, priority {self.priority}, push timeout {self.push_timeout} s"

    def as_data(self) -> dict[str, Any]:
        return {
            "routingType": self.routing_type,
            "queue": self.queue.api_name if self.queue else None,
            "agent": self.agent.username if self.agent else None,
            "agentRequired": self.agent_required,
            "skills": dict(self.skills),
            "priority": self.priority,
            "pushTimeout": self.push_timeout,
        }


@dataclass(frozen=True)
class Step:
    """One attempt, for the timeline: a flow evaluated, or a fallback queue taken or refused."""

    kind: str  # routing.flow_evaluated, routing.fallback_taken, routing.target_resolved or routing.flow_skipped
    outcome: str  # matched, failed, taken, skipped
    reason: str
    data: dict[str, Any]


@dataclass
class Decision:
    target: Target | None = None
    steps: list[Step] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)  # "what: why it failed", for ROUTING_FAILED
    source: str | None = None  # what decided, e.g. "phone channel +14155550100 (flow Inbound_Support)"

    @property
    def decided(self) -> bool:
        return self.target is not None


async def resolve_route(
    session: AsyncSession, org_id: str, route: Mapping[str, Any], default_push_timeout: int
) -> Target | str:
    """A flow rule's ``route`` as a target, or why it cannot be one (an unknown queue or agent)."""
    names = await directory(session)
    priority = int(route.get("priority", DEFAULT_PRIORITY))
    push_timeout = min(int(route.get("push_timeout", default_push_timeout)), MAX_PUSH_TIMEOUT)
    if (queue_name := route.get("queue")) is not None:
        queue = names.queue(org_id, str(queue_name))
        if queue is None:
            return f"unknown queue {queue_name!r}"
        return Target(QUEUE_BASED, queue=queue, priority=priority, push_timeout=push_timeout)
    if (agent_ref := route.get("agent")) is not None:
        agent = names.agent(org_id, str(agent_ref))
        if agent is None:
            return f"unknown agent {agent_ref!r}"
        return Target(SKILLS_BASED, agent=agent, agent_required=True, priority=priority, push_timeout=push_timeout)
    skills = {str(name): int(level) for name, level in (route.get("skills") or {}).items()}
    preferred = None
    if (preferred_ref := route.get("preferred_agent")) is not None:
        preferred = names.agent(org_id, str(preferred_ref))
        if preferred is None:
            return f"unknown preferred agent {preferred_ref!r}"
    return Target(SKILLS_BASED, agent=preferred, skills=skills, priority=priority, push_timeout=push_timeout)


class Decider:
    """Tries routes in order, stopping at the first that resolves; every attempt lands in ``decision``."""

    def __init__(self, session: AsyncSession, org_id: str, context: FlowContext, default_push_timeout: int) -> None:
        self.session = session
        self.org_id = org_id
        self.context = context
        self.default_push_timeout = default_push_timeout
        self.decision = Decision()

    async def flow(self, reference: str, via: str) -> bool:
        """Evaluate a flow named by ``via`` (e.g. ``flowDevName``); True when it routed."""
        flow = (await directory(self.session)).flow(self.org_id, reference)
        if flow is None:
            reason = f"no flow with the API name or id {reference!r}"
            self._failed(via, reference, reason, {"flow": reference})
            return False
        return await self.evaluated(flow, via)

    async def evaluated(self, flow: FlowEntry, via: str) -> bool:
        evaluation = evaluate(flow.definition, self.context)
        data: dict[str, Any] = {"flow": flow.api_name, "flowId": flow.id, "via": via, "ruleIndex": None}
        if evaluation.match is None:
            self._failed(via, flow.api_name, f"flow {flow.api_name}: {evaluation.reason}", data)
            return False
        data["ruleIndex"] = evaluation.match.index
        data["route"] = dict(evaluation.match.route)
        target = await resolve_route(self.session, self.org_id, evaluation.match.route, self.default_push_timeout)
        if isinstance(target, str):
            reason = f"flow {flow.api_name}: {evaluation.reason}, but its route names an {target}"
            self._failed(via, flow.api_name, reason, data)
            return False
        data["target"] = target.as_data()
        reason = f"flow {flow.api_name}: {evaluation.reason} -> {target.describe()}"
        self.decision.steps.append(Step("routing.flow_evaluated", "matched", reason, data))
        self._decided(target, f"{via} (flow {flow.api_name}, rule {evaluation.match.index})")
        return True

    async def queue(self, reference: str, via: str, *, fallback: bool = True) -> bool:
        """Take a queue named by ``via``: a fallback (``fallbackQueue``, a channel's or a setting's fallback
        queue) or the request's own target (``routingTarget``); True when it exists."""
        queue = (await directory(self.session)).queue(self.org_id, reference)
        data: dict[str, Any] = {"via": via, "queue": reference}
        kind = "routing.fallback_taken" if fallback else "routing.target_resolved"
        if queue is None:
            reason = f"no queue with the API name, id or external id {reference!r}"
            self.decision.steps.append(Step(kind, "failed", f"{via}: {reason}", data))
            self.decision.tried.append(f"{via} {reference}: {reason}")
            return False
        target = Target(QUEUE_BASED, queue=queue, push_timeout=self.default_push_timeout)
        data["target"] = target.as_data()
        if fallback:
            reason = f"{via}: routed to queue {queue.api_name}" + (
                f" after: {'; '.join(self.decision.tried)}" if self.decision.tried else ""
            )
            self.decision.steps.append(Step(kind, "taken", reason, data))
        else:
            self.decision.steps.append(Step(kind, "matched", f"{via}: queue {queue.api_name}", data))
        self._decided(target, f"{via} (queue {queue.api_name})")
        return True

    async def agent(self, reference: str, via: str) -> bool:
        agent = (await directory(self.session)).agent(self.org_id, reference)
        if agent is None:
            self.decision.tried.append(f"{via} {reference}: no agent with this user id, username or external id")
            return False
        target = Target(SKILLS_BASED, agent=agent, agent_required=True, push_timeout=self.default_push_timeout)
        data = {"via": via, "agent": agent.username, "target": target.as_data()}
        self.decision.steps.append(Step("routing.target_resolved", "matched", f"{via}: agent {agent.username}", data))
        self._decided(target, f"{via} (agent {agent.username})")
        return True

    def skipped(self, via: str, name: str, reason: str) -> None:
        """A route the request named that was not tried, because one earlier in the precedence decided."""
        data = {"via": via, "flow": name, "decidedBy": self.decision.source}
        self.decision.steps.append(Step("routing.flow_skipped", "skipped", reason, data))

    def note(self, what: str) -> None:
        """Something tried that had nothing to offer (e.g. a dialed number without a phone channel)."""
        self.decision.tried.append(what)

    def _failed(self, via: str, name: str, reason: str, data: dict[str, Any]) -> None:
        self.decision.steps.append(Step("routing.flow_evaluated", "failed", reason, {"via": via, **data}))
        self.decision.tried.append(f"{via} {name}: {reason}")

    def _decided(self, target: Target, source: str) -> None:
        self.decision.target = target
        self.decision.source = source


def looks_like(reference: str, prefix: str) -> bool:
    return repository.looks_like_id(reference.strip(), prefix)
