"""Cross-references within one org, checked against the state an apply leads to: a flow's route, a phone
channel's flow and fallback queue, a call center's callback/voicemail routing and an agent's queues must
name something that exists after the apply; removing something still used is refused."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from callbridge.contact_center.errors import ConfigProblem, Loc, format_path
from callbridge.contact_center.loader import LoadedConfig
from callbridge.contact_center.repository import Snapshot
from callbridge.contact_center.schemas import AgentSpec, CallCenterSpec
from callbridge.models import Agent

_ROUTE_TARGETS = (("queue", "queue"), ("agent", "agent"), ("preferred_agent", "agent"))
_KIND_PLURAL = {"queue": "queues", "flow": "flows", "agent": "agents"}


def route_references(definition: Mapping[str, Any]) -> Iterator[tuple[Loc, str, str]]:
    """``(loc in the definition, "queue" | "agent", name)`` for each target a stored flow definition names."""
    rules = definition.get("rules")
    for r, rule in enumerate(rules if isinstance(rules, list) else ()):
        route = rule.get("route") if isinstance(rule, dict) else None
        if not isinstance(route, dict):
            continue
        for key, kind in _ROUTE_TARGETS:
            if isinstance(name := route.get(key), str):
                yield ("rules", r, "route", key), kind, name


def routing_references(routing: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """``(key, kind, name)`` for a mapping with ``flow`` and/or ``fallback_queue`` (a phone channel's routing)."""
    for key, kind in (("flow", "flow"), ("fallback_queue", "queue")):
        if isinstance(name := routing.get(key), str):
            yield key, kind, name


@dataclass(frozen=True)
class _Reference:
    kind: str  # what is named: "queue", "flow" or "agent"
    name: str
    loc: Loc | None  # where the file names it; None for a stored object the file does not list
    owner: str  # who names it, for "still used by ..."


class OrgReferences:
    """The names one org will hold after the apply, and every reference to them."""

    def __init__(
        self, config: LoadedConfig, snapshot: Snapshot, org_id: str, unresolved: Mapping[str, set[str]]
    ) -> None:
        self.config, self.snapshot, self.org_id = config, snapshot, org_id
        self.unresolved = {kind: set(names) for kind, names in unresolved.items()}
        self.names: dict[str, set[str]] = {
            "queue": {queue.api_name for queue in snapshot.queues_of(org_id)},
            "flow": {flow.api_name for flow in snapshot.flows_of(org_id)},
        }
        self.agents = {agent.user_id[:15]: agent.username for agent in snapshot.agents_of(org_id)}
        self.removed: dict[tuple[str, str], Loc] = {}
        self.references: list[_Reference] = []
        self.listed: dict[str, set[str]] = {"flow": set(), "call center": set(), "agent": set()}
        self.listed_channels: dict[str, set[str]] = {}
        self.removed_call_centers: set[str] = set()
        self.agent_locs: dict[str, Loc] = {}

    def declared_queue(self, api_name: str) -> None:
        self.names["queue"].add(api_name)

    def removed_queue(self, api_name: str, loc: Loc) -> None:
        self.names["queue"].discard(api_name)
        self.removed[("queue", api_name)] = loc

    def declared_flow(self, api_name: str, loc: Loc, definition: Mapping[str, Any]) -> None:
        self.names["flow"].add(api_name)
        self.listed["flow"].add(api_name)
        for where, kind, name in route_references(definition):
            self.references.append(_Reference(kind, name, (*loc, *where), f"flow {api_name}"))

    def removed_flow(self, api_name: str, loc: Loc) -> None:
        self.names["flow"].discard(api_name)
        self.listed["flow"].add(api_name)
        self.removed[("flow", api_name)] = loc

    def declared_call_center(self, api_name: str, loc: Loc, spec: CallCenterSpec) -> None:
        self.listed["call center"].add(api_name)
        for setting, routing in spec.settings().items():
            for key, kind, name in routing_references(routing if isinstance(routing, dict) else {}):
                self.references.append(_Reference(kind, name, (*loc, setting, key), f"call center {api_name}"))
        self.listed_channels[api_name] = {channel.dialed_number for channel in spec.phone_channels}
        for p, channel in enumerate(spec.phone_channels):
            if channel.remove:
                continue
            owner = f"phone channel {api_name}/{channel.dialed_number}"
            for key, kind, name in routing_references(channel.model_dump()):
                self.references.append(_Reference(kind, name, (*loc, "phone_channels", p, key), owner))

    def removed_call_center(self, api_name: str) -> None:
        self.removed_call_centers.add(api_name)

    def stored_agent(self, username: str | None, user_id: str | None) -> Agent | None:
        for agent in self.snapshot.agents_of(self.org_id):
            if agent.username == username or (user_id is not None and agent.user_id[:15] == user_id[:15]):
                return agent
        return None

    def removed_agent(self, agent: Agent, loc: Loc) -> None:
        user15 = agent.user_id[:15]
        self.agents.pop(user15, None)
        self.listed["agent"].add(user15)
        self.removed[("agent", agent.username)] = loc
        self.removed[("agent", user15)] = loc

    def incomplete_agent(self, name: str) -> None:
        """An agent entry missing its username or user id (already reported): not "unknown" to references."""
        self.unresolved.setdefault("agent", set()).add(name)

    def declared_agent(self, loc: Loc, spec: AgentSpec) -> None:
        assert spec.user_id is not None and spec.username is not None
        user15 = spec.user_id[:15]
        self.agents[user15] = spec.username
        self.listed["agent"].add(user15)
        self.agent_locs[user15] = loc
        for k, queue in enumerate(spec.queues):
            self.references.append(_Reference("queue", queue, (*loc, "queues", k), f"agent {spec.username}"))

    def check(self, warnings: list[ConfigProblem]) -> None:
        """Report every reference to something the apply would leave missing."""
        self._stored_references()
        self._usernames()
        blocked: dict[Loc, list[str]] = {}
        for ref in self.references:
            if self._exists(ref.kind, ref.name):
                continue
            removed_at = self.removed.get((ref.kind, ref.name))
            if removed_at is None and ref.kind == "agent" and ref.name.startswith("005"):
                removed_at = self.removed.get((ref.kind, ref.name[:15]))
            if ref.loc is not None and removed_at is not None:
                where = format_path(self.config.original(removed_at))
                self.config.problem(ref.loc, f"{ref.kind} {ref.name!r} is removed by this file (at {where})")
            elif ref.loc is not None:
                self.config.problem(ref.loc, f"unknown {ref.kind} {ref.name!r} ({self._has(ref.kind)})")
            elif removed_at is not None:
                blocked.setdefault(removed_at, []).append(ref.owner)
            else:
                reason = f"stored {ref.owner} names unknown {ref.kind} {ref.name!r} in org {self.org_id}"
                warnings.append(ConfigProblem(self.config.file, "", reason))
        for loc, owners in blocked.items():
            users = ", ".join(sorted(set(owners)))
            self.config.problem(loc, f"cannot remove: still used by {users} (change or remove those in this file too)")

    def _stored_references(self) -> None:
        """References held by stored objects the file leaves as they are."""
        for call_center in self.snapshot.call_centers_of(self.org_id):
            name = call_center.api_name
            if name in self.removed_call_centers:
                continue
            if name not in self.listed["call center"]:
                for setting, routing in call_center.settings.items():
                    for key, kind, target in routing_references(routing if isinstance(routing, dict) else {}):
                        self.references.append(_Reference(kind, target, None, f"call center {name} ({setting}.{key})"))
            listed = self.listed_channels.get(name, set())
            for number, channel in self.snapshot.phone_channels.get(call_center.id, {}).items():
                if number in listed:
                    continue
                routing = {"flow": channel.flow, "fallback_queue": channel.fallback_queue}
                for _, kind, target in routing_references(routing):
                    self.references.append(_Reference(kind, target, None, f"phone channel {name}/{number}"))
        for flow in self.snapshot.flows_of(self.org_id):
            if flow.api_name not in self.listed["flow"]:
                for _, kind, target in route_references(flow.definition):
                    self.references.append(_Reference(kind, target, None, f"flow {flow.api_name}"))
        for agent in self.snapshot.agents_of(self.org_id):
            if agent.user_id[:15] not in self.listed["agent"]:
                for queue in agent.queues:
                    self.references.append(_Reference("queue", str(queue), None, f"agent {agent.username}"))

    def _usernames(self) -> None:
        """A username names one agent of the org: a stored agent the file keeps cannot lose it to another."""
        owners: dict[str, list[str]] = {}
        for user15, username in self.agents.items():
            owners.setdefault(username, []).append(user15)
        for username, user15s in owners.items():
            stored = [user15 for user15 in user15s if user15 not in self.agent_locs]
            for user15 in user15s:
                if user15 in self.agent_locs and stored:
                    self.config.problem(
                        (*self.agent_locs[user15], "username"),
                        f"username {username!r} belongs to stored agent {stored[0]} of org {self.org_id}"
                        " (remove that agent in this file first)",
                    )

    def _exists(self, kind: str, name: str) -> bool:
        if name in self.unresolved.get(kind, ()):
            return True
        if kind != "agent":
            return name in self.names[kind]
        return name in self.agents.values() or (name.startswith("005") and name[:15] in self.agents)

    def _has(self, kind: str) -> str:
        known = set(self.agents.values()) if kind == "agent" else self.names[kind]
        names = sorted(known | {name for name in self.unresolved.get(kind, ()) if not name.startswith("005")})
        if not names:
            return f"org {self.org_id} has no {_KIND_PLURAL[kind]}"
        return f"org {self.org_id} has: {', '.join(names)}"
