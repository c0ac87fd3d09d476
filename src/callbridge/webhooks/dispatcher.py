"""The process's webhook delivery: one task per active subscription (started as subscriptions appear, ended as
they go), and the per-subscription gauges of ``/metrics``. Every serving process runs one; leases decide which
process delivers for which subscription, so several processes share the work and none sends an event twice in
the normal case."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid

import structlog
from prometheus_client import Gauge

from callbridge.config import Settings
from callbridge.events.ordered import stop_tasks
from callbridge.kit.clock import Clock
from callbridge.kit.db import Database
from callbridge.webhooks import store
from callbridge.webhooks.delivery import SubscriptionWorker

log = structlog.get_logger()

METRICS_POLLS = 20  # polls between refreshes of the gauges (one query per subscription): 10 s by default
_LABELS = ["subscription", "url"]
DELIVERED = Gauge(
    "callbridge_webhook_delivered", "Events delivered (2xx), per subscription.", _LABELS, multiprocess_mode="livemax"
)
FAILED = Gauge(
    "callbridge_webhook_failed", "Failed delivery attempts, per subscription.", _LABELS, multiprocess_mode="livemax"
)
RETRYING = Gauge(
    "callbridge_webhook_retrying", "Events being retried now, per subscription.", _LABELS, multiprocess_mode="livemax"
)
DEAD = Gauge(
    "callbridge_webhook_dead_lettered",
    "Events given up on after the retry window, per subscription.",
    _LABELS,
    multiprocess_mode="livemax",
)
OLDEST = Gauge(
    "callbridge_webhook_oldest_undelivered_age_seconds",
    "Age of the oldest event not yet delivered (0: none waits), per subscription.",
    _LABELS,
    multiprocess_mode="livemax",
)
LAG = Gauge(
    "callbridge_webhook_lag_events",
    "Events of the subscription's call centers after its cursor, per subscription.",
    _LABELS,
    multiprocess_mode="livemax",
)


def process_owner() -> str:
    """This process's name on the leases it holds."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    def __init__(self, database: Database, settings: Settings, clock: Clock) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.owner = process_owner()
        self._workers: dict[int, tuple[SubscriptionWorker, asyncio.Task[None]]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhooks:dispatch")

    async def stop(self) -> None:
        """Let each delivery in flight finish and settle (briefly), so that nothing is sent again by whichever
        process takes over; then end the tasks and give the leases back."""
        if self._task is not None:
            await stop_tasks([self._task])
        for worker, _ in self._workers.values():
            worker.stopping.set()
        tasks = [task for _, task in self._workers.values()]
        if tasks:
            await asyncio.wait(tasks, timeout=min(self.settings.webhook_timeout_seconds, 5.0) + 1)
        await stop_tasks(tasks)
        with contextlib.suppress(Exception):
            await store.release(self.database, list(self._workers), self.owner)
        self._workers.clear()

    async def _run(self) -> None:
        refreshed = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self._reconcile()
                if loop.time() - refreshed >= self.settings.webhook_poll_seconds * METRICS_POLLS:
                    await self.refresh_metrics()
                    refreshed = loop.time()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: try again
                log.warning("webhooks: reading subscriptions failed; retrying", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(max(self.settings.webhook_poll_seconds, 0.2))

    async def _reconcile(self) -> None:
        active = set(await store.active_ids(self.database))
        for subscription_id, (_, task) in list(self._workers.items()):
            if subscription_id not in active or task.done():
                if task.done() and not task.cancelled() and task.exception() is not None:
                    log.warning(
                        "webhooks: a delivery task failed", subscription=subscription_id, error=task.exception()
                    )
                task.cancel()
                del self._workers[subscription_id]
        for subscription_id in active - self._workers.keys():
            worker = SubscriptionWorker(subscription_id, self.owner, self.database, self.settings, self.clock)
            task = asyncio.create_task(_guarded(worker), name=f"webhooks:subscription:{subscription_id}")
            self._workers[subscription_id] = (worker, task)

    async def refresh_metrics(self) -> None:
        async with self.database.read_session() as session:
            found = await store.statuses(session, self.clock.now())
        for status in found:
            labels = (str(status.id), status.url)
            DELIVERED.labels(*labels).set(status.delivered)
            FAILED.labels(*labels).set(status.failed)
            RETRYING.labels(*labels).set(status.retrying)
            DEAD.labels(*labels).set(status.dead)
            OLDEST.labels(*labels).set(status.oldest_undelivered_age_seconds)
            LAG.labels(*labels).set(status.lag)


async def _guarded(worker: SubscriptionWorker) -> None:
    """A worker that fails (the database away mid-delivery) starts again after a pause."""
    while not worker.stopping.is_set():
        try:
            await worker.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("webhooks: delivery failed; restarting", subscription=worker.id, error=f"{exc!r}")
            await asyncio.sleep(worker.settings.webhook_poll_seconds * 2)
