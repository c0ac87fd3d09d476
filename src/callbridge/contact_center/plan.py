"""The plan of an apply: each object of the file compared with its stored row (create, update, remove or
unchanged). Objects absent from the file stay as they are; only ``remove: true`` deletes. The
cross-references are checked against the state the plan leads to: what is stored, plus the file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from callbridge.auth.certificates import ParsedCertificate
from callbridge.contact_center.errors import ConfigProblem, Loc, format_path
from callbridge.contact_center.loader import LoadedConfig
from callbridge.contact_center.references import OrgReferences
from callbridge.contact_center.repository import Snapshot
from callbridge.contact_center.schemas import AgentSpec, CallCenterSpec, FlowSpec, OrgSpec, QueueSpec, WebhookSpec
from callbridge.kit import ids
from callbridge.kit.db import Base
from callbridge.models import (
    Agent,
    CallCenter,
    Certificate,
    Flow,
    Organization,
    PhoneChannel,
    Queue,
    WebhookSubscription,
)

EXPIRY_WARNING = timedelta(days=30)
# The call-center settings the newest endpoints read, spelled out in the plan (callbridge.outbound).
_OUTBOUND_SETTINGS = frozenset(
    {"voicemail_drops", "default_outbound_number", "routable_numbers", "routable_number_ttl_seconds"}
)


class Action(StrEnum):
    create = "create"
    update = "update"
    remove = "remove"
    unchanged = "unchanged"


class Kind(StrEnum):
    org = "org"
    call_center = "call center"
    certificate = "certificate"
    phone_channel = "phone channel"
    queue = "queue"
    agent = "agent"
    flow = "flow"
    webhook = "webhook"


@dataclass(frozen=True)
class Change:
    """One line of the plan; ``row`` is the row to add, change or delete, ``values`` what an update sets."""

    action: Action
    kind: Kind
    name: str
    detail: str = ""
    row: Base | None = field(default=None, repr=False, compare=False)
    values: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def as_record(self) -> dict[str, str]:
        record = {"action": self.action.value, "kind": self.kind.value, "name": self.name}
        return record | ({"detail": self.detail} if self.detail else {})


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    warnings: list[ConfigProblem] = field(default_factory=list)


def build_plan(config: LoadedConfig, snapshot: Snapshot, now: datetime) -> Plan:
    """The plan for ``config``; problems found on the way are appended to ``config.problems``."""
    planner = _Planner(config, snapshot, now)
    assert config.spec is not None
    for o, org in enumerate(config.spec.orgs):
        planner.org(("orgs", o), o, org)
    planner.check_agent_ids()
    return planner.plan


class _Planner:
    def __init__(self, config: LoadedConfig, snapshot: Snapshot, now: datetime) -> None:
        self.config = config
        self.snapshot = snapshot
        self.now = now
        self.plan = Plan()
        self.removed_user_ids: set[str] = set()
        self.declared_agents: list[tuple[Loc, str, str]] = []  # (loc, 15-char user id, org id)

    def add(self, action: Action, kind: Kind, name: str, detail: str = "", **kw: Any) -> None:
        self.plan.changes.append(Change(action, kind, name, detail, **kw))

    def compare(
        self, kind: Kind, name: str, row: Base | None, values: dict[str, Any], new: Base, about: str = ""
    ) -> None:
        if row is None:
            self.add(Action.create, kind, name, about, row=new)
            return
        changed = {key: value for key, value in values.items() if getattr(row, key) != value}
        action = Action.update if changed else Action.unchanged
        self.add(action, kind, name, ", ".join(changed), row=row, values=changed)

    def org(self, loc: Loc, index: int, spec: OrgSpec) -> None:
        stored = self.snapshot.orgs.get(spec.id[:15])
        if spec.remove:
            if stored is not None:
                self.remove_org(stored)
            return
        org_id = stored.id if stored is not None else (ids.to_18(spec.id) if len(spec.id) == 15 else spec.id)
        if stored is None:
            self.add(Action.create, Kind.org, org_id, row=Organization(id=org_id, id15=org_id[:15]))
        else:
            self.add(Action.unchanged, Kind.org, org_id)
        refs = OrgReferences(self.config, self.snapshot, org_id, self.config.unresolved.get(index, {}))
        for c, call_center in enumerate(spec.call_centers):
            self.call_center((*loc, "call_centers", c), org_id, call_center, refs)
        for q, queue in enumerate(spec.queues):
            self.queue((*loc, "queues", q), org_id, queue, refs)
        for a, agent in enumerate(spec.agents):
            self.agent((*loc, "agents", a), org_id, agent, refs)
        for f, flow in enumerate(spec.flows):
            self.flow((*loc, "flows", f), org_id, flow, refs)
        call_centers = {cc.api_name for cc in spec.call_centers if not cc.remove}
        call_centers |= {cc.api_name for cc in self.snapshot.call_centers_of(org_id)}
        for w, webhook in enumerate(spec.webhooks):
            self.webhook((*loc, "webhooks", w), org_id, webhook, call_centers)
        refs.check(self.plan.warnings)

    def remove_org(self, org: Organization) -> None:
        for call_center in self.snapshot.call_centers_of(org.id):
            self.remove_call_center(call_center, f"{org.id}/{call_center.api_name}")
        for kind, rows in (
            (Kind.queue, self.snapshot.queues_of(org.id)),
            (Kind.agent, self.snapshot.agents_of(org.id)),
            (Kind.flow, self.snapshot.flows_of(org.id)),
            (Kind.webhook, self.snapshot.webhooks_of(org.id)),
        ):
            for row in rows:
                label = (
                    row.username
                    if isinstance(row, Agent)
                    else row.url
                    if isinstance(row, WebhookSubscription)
                    else row.api_name
                )
                self.add(Action.remove, kind, f"{org.id}/{label}", row=row)
                if isinstance(row, Agent):
                    self.removed_user_ids.add(row.user_id[:15])
        self.add(Action.remove, Kind.org, org.id, row=org)

    def remove_call_center(self, call_center: CallCenter, name: str) -> None:
        for certificate in self.snapshot.certificates.get(call_center.id, {}).values():
            self.add(
                Action.remove,
                Kind.certificate,
                _certificate_name(name, certificate.fingerprint_sha256),
                certificate.subject or "",
                row=certificate,
            )
        for channel in self.snapshot.phone_channels.get(call_center.id, {}).values():
            self.add(Action.remove, Kind.phone_channel, f"{name}/{channel.dialed_number}", row=channel)
        calls = self.snapshot.voice_calls.get(call_center.id, 0)
        detail = f"and its {calls} voice call{'s' if calls != 1 else ''}" if calls else ""
        self.add(Action.remove, Kind.call_center, name, detail, row=call_center)

    def call_center(self, loc: Loc, org_id: str, spec: CallCenterSpec, refs: OrgReferences) -> None:
        stored = self.snapshot.call_centers.get((org_id, spec.api_name))
        name = f"{org_id}/{spec.api_name}"
        if spec.remove:
            if stored is not None:
                self.remove_call_center(stored, name)
            refs.removed_call_center(spec.api_name)
            return
        call_center_id = stored.id if stored is not None else ids.stable_id(ids.CALL_CENTER, org_id, spec.api_name)
        settings = spec.settings()
        new = CallCenter(id=call_center_id, org_id=org_id, api_name=spec.api_name, settings=settings)
        self.compare(Kind.call_center, name, stored, {"settings": settings}, new, _settings_detail(settings))
        if stored is not None and stored.settings != settings:
            keys = stored.settings.keys() | settings.keys()
            changed = sorted(k for k in keys & _OUTBOUND_SETTINGS if stored.settings.get(k) != settings.get(k))
            if changed:
                detail = "settings: " + "; ".join(_setting_detail(key, settings.get(key)) for key in changed)
                self.plan.changes[-1] = replace(self.plan.changes[-1], detail=detail)
        refs.declared_call_center(spec.api_name, loc, spec)
        self.certificates(loc, call_center_id, name, spec)
        stored_channels = self.snapshot.phone_channels.get(call_center_id, {})
        for channel in spec.phone_channels:
            stored_channel = stored_channels.get(channel.dialed_number)
            channel_name = f"{name}/{channel.dialed_number}"
            if channel.remove:
                if stored_channel is not None:
                    self.add(Action.remove, Kind.phone_channel, channel_name, row=stored_channel)
                continue
            values = {
                "flow": channel.flow,
                "fallback_queue": channel.fallback_queue,
                "voicemail_greeting_url": channel.voicemail_greeting_url,
            }
            new_channel = PhoneChannel(call_center_id=call_center_id, dialed_number=channel.dialed_number, **values)
            self.compare(Kind.phone_channel, channel_name, stored_channel, values, new_channel)

    def certificates(self, loc: Loc, call_center_id: str, name: str, spec: CallCenterSpec) -> None:
        """The list is the call center's full set: a stored certificate left out of it is removed."""
        stored = dict(self.snapshot.certificates.get(call_center_id, {}))
        for k, source in enumerate(spec.certificates or ()):
            parsed = self.config.certificates.get((*loc, "certificates", k))
            if parsed is None:
                continue
            self.expiry_warning((*loc, "certificates", k), parsed)
            values = _certificate_values(parsed, "inline" if "-----BEGIN" in source else source)
            new = Certificate(call_center_id=call_center_id, fingerprint_sha256=parsed.fingerprint_sha256, **values)
            cert_name = _certificate_name(name, parsed.fingerprint_sha256)
            stored_certificate = stored.pop(parsed.fingerprint_sha256, None)
            self.compare(Kind.certificate, cert_name, stored_certificate, values, new, _describe(parsed))
        for fingerprint, certificate in stored.items():
            self.add(
                Action.remove,
                Kind.certificate,
                _certificate_name(name, fingerprint),
                f"not listed: {certificate.subject or certificate.source}",
                row=certificate,
            )

    def expiry_warning(self, loc: Loc, parsed: ParsedCertificate) -> None:
        if parsed.not_after is None or parsed.not_after - self.now > EXPIRY_WARNING:
            return
        verb = "expired" if parsed.not_after <= self.now else "expires"
        reason = f"the certificate {verb} on {parsed.not_after:%Y-%m-%d %H:%M} UTC"
        if verb == "expired":
            reason += ": tokens signed with its key are refused (CERTIFICATE_EXPIRED)"
        self.plan.warnings.append(ConfigProblem(self.config.file, format_path(self.config.original(loc)), reason))

    def queue(self, loc: Loc, org_id: str, spec: QueueSpec, refs: OrgReferences) -> None:
        stored = self.snapshot.queues.get((org_id, spec.api_name))
        name = f"{org_id}/{spec.api_name}"
        if spec.remove:
            if stored is not None:
                self.add(Action.remove, Kind.queue, name, row=stored)
            refs.removed_queue(spec.api_name, loc)
            return
        values: dict[str, Any] = {"external_id": spec.external_id, "settings": {}}
        new = Queue(id=ids.stable_id(ids.QUEUE, org_id, spec.api_name), org_id=org_id, api_name=spec.api_name, **values)
        self.compare(Kind.queue, name, stored, values, new)
        refs.declared_queue(spec.api_name)

    def flow(self, loc: Loc, org_id: str, spec: FlowSpec, refs: OrgReferences) -> None:
        stored = self.snapshot.flows.get((org_id, spec.api_name))
        name = f"{org_id}/{spec.api_name}"
        if spec.remove:
            if stored is not None:
                self.add(Action.remove, Kind.flow, name, row=stored)
            refs.removed_flow(spec.api_name, loc)
            return
        definition = spec.definition()
        flow_id = ids.stable_id(ids.FLOW, org_id, spec.api_name)
        new = Flow(id=flow_id, org_id=org_id, api_name=spec.api_name, definition=definition)
        self.compare(Kind.flow, name, stored, {"definition": definition}, new)
        refs.declared_flow(spec.api_name, loc, definition)

    def webhook(self, loc: Loc, org_id: str, spec: WebhookSpec, call_centers: set[str]) -> None:
        stored = self.snapshot.webhooks.get((org_id, spec.url))
        name = f"{org_id}/{spec.url}"
        if spec.remove:
            if stored is not None:
                self.add(Action.remove, Kind.webhook, name, row=stored)
            return
        for c, api_name in enumerate(spec.call_centers):
            if api_name not in call_centers:
                self.config.problem((*loc, "call_centers", c), f"unknown call center {api_name!r} of org {org_id}")
        assert spec.events is not None and spec.secret_env is not None
        values: dict[str, Any] = {
            "events": list(spec.events),
            "secret_env": spec.secret_env,
            "call_centers": list(spec.call_centers),
        }
        # A new subscription starts with what happens after it is applied (replay reaches further back).
        new = WebhookSubscription(
            org_id=org_id,
            url=spec.url,
            status="active",
            cursor=self.snapshot.newest_event_id,
            attempts=0,
            delivered=0,
            failed=0,
            dead=0,
            **values,
        )
        about = (
            f"events: {', '.join(spec.events)}; secret from ${spec.secret_env};"
            f" call centers: {', '.join(spec.call_centers) or 'all'}"
        )
        self.compare(Kind.webhook, name, stored, values, new, about)

    def agent(self, loc: Loc, org_id: str, spec: AgentSpec, refs: OrgReferences) -> None:
        stored = refs.stored_agent(spec.username, spec.user_id)
        if spec.remove:
            if stored is not None:
                self.add(Action.remove, Kind.agent, f"{org_id}/{stored.username}", row=stored)
                self.removed_user_ids.add(stored.user_id[:15])
                refs.removed_agent(stored, loc)
            return
        if spec.user_id is None or spec.username is None:
            refs.incomplete_agent(spec.username or spec.user_id or "")
            return  # reported by check_file
        user_id = spec.user_id if len(spec.user_id) == 18 else ids.to_18(spec.user_id)
        stored = self.snapshot.agents.get(user_id[:15])
        if stored is not None and stored.org_id != org_id:
            stored = None  # another org's agent: check_agent_ids reports it unless this file removes it
        values: dict[str, Any] = {
            "username": spec.username,
            "external_id": spec.external_id,
            "queues": list(spec.queues),
            "skills": dict(spec.skills),
            "capacity": spec.capacity,
            "role": spec.role,
            "default_outbound_number": spec.default_outbound_number,
        }
        if spec.password_hash is not None:
            # Only a hash given in the file replaces the stored one: one set with the CLI survives re-applies.
            values["password_hash"] = spec.password_hash
        new = Agent(user_id=user_id, org_id=org_id, **values)
        self.compare(Kind.agent, f"{org_id}/{spec.username}", stored, values, new)
        refs.declared_agent(loc, spec)
        self.declared_agents.append((loc, user_id[:15], org_id))

    def check_agent_ids(self) -> None:
        """A user id is one agent across every org: refuse one that another org keeps."""
        for loc, user15, org_id in self.declared_agents:
            stored = self.snapshot.agents.get(user15)
            if stored is None or stored.org_id == org_id or user15 in self.removed_user_ids:
                continue
            self.config.problem(
                (*loc, "user_id"),
                f"user id {stored.user_id} belongs to agent {stored.username} of org {stored.org_id}"
                " (remove it there in the same file to move it)",
            )


