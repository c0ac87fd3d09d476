"""Delivering a subscription's events: read a page of the timeline after its cursor, POST the wanted events
concurrently across calls but one at a time per call (a lane per call: order holds per call, not across calls),
up to ``webhook_max_in_flight`` at once, then settle the cursor just below the lowest event not yet settled.
At-least-once: a process killed after a delivery and before its settlement, or a lane that ran ahead of a failing
one when the lease moves, sends those events again (same ``webhook-id``) from wherever the cursor was left.

A failed attempt is retried after an exponential delay with jitter (or the receiver's ``Retry-After``), the
round stopping and the events behind it waiting; after the retry window the event is dead-lettered (recorded,
skipped). A 410 Gone disables the subscription. Each subscription has its own task, client and timeouts, so a
slow receiver delays only its own events."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import structlog
from standardwebhooks.webhooks import Webhook

from callbridge.config import Settings
from callbridge.events import replay
from callbridge.events.schemas import AnyEvent, VoiceCallStateChanged
from callbridge.kit.clock import Clock
from callbridge.kit.db import Database
from callbridge.models import VoiceCall
from callbridge.voice_calls.state import call_record
from callbridge.webhooks import store
from callbridge.webhooks.envelope import MissingSecret, Outgoing, request_of, secret_of, webhook_id
from callbridge.webhooks.types import CALL_RECORD

log = structlog.get_logger()

PAGE = 500  # events per round: a round's deliveries settle in one commit
GONE = 410
ANSWER_READ = 65536  # bytes of a receiver's answer read whole; a longer one is cut (and its connection closed)
CLIENT_HEADERS = {"User-Agent": "Callbridge-Webhooks"}


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


async def post(session: aiohttp.ClientSession, url: str, headers: dict[str, str], body: bytes, now: datetime) -> Answer:
    started = time.perf_counter()
    try:
        async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
            if response.content_length is not None and response.content_length <= ANSWER_READ:
                text = await response.read()  # read whole: the connection is kept for the next request
            else:
                text = await response.content.read(1000)
            status, retry_after_header = response.status, response.headers.get("Retry-After")
    except (aiohttp.ClientError, TimeoutError) as exc:
        latency = (time.perf_counter() - started) * 1000
        return Answer(None, latency, f"{type(exc).__name__}: {exc}"[:1000], None)
    latency = (time.perf_counter() - started) * 1000
    error = None if 200 <= status < 300 else f"HTTP {status}"
    answer = text[:1000].decode(errors="replace")
    return Answer(status, latency, error, parse_retry_after(retry_after_header, now), answer)


def ordering_key(event: AnyEvent) -> str:
    """The lane an event is delivered in, one request at a time: its call's, else its agent's, else its call
    center's (order holds within a lane; lanes go concurrently)."""
    if event.voice_call_id:
        return "call:" + event.voice_call_id
    user_id = getattr(event, "user_id", None)
    if isinstance(user_id, str):
        return "user:" + user_id
    return "center:" + event.call_center_id


