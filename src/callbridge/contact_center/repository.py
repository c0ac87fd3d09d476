"""Every query of ``callbridge apply``: the whole contact-centre configuration is small, so a plan reads
all of it at once, in the transaction that applies the plan."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.models import (
    Agent,
    CallCenter,
    Certificate,
    ConfigRevision,
    Flow,
    Organization,
    PhoneChannel,
    Queue,
    TimelineEntry,
    VoiceCall,
    WebhookSubscription,
)


@dataclass
class Snapshot:
    """The configuration tables as stored, indexed the way a plan looks rows up."""

    orgs: dict[str, Organization] = field(default_factory=dict)  # by the 15-character id
    call_centers: dict[tuple[str, str], CallCenter] = field(default_factory=dict)  # (org id, api_name)
    certificates: dict[str, dict[str, Certificate]] = field(default_factory=dict)  # cc id -> fingerprint ->
    phone_channels: dict[str, dict[str, PhoneChannel]] = field(default_factory=dict)  # cc id -> number ->
    queues: dict[tuple[str, str], Queue] = field(default_factory=dict)  # (org id, api_name)
    agents: dict[str, Agent] = field(default_factory=dict)  # by the 15-character user id (the key is global)
    flows: dict[tuple[str, str], Flow] = field(default_factory=dict)  # (org id, api_name)
    voice_calls: dict[str, int] = field(default_factory=dict)  # cc id -> number of calls
    webhooks: dict[tuple[str, str], WebhookSubscription] = field(default_factory=dict)  # (org id, url)
    newest_event_id: int = 0  # where a new webhook subscription starts

    def call_centers_of(self, org_id: str) -> list[CallCenter]:
        return [cc for (org, _), cc in self.call_centers.items() if org == org_id]

    def queues_of(self, org_id: str) -> list[Queue]:
        return [queue for (org, _), queue in self.queues.items() if org == org_id]

    def agents_of(self, org_id: str) -> list[Agent]:
        return [agent for agent in self.agents.values() if agent.org_id == org_id]

    def flows_of(self, org_id: str) -> list[Flow]:
        return [flow for (org, _), flow in self.flows.items() if org == org_id]

    def webhooks_of(self, org_id: str) -> list[WebhookSubscription]:
        return [webhook for (org, _), webhook in self.webhooks.items() if org == org_id]


def _has_tables(connection: Connection) -> bool:
    return inspect(connection).has_table(Organization.__tablename__)


async def has_schema(session: AsyncSession) -> bool:
    """False on a database that ``callbridge migrate`` has not prepared."""
    connection = await session.connection()
    return await connection.run_sync(_has_tables)


async def load_snapshot(session: AsyncSession) -> Snapshot:
    snapshot = Snapshot()
    for org in await session.scalars(select(Organization)):
        snapshot.orgs[org.id15] = org
    for call_center in await session.scalars(select(CallCenter)):
        snapshot.call_centers[(call_center.org_id, call_center.api_name)] = call_center
    for certificate in await session.scalars(select(Certificate)):
        by_fingerprint = snapshot.certificates.setdefault(certificate.call_center_id, {})
        by_fingerprint[certificate.fingerprint_sha256] = certificate
    for channel in await session.scalars(select(PhoneChannel)):
        snapshot.phone_channels.setdefault(channel.call_center_id, {})[channel.dialed_number] = channel
    for queue in await session.scalars(select(Queue)):
        snapshot.queues[(queue.org_id, queue.api_name)] = queue
    for agent in await session.scalars(select(Agent)):
        snapshot.agents[agent.user_id[:15]] = agent
    for flow in await session.scalars(select(Flow)):
        snapshot.flows[(flow.org_id, flow.api_name)] = flow
    counts = await session.execute(select(VoiceCall.call_center_id, func.count()).group_by(VoiceCall.call_center_id))
    snapshot.voice_calls = {call_center_id: count for call_center_id, count in counts}
    for webhook in await session.scalars(select(WebhookSubscription)):
        snapshot.webhooks[(webhook.org_id, webhook.url)] = webhook
    newest = await session.execute(select(func.coalesce(func.max(TimelineEntry.id), 0)))
    snapshot.newest_event_id = int(newest.scalar_one())
    return snapshot


def add_revision(
    session: AsyncSession, *, source: str, sha256: str, changes: Iterable[dict[str, str]], applied_at: datetime
) -> ConfigRevision:
    revision = ConfigRevision(applied_at=applied_at, source=source, sha256=sha256, changes=list(changes))
    session.add(revision)
    return revision