def _setting_detail(key: str, value: Any) -> str:
    """One call-center setting for the plan: what an apply --dry-run shows of it."""
    if value is None:
        return f"{key} removed"
    if key == "voicemail_drops":
        return f"voicemail_drops: {', '.join(drop['name'] for drop in value)}"
    if key == "routable_numbers":
        return f"routable_numbers: {len(value)} ({', '.join(value)})"
    if isinstance(value, dict):
        return f"{key}: {', '.join(f'{k}={v}' for k, v in value.items())}"
    return f"{key}: {value}"


def _settings_detail(settings: Mapping[str, Any]) -> str:
    return "; ".join(_setting_detail(key, value) for key, value in settings.items() if key in _OUTBOUND_SETTINGS)


def _certificate_name(call_center_name: str, fingerprint: str) -> str:
    return f"{call_center_name}/sha256:{fingerprint[:16]}"


def _describe(parsed: ParsedCertificate) -> str:
    what = parsed.subject or "public key"
    until = f", until {parsed.not_after:%Y-%m-%d}" if parsed.not_after is not None else ""
    return f"{what}, RSA {parsed.key_bits}{until}"


def _certificate_values(parsed: ParsedCertificate, source: str) -> dict[str, Any]:
    return {
        "kind": parsed.kind,
        "pem": parsed.pem,
        "source": source,
        "subject": parsed.subject,
        "key_bits": parsed.key_bits,
        "not_before": parsed.not_before,
        "not_after": parsed.not_after,
    }