@dataclass
class Round:
    """One page's deliveries in flight: what was settled (delivered, dead-lettered or not wanted), the counts and
    attempt rows to write, and why it stopped early."""

    window: asyncio.Semaphore  # the requests in flight at once
    settled: set[int] = field(default_factory=set)
    rows: list[dict[str, Any]] = field(default_factory=list)
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    halted: bool = False
    gone: str | None = None
    first_failure_at: datetime | None = None
    retry_at: datetime | None = None


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
        # events above the settled cursor already delivered (a lane ran ahead of a slower one): not sent again
        self.sent_from: int | None = None
        self.sent_above: set[int] = set()

    async def pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.stopping.wait()

    async def run(self) -> None:
        settings = self.settings
        # aiohttp, not httpx2: a request costs a fifth of the CPU (/work/shared/ecosystem.md), and delivery shares
        # the process with ingest
        timeout = aiohttp.ClientTimeout(total=settings.webhook_timeout_seconds)
        connector = aiohttp.TCPConnector(limit=settings.webhook_max_in_flight)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector, headers=CLIENT_HEADERS) as client:
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
        if (
            isinstance(event, VoiceCallStateChanged)
            and event.change == "closed"
            and (wanted or CALL_RECORD in claim.events)
            and event.voice_call_id
        ):
            record = event.record
            if record is None:  # closed before records were kept in the timeline: the call as it is now
                async with self.database.read_session() as session:
                    call = await session.get(VoiceCall, event.voice_call_id)
                record = call_record(call) if call is not None else None
            if record is not None:
                found.append(
                    Outgoing(
                        event_id=event.id,
                        webhook_id=webhook_id(claim.id, event.id, "_record"),
                        cloud_event_id=f"{event.id}-record",
                        type=CALL_RECORD,
                        occurred_at=event.occurred_at,
                        data={"id": event.id, "voiceCallId": event.voice_call_id, "record": record},
                        call_center_id=event.call_center_id,
                        subject=event.voice_call_id,
                    )
                )
        return found

    async def deliver(self, client: aiohttp.ClientSession, claim: store.Claim, page: list[AnyEvent]) -> bool:
        """Deliver the page, up to ``webhook_max_in_flight`` requests at once but one at a time per call (its
        lane), then settle the cursor just below the lowest event not yet settled. False when the round stopped
        early (a failure to retry, a 410, or the lease was lost)."""
        if self.sent_from != claim.cursor:  # a replay or another holder moved the cursor: forget what we sent
            self.sent_from, self.sent_above = claim.cursor, set()
        try:
            signer: Webhook | None = secret_of(claim.secret_env)
            missing = ""
        except MissingSecret as exc:
            signer, missing = None, str(exc)
        round_ = Round(asyncio.Semaphore(self.settings.webhook_max_in_flight))
        round_.settled |= self.sent_above
        lanes: dict[str, list[AnyEvent]] = {}
        for event in page:
            if event.id not in round_.settled:
                lanes.setdefault(ordering_key(event), []).append(event)
        async with asyncio.TaskGroup() as group:
            for events in lanes.values():
                group.create_task(self.lane(client, claim, round_, events, signer, missing))

        done = store.Settlement(
            from_cursor=claim.cursor,
            cursor=claim.cursor,
            delivered=round_.delivered,
            failed=round_.failed,
            dead=round_.dead,
            disabled_reason=round_.gone,
            attempt_rows=round_.rows,
        )
        for event in page:
            if event.id not in round_.settled:
                break
            done.cursor = event.id
        if round_.retry_at is not None:
            done.attempts = claim.attempts + 1
            done.first_failure_at = claim.first_failure_at or round_.first_failure_at
            done.next_attempt_at = round_.retry_at
        elif round_.gone is None and done.cursor == claim.cursor and claim.attempts:
            done.attempts, done.first_failure_at = claim.attempts, claim.first_failure_at  # stopped before retrying
        kept = await self.settle(done)
        if kept:
            self.sent_from = done.cursor
            self.sent_above = {event_id for event_id in round_.settled if event_id > done.cursor}
        else:
            self.sent_from, self.sent_above = None, set()
        return kept and round_.retry_at is None and round_.gone is None and not self.stopping.is_set()

    async def lane(
        self,
        client: aiohttp.ClientSession,
        claim: store.Claim,
        round_: Round,
        events: list[AnyEvent],
        signer: Webhook | None,
        missing: str,
    ) -> None:
        """One call's events of the round, one after another; it stops at the first that is not settled (the
        events behind it wait: order per call) and the whole round stops taking new events after a failure."""
        settings = self.settings
        for event in events:
            for outgoing in await self.outgoing(claim, event):
                async with round_.window:
                    if round_.halted or self.stopping.is_set():
                        return
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
                    round_.rows.append({**row, "outcome": "delivered"})
                    round_.delivered += 1
                    continue
                round_.failed += 1
                if answer.status == GONE:
                    round_.rows.append({**row, "outcome": "gone"})
                    round_.gone = f"the receiver answered 410 Gone at {now.isoformat()}"
                    round_.halted = True
                    log.warning("webhook: 410 Gone; subscription disabled", subscription=claim.id, url=claim.url)
                    return
                first = claim.first_failure_at or round_.first_failure_at or now
                if (now - first).total_seconds() >= settings.webhook_retry_window_seconds:
                    round_.rows.append({**row, "outcome": "dead"})
                    round_.dead += 1
                    log.warning("webhook: event dead-lettered", subscription=claim.id, event_id=outgoing.event_id)
                    break  # given up on: settled, the lane goes on
                round_.rows.append({**row, "outcome": "retrying"})
                round_.first_failure_at = round_.first_failure_at or now
                at = now + timedelta(seconds=retry_delay(claim.attempts + 1, settings, answer.retry_after))
                round_.retry_at = max(at, round_.retry_at or at)
                round_.halted = True
                return
            round_.settled.add(event.id)

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
