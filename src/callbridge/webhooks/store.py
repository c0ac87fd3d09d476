"""Every query of webhook delivery: claiming a subscription (a lease that works the same on SQLite and
PostgreSQL: one conditional UPDATE), settling what was delivered (cursor, counts and attempts in one commit,
only while the lease is still ours), and the figures that ``list``, the console and ``/metrics`` show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.kit.db import Database
from callbridge.models import CallCenter, TimelineEntry, WebhookAttempt, WebhookSubscription


@dataclass(frozen=True)
class Claim:
    """A subscription as its lease holder sees it."""

    id: int
    org_id: str
    url: str
    events: frozenset[str]
    secret_env: str
    scope: tuple[str, ...]  # the call-center ids whose events it gets (and the org id, for org-wide events)
    cursor: int
    attempts: int
    first_failure_at: datetime | None
    next_attempt_at: datetime | None


@dataclass
class Settlement:
    """What a lease holder writes after some deliveries; ``from_cursor`` is the cursor it started from (a replay
    that moved it meanwhile makes the settlement fail, and the holder starts again from the new cursor)."""

    from_cursor: int
    cursor: int
    attempts: int = 0
    first_failure_at: datetime | None = None
    next_attempt_at: datetime | None = None
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    disabled_reason: str | None = None
    attempt_rows: list[dict[str, Any]] | None = None


async def active_ids(database: Database) -> list[int]:
    async with database.read_session() as session:
        query = select(WebhookSubscription.id).where(WebhookSubscription.status == "active")
        return list(await session.scalars(query))


async def scope_of(session: AsyncSession, subscription: WebhookSubscription) -> tuple[str, ...]:
    query = select(CallCenter.id).where(CallCenter.org_id == subscription.org_id)
    if subscription.call_centers:
        return tuple(await session.scalars(query.where(CallCenter.api_name.in_(subscription.call_centers))))
    return (*await session.scalars(query), subscription.org_id)


async def claim(database: Database, subscription_id: int, owner: str, now: datetime, lease: float) -> Claim | None:
    """The subscription, leased to ``owner`` until ``now + lease`` (None: another holds it, or it is not active)."""
    async with database.write_session() as session:
        taken = await session.execute(
            update(WebhookSubscription)
            .where(
                WebhookSubscription.id == subscription_id,
                WebhookSubscription.status == "active",
                or_(
                    WebhookSubscription.lease_owner.is_(None),
                    WebhookSubscription.lease_owner == owner,
                    WebhookSubscription.lease_expires_at < now,
                ),
            )
            .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease))
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            await session.rollback()
            return None
        await session.commit()
        row = await session.get(WebhookSubscription, subscription_id, populate_existing=True)
        if row is None:
            return None
        return Claim(
            id=row.id,
            org_id=row.org_id,
            url=row.url,
            events=frozenset(row.events),
            secret_env=row.secret_env,
            scope=await scope_of(session, row),
            cursor=row.cursor,
            attempts=row.attempts,
            first_failure_at=row.first_failure_at,
            next_attempt_at=row.next_attempt_at,
        )


async def settle(
    database: Database, subscription_id: int, owner: str, now: datetime, lease: float, done: Settlement
) -> bool:
    """Write ``done`` and renew the lease, in one commit; False (nothing written) when the lease was lost or the
    cursor moved."""
    values: dict[str, Any] = {
        "cursor": done.cursor,
        "attempts": done.attempts,
        "first_failure_at": done.first_failure_at,
        "next_attempt_at": done.next_attempt_at,
        "delivered": WebhookSubscription.delivered + done.delivered,
        "failed": WebhookSubscription.failed + done.failed,
        "dead": WebhookSubscription.dead + done.dead,
        "lease_expires_at": now + timedelta(seconds=lease),
    }
    if done.disabled_reason is not None:
        values |= {"status": "disabled", "status_reason": done.disabled_reason, "lease_owner": None}
    async with database.write_session() as session:
        result = await session.execute(
            update(WebhookSubscription)
            .where(
                WebhookSubscription.id == subscription_id,
                WebhookSubscription.lease_owner == owner,
                WebhookSubscription.cursor == done.from_cursor,
            )
            .values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            await session.rollback()
            return False
        if done.attempt_rows:
            await session.execute(insert(WebhookAttempt), done.attempt_rows)
        await session.commit()
        return True


async def release(database: Database, subscription_ids: list[int], owner: str) -> None:
    """Give the leases back (a stopping process): another process takes over at once."""
    if not subscription_ids:
        return
    async with database.write_session() as session:
        await session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id.in_(subscription_ids), WebhookSubscription.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
        )
        await session.commit()


@dataclass(frozen=True)
class Status:
    """A subscription's delivery figures (``callbridge webhooks list``, the supervisor view, ``/metrics``)."""

    id: int
    org_id: str
    url: str
    events: list[str]
    call_centers: list[str]
    status: str
    status_reason: str | None
    cursor: int
    delivered: int
    failed: int
    dead: int
    retrying: int  # 1 while the subscription waits to retry a failed event, else 0
    lag: int  # events of its scope after the cursor (not all may be wanted)
    oldest_undelivered_age_seconds: float  # 0 when nothing waits
    next_attempt_at: datetime | None
    lease_owner: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "orgId": self.org_id,
            "url": self.url,
            "events": self.events,
            "callCenters": self.call_centers,
            "status": self.status,
            "statusReason": self.status_reason,
            "cursor": self.cursor,
            "delivered": self.delivered,
            "failed": self.failed,
            "deadLettered": self.dead,
            "retrying": self.retrying,
            "lag": self.lag,
            "oldestUndeliveredAgeSeconds": round(self.oldest_undelivered_age_seconds, 3),
            "nextAttemptAt": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
        }


