"""Delivering a subscription's events: read the timeline after its cursor, POST each wanted event in id order,
and settle the cursor once the receiver answered 2xx. At-least-once: a process killed after a delivery and
before its settlement sends that event again (same ``webhook-id``) from wherever the cursor was left.

A failed attempt is retried after an exponential delay with jitter (or the receiver's ``Retry-After``), the
events behind it waiting so that order holds; after the retry window the event is dead-lettered (recorded,
skipped). A 410 Gone disables the subscription. Each subscription has its own task, client and timeouts, so a
slow receiver delays only its own events."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2
import structlog

from callbridge.config import Settings
from callbridge.events import replay
from callbridge.events.schemas import AnyEvent, VoiceCallStateChanged
from callbridge.kit.clock import Clock
from callbridge.kit.db import Database
from callbridge.models import VoiceCall
from callbridge.webhooks import store
from callbridge.webhooks.envelope import MissingSecret, Outgoing, request_of, secret_of, webhook_id
from callbridge.webhooks.types import CALL_RECORD

log = structlog.get_logger()

PAGE = 200
FLUSH_EVERY = 0.25  # seconds between settlements while a backlog is being delivered
GONE = 410


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (connection refused, timeout, ...)
    latency_ms: float
    error: str | None
    retry_after: float | None
    body: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def retry_delay(attempt: int, settings: Settings, retry_after: float | None) -> float:
    """Seconds before attempt ``attempt + 1``: the receiver's ``Retry-After`` when given, else doubling from the
    base up to the cap, with full jitter on its upper half."""
    if retry_after is not None:
        return max(0.0, min(retry_after, settings.webhook_retry_window_seconds))
    ceiling = min(settings.webhook_retry_max_seconds, settings.webhook_retry_base_seconds * 2 ** max(0, attempt - 1))
    return float(ceiling * random.uniform(0.5, 1.0))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - now).total_seconds())


async def post(client: httpx2.AsyncClient, url: str, headers: dict[str, str], body: bytes, now: datetime) -> Answer:
    started = time.perf_counter()
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx2.HTTPError as exc:
        latency = (time.perf_counter() - started) * 1000
        return Answer(None, latency, f"{type(exc).__name__}: {exc}"[:1000] or type(exc).__name__, None)
    latency = (time.perf_counter() - started) * 1000
    retry_after = parse_retry_after(response.headers.get("retry-after"), now)
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Answer(response.status_code, latency, error, retry_after, response.text[:1000])


def call_record(call: VoiceCall) -> dict[str, Any]:
    """The whole VoiceCall as it stands when it ends (Amazon Connect's contact record, in the API's names)."""
    record: dict[str, Any] = {}
    for column in VoiceCall.__table__.columns:
        value = getattr(call, column.key)
        head, *rest = column.key.split("_")
        name = head + "".join(part.title() for part in rest)
        record[name] = value.isoformat() if isinstance(value, datetime) else value
    return record


class SubscriptionWorker:
    """The task of one subscription in one process; only the lease holder delivers."""

    def __init__(self, subscription_id: int, owner: str, database: Database, settings: Settings, clock: Clock) -> None:
        self.id = subscription_id
        self.owner = owner
        self.database = database
        self.settings = settings
        self.clock = clock
        self.stopping = asyncio.Event()  # set: settle what was delivered and end (a graceful stop)
        self.claim: store.Claim | None = None
        self.renew_at = 0.0

    async def pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.stopping.wait()

    async def run(self) -> None:
        settings = self.settings
        timeout = httpx2.Timeout(settings.webhook_timeout_seconds)
        async with httpx2.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            while not self.stopping.is_set():
                claim = await self.current_claim()
                if claim is None:
                    await self.pause(min(settings.webhook_poll_seconds * 4, settings.webhook_lease_seconds / 3))
                    continue
                if claim.next_attempt_at is not None:
                    wait = (claim.next_attempt_at - self.clock.now()).total_seconds()
                    if wait > 0:
                        await self.pause(min(wait, settings.webhook_lease_seconds / 3))
                        continue
                async with self.database.read_session() as session:
                    page = await replay.events_after(session, claim.cursor, call_center_ids=claim.scope, limit=PAGE)
                if not page:
                    await self.pause(settings.webhook_poll_seconds)
                    continue
                if not await self.deliver(client, claim, page):
                    await self.pause(settings.webhook_poll_seconds)

    async def current_claim(self) -> store.Claim | None:
        """The lease, taken or renewed (a write) only when a third of it has passed since the last renewal:
        an idle subscription costs a read per poll, not a write. A replay that moved the cursor meanwhile is
        seen then, or at the next settlement (which checks the cursor it started from)."""
        if self.claim is None or time.monotonic() >= self.renew_at:
            self.claim = await store.claim(
                self.database, self.id, self.owner, self.clock.now(), self.settings.webhook_lease_seconds
            )
            self.renew_at = time.monotonic() + self.settings.webhook_lease_seconds / 3
        return self.claim

    async def outgoing(self, claim: store.Claim, event: AnyEvent) -> list[Outgoing]:
        wanted = "*" in claim.events
        found = []
        if wanted or event.type in claim.events:
            found.append(
                Outgoing(
                    event_id=event.id,
                    webhook_id=webhook_id(claim.id, event.id),
                    cloud_event_id=str(event.id),
                    type=event.type,
                    occurred_at=event.occurred_at,
                    data=event.model_dump(mode="json", by_alias=True),
                    call_center_id=event.call_center_id,
                    subject=event.voice_call_id,
                )
            )
        ended = isinstance(event, VoiceCallStateChanged) and event.change == "closed"
        if ended and (wanted or CALL_RECORD in claim.events) and event.voice_call_id:
            async with self.database.read_session() as session:
                call = await session.get(VoiceCall, event.voice_call_id)
            if call is not None:
                found.append(
                    Outgoing(
                        event_id=event.id,
                        webhook_id=webhook_id(claim.id, event.id, "_record"),
                        cloud_event_id=f"{event.id}-record",
                        type=CALL_RECORD,
                        occurred_at=event.occurred_at,
                        data={"id": event.id, "voiceCallId": call.id, "record": call_record(call)},
                        call_center_id=event.call_center_id,
                        subject=event.voice_call_id,
                    )
                )
        return found

    async def deliver(self, client: httpx2.AsyncClient, claim: store.Claim, page: list[AnyEvent]) -> bool:
        """Deliver the page in order; False when it stopped early (a failure, or the lease was lost)."""
        settings = self.settings
        done = store.Settlement(
            from_cursor=claim.cursor,
            cursor=claim.cursor,
            attempts=claim.attempts,
            first_failure_at=claim.first_failure_at,
        )
        done.attempt_rows = []
        flushed_at = time.monotonic()
        try:
            signer = secret_of(claim.secret_env)
        except MissingSecret as exc:
            signer = None
            missing = str(exc)
        for event in page:
            if self.stopping.is_set():
                break
            for outgoing in await self.outgoing(claim, event):
                now = self.clock.now()
                if signer is None:
                    answer = Answer(None, 0.0, missing, None)
                else:
                    headers, body = request_of(outgoing, signer, now)
                    answer = await post(client, claim.url, headers, body, now)
                row = {
                    "subscription_id": claim.id,
                    "event_id": outgoing.event_id,
                    "webhook_id": outgoing.webhook_id,
                    "attempted_at": now,
                    "status_code": answer.status,
                    "latency_ms": answer.latency_ms,
                    "error": answer.error,
                }
                if answer.ok:
                    done.attempt_rows.append({**row, "outcome": "delivered"})
                    done.delivered += 1
                    continue
                done.failed += 1
                if answer.status == GONE:
                    done.attempt_rows.append({**row, "outcome": "gone"})
                    done.disabled_reason = f"the receiver answered 410 Gone at {now.isoformat()}"
                    log.warning("webhook: 410 Gone; subscription disabled", subscription=claim.id, url=claim.url)
                    await self.settle(done)
                    return False
                first = done.first_failure_at or now
                if (now - first).total_seconds() >= settings.webhook_retry_window_seconds:
                    done.attempt_rows.append({**row, "outcome": "dead"})
                    done.dead += 1
                    log.warning("webhook: event dead-lettered", subscription=claim.id, event_id=outgoing.event_id)
                    break  # given up on: the cursor passes it
                done.attempts += 1
                done.first_failure_at = first
                delay = retry_delay(done.attempts, settings, answer.retry_after)
                done.next_attempt_at = now + timedelta(seconds=delay)
                done.attempt_rows.append({**row, "outcome": "retrying"})
                await self.settle(done)
                return False
            done.cursor = event.id
            done.attempts, done.first_failure_at, done.next_attempt_at = 0, None, None
            if time.monotonic() - flushed_at >= FLUSH_EVERY:
                if not await self.settle(done):
                    return False
                flushed_at = time.monotonic()
                done = store.Settlement(from_cursor=done.cursor, cursor=done.cursor, attempt_rows=[])
        return await self.settle(done)

    async def settle(self, done: store.Settlement) -> bool:
        kept = await store.settle(
            self.database, self.id, self.owner, self.clock.now(), self.settings.webhook_lease_seconds, done
        )
        if not kept:
            log.info("webhook: lease lost or cursor moved (a replay) before settling", subscription=self.id)
            self.claim = None
            return False
        self.renew_at = time.monotonic() + self.settings.webhook_lease_seconds / 3
        if self.claim is not None:
            self.claim = replace(
                self.claim,
                cursor=done.cursor,
                attempts=done.attempts,
                first_failure_at=done.first_failure_at,
                next_attempt_at=done.next_attempt_at,
            )
        if done.disabled_reason is not None:
            self.claim = None
        return True
