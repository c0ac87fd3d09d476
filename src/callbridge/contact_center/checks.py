"""Checks that need the whole file but not the database: removal entries, keys required unless removing,
and duplicates (the same org in its 15- and 18-character forms is one org)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from callbridge.contact_center.errors import Loc, format_path
from callbridge.contact_center.loader import LoadedConfig
from callbridge.contact_center.schemas import AgentSpec, CallCenterSpec, OrgSpec, Removable


def check_file(config: LoadedConfig) -> None:
    """Append every problem found to ``config.problems``."""
    if config.spec is None:
        return
    orgs: dict[str, Loc] = {}
    user_ids: dict[str, tuple[Loc, str]] = {}
    for o, org in enumerate(config.spec.orgs):
        loc: Loc = ("orgs", o)
        _removal_entry(config, loc, org, "org")
        first = orgs.setdefault(org.id[:15], loc)
        if first != loc:
            config.problem(
                (*loc, "id"),
                f"org {org.id} is listed twice (also at {_where(config, first)}; "
                "the 15- and 18-character forms of an id name the same org)",
            )
        if org.remove:
            continue
        _org_items(config, loc, org, user_ids)


def _org_items(config: LoadedConfig, loc: Loc, org: OrgSpec, user_ids: dict[str, tuple[Loc, str]]) -> None:
    for c, call_center in enumerate(org.call_centers):
        _call_center(config, (*loc, "call_centers", c), call_center)
    _unique(config, loc, "call_centers", "call center", [cc.api_name for cc in org.call_centers], org.id)
    for kind, attribute, items in (("queue", "queues", org.queues), ("flow", "flows", org.flows)):
        for index, item in enumerate(items):
            _removal_entry(config, (*loc, attribute, index), item, kind)
        _unique(config, loc, attribute, kind, [item.api_name for item in items], org.id)
    for w, webhook in enumerate(org.webhooks):
        _removal_entry(config, (*loc, "webhooks", w), webhook, "webhook")
    _unique(config, loc, "webhooks", "webhook", [webhook.url for webhook in org.webhooks], org.id, "url")
    for f, flow in enumerate(org.flows):
        if not flow.remove and not flow.rules:
            config.problem((*loc, "flows", f, "rules"), "required: at least one rule")
    for a, agent in enumerate(org.agents):
        _agent(config, (*loc, "agents", a), agent)
    _unique(config, loc, "agents", "username", [agent.username for agent in org.agents], org.id, "username")
    _unique(config, loc, "agents", "user id", [_id15(a.user_id) for a in org.agents], org.id, "user_id")
    for a, agent in enumerate(org.agents):
        if agent.user_id is None or agent.remove:
            continue  # removing an agent from one org while adding it to another moves it
        agent_loc: Loc = (*loc, "agents", a)
        first, first_org = user_ids.setdefault(agent.user_id[:15], (agent_loc, org.id))
        if first_org != org.id:
            config.problem(
                (*agent_loc, "user_id"),
                f"user id {agent.user_id} is also given to an agent of org {first_org} (at {_where(config, first)})",
            )


def _call_center(config: LoadedConfig, loc: Loc, call_center: CallCenterSpec) -> None:
    _removal_entry(config, loc, call_center, "call center")
    if call_center.remove:
        return
    if call_center.certificates is None:
        config.problem(
            (*loc, "certificates"),
            "required: the certificates or public keys this call center trusts ([] trusts none)",
        )
    fingerprints: dict[str, int] = {}
    for k in range(len(call_center.certificates or ())):
        parsed = config.certificates.get((*loc, "certificates", k))
        if parsed is None:
            continue
        first = fingerprints.setdefault(parsed.fingerprint_sha256, k)
        if first != k:
            config.problem((*loc, "certificates", k), f"the same key as certificates[{first}]")
    for p, channel in enumerate(call_center.phone_channels):
        channel_loc: Loc = (*loc, "phone_channels", p)
        _removal_entry(config, channel_loc, channel, "phone channel")
        if not channel.remove and channel.flow is None and channel.fallback_queue is None:
            config.problem(channel_loc, "give a flow, a fallback_queue or both")
    numbers = [channel.dialed_number for channel in call_center.phone_channels]
    _unique(config, loc, "phone_channels", "phone channel", numbers, call_center.api_name, "dialed_number")
    drops = [drop.name for drop in call_center.voicemail_drops]
    _unique(config, loc, "voicemail_drops", "voicemail drop", drops, call_center.api_name, "name")
    pooled = call_center.routable_numbers
    for index, number in enumerate(pooled):
        if number in pooled[:index]:
            config.problem(
                (*loc, "routable_numbers", index),
                f"routable number {number!r} is listed twice in {call_center.api_name}"
                f" (first at {_where(config, (*loc, 'routable_numbers', pooled.index(number)))})",
            )
    if call_center.routable_number_ttl_seconds is not None and not pooled:
        config.problem((*loc, "routable_number_ttl_seconds"), "goes with routable_numbers (the pool it applies to)")


def _agent(config: LoadedConfig, loc: Loc, agent: AgentSpec) -> None:
    _removal_entry(config, loc, agent, "agent")
    if agent.remove:
        if agent.username is None and agent.user_id is None:
            config.problem(loc, "name the agent to remove by username or user_id")
        return
    for key in ("username", "user_id"):
        if getattr(agent, key) is None:
            config.problem((*loc, key), "required")


def _removal_entry(config: LoadedConfig, loc: Loc, item: Removable, kind: str) -> None:
    """A ``remove: true`` entry carries only its identifying key(s): anything else would be ignored."""
    if not item.remove:
        return
    extra = sorted(item.model_fields_set - {*item.IDENTITY, "remove"})
    if extra:
        keys = " or ".join(item.IDENTITY)
        config.problem(loc, f"a removed {kind} takes only {keys} and remove (drop {', '.join(extra)})")


def _unique(
    config: LoadedConfig,
    loc: Loc,
    attribute: str,
    kind: str,
    keys: Sequence[Hashable | None],
    scope: str,
    key_name: str = "api_name",
) -> None:
    first_index: dict[Hashable, int] = {}
    for index, key in enumerate(keys):
        if key is None:
            continue
        first = first_index.setdefault(key, index)
        if first != index:
            config.problem(
                (*loc, attribute, index, key_name),
                f"{kind} {key!r} is listed twice in {scope} (first at {_where(config, (*loc, attribute, first))})",
            )


def _id15(user_id: str | None) -> str | None:
    return None if user_id is None else user_id[:15]


def _where(config: LoadedConfig, loc: Loc) -> str:
    return format_path(config.original(loc))