async def statuses(session: AsyncSession, now: datetime, *, org_id: str | None = None) -> list[Status]:
    query = select(WebhookSubscription).order_by(WebhookSubscription.id)
    if org_id is not None:
        query = query.where(WebhookSubscription.org_id == org_id)
    found = []
    for row in await session.scalars(query):
        scope = list(await scope_of(session, row))
        waiting = select(func.count(), func.min(TimelineEntry.occurred_at)).where(
            TimelineEntry.id > row.cursor, TimelineEntry.call_center_id.in_(scope)
        )
        lag, oldest = (await session.execute(waiting)).one()
        found.append(
            Status(
                id=row.id,
                org_id=row.org_id,
                url=row.url,
                events=list(row.events),
                call_centers=list(row.call_centers),
                status=row.status,
                status_reason=row.status_reason,
                cursor=row.cursor,
                delivered=row.delivered,
                failed=row.failed,
                dead=row.dead,
                retrying=1 if row.attempts else 0,
                lag=int(lag),
                oldest_undelivered_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
                next_attempt_at=row.next_attempt_at,
                lease_owner=row.lease_owner,
            )
        )
    return found


async def find(session: AsyncSession, reference: str) -> WebhookSubscription | None:
    """A subscription by its id or its URL."""
    if reference.isdigit():
        return await session.get(WebhookSubscription, int(reference))
    return (await session.scalars(select(WebhookSubscription).where(WebhookSubscription.url == reference))).first()


async def rewind(session: AsyncSession, subscription: WebhookSubscription, *, after_id: int) -> None:
    """Replay: deliver again everything after ``after_id`` (and re-enable a disabled subscription)."""
    subscription.cursor = after_id
    subscription.attempts = 0
    subscription.first_failure_at = None
    subscription.next_attempt_at = None
    subscription.status = "active"
    subscription.status_reason = None


async def event_id_before(session: AsyncSession, moment: datetime) -> int:
    """The last event id before ``moment``: replaying from a time starts after it."""
    query = select(func.coalesce(func.max(TimelineEntry.id), 0)).where(TimelineEntry.occurred_at < moment)
    return int((await session.execute(query)).scalar_one())
