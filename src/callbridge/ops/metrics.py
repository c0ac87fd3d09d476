"""Prometheus metrics: every series Callbridge exposes on ``GET /metrics``, and the broker subscriber that counts
what was published (transcripts, routing, intelligence) without touching the hot paths that publish it.

The metrics live in prometheus_client's default registry, so any module may update them (the console's push
channel moves ``CONSOLES_CONNECTED``). With ``callbridge serve --workers N`` each worker writes its values to
``PROMETHEUS_MULTIPROC_DIR`` and a scrape of any worker aggregates them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

import prometheus_client
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import multiprocess as prometheus_multiprocess

from callbridge.events.broker import Broker
from callbridge.events.schemas import (
    AnyEvent,
    IntelligencePostCallStored,
    IntelligenceSignal,
    RoutingOffered,
    RoutingOfferEnded,
    RoutingWorkClosed,
    TimelineRecorded,
    TranscriptAccepted,
    TranscriptDropped,
    TranscriptReplaced,
)

log = structlog.get_logger()

# ``*_created`` series double the output and nobody reads them here.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

UNMATCHED = "<unmatched>"  # the route label of requests no route matched (404s): raw paths would be unbounded

REQUESTS = Counter(
    "callbridge_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
REQUEST_DURATION = Histogram(
    "callbridge_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TRANSCRIPTS = Counter(
    "callbridge_transcripts",
    "Transcript utterances settled by the writer: accepted, replaced, unchanged, or dropped (reason: dropReason).",
    ["outcome", "reason"],
)
BULK_OVER_SALESFORCE_LIMITS = Counter(
    "callbridge_transcript_bulk_over_salesforce_limits",
    "Bulk transcript requests taken although over Salesforce's documented 5 entries x 5 messages (production "
    "could refuse them), by what was exceeded: entries, messages (per entry) or both.",
    ["exceeded"],
)
ROUTING_DECISIONS = Counter(
    "callbridge_routing_decisions",
    "Routing steps recorded in call timelines (flow evaluated, fallback taken, PSR created, failed, ...) by outcome.",
    ["step", "outcome"],
)
ROUTING_OFFERS = Counter(
    "callbridge_routing_offers",
    "Offers to agents by outcome: made, accepted, declined, expired, withdrawn.",
    ["outcome"],
)
INTELLIGENCE_SIGNALS = Counter(
    "callbridge_intelligence_signals",
    "Real-time conversation intelligence signals received, by signal type.",
    ["signal_type"],
)
INTELLIGENCE_POST_CALL = Counter(
    "callbridge_intelligence_post_call_events",
    "Post-call conversation events received: stored, or duplicate (already stored).",
    ["outcome"],
)
EVENTS = Counter("callbridge_events", "Events published to the broker, by type.", ["type"])
CONSOLES_CONNECTED = Gauge(
    "callbridge_consoles_connected",
    "Agent and supervisor consoles connected to the push channel.",
    multiprocess_mode="livesum",
)
BROKER_LAG = Gauge(
    "callbridge_broker_lag_seconds",
    "How far behind the newest published event this process's broker subscription is (shared brokers).",
    multiprocess_mode="livemax",
)
LIMIT_REFUSALS = Counter(
    "callbridge_limit_refusals",
    "Requests (429) and bulk transcript entries (RESOURCE_EXHAUSTED) refused for being over a CALLBRIDGE_LIMITS "
    "limit, by limit: new_voice_calls, utterances.",
    ["limit"],
)
FAULTS_INJECTED = Counter(
    "callbridge_faults_injected",
    "Faults CALLBRIDGE_FAULTS injected, by fault: a status code (the request was answered with it unprocessed) "
    "or delay.",
    ["fault"],
)

# Children resolved once: ``labels()`` takes a lock and a dictionary lookup on every call.
_children: dict[tuple[int, tuple[str, ...]], Counter] = {}
_OFFER = "routing.offer_"
_ROUTING = "routing."


def _inc(metric: Counter, *labels: str, amount: float = 1) -> None:
    key = (id(metric), labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    child.inc(amount)


def count_limit_refusal(limit: str) -> None:
    _inc(LIMIT_REFUSALS, limit)


def count_fault(fault: str) -> None:
    _inc(FAULTS_INJECTED, fault)


def count(event: AnyEvent) -> None:
    """Count one published event in the series it concerns."""
    _inc(EVENTS, event.type)
    if isinstance(event, TranscriptAccepted):
        _inc(TRANSCRIPTS, "accepted", "")
    elif isinstance(event, TranscriptReplaced):
        _inc(TRANSCRIPTS, "replaced", "")
    elif isinstance(event, TranscriptDropped):
        _inc(TRANSCRIPTS, "dropped", event.drop_reason)
    elif isinstance(event, RoutingOffered):
        _inc(ROUTING_OFFERS, "made")
    elif isinstance(event, RoutingOfferEnded):
        _inc(ROUTING_OFFERS, event.outcome)
    elif isinstance(event, RoutingWorkClosed):
        _inc(ROUTING_DECISIONS, "work_closed", event.status)
    elif isinstance(event, TimelineRecorded):
        # Entries without a typed event of their own (and typed ones stored before it existed).
        if event.kind == "transcript.unchanged":
            _inc(TRANSCRIPTS, "unchanged", "")
        elif event.kind.startswith(_OFFER):
            _inc(ROUTING_OFFERS, event.kind.removeprefix(_OFFER))
        elif event.kind.startswith(_ROUTING):
            _inc(ROUTING_DECISIONS, event.kind.removeprefix(_ROUTING), event.outcome)
    elif isinstance(event, IntelligenceSignal):
        _inc(INTELLIGENCE_SIGNALS, event.signal_type)
    elif isinstance(event, IntelligencePostCallStored):
        _inc(INTELLIGENCE_POST_CALL, "stored", amount=event.stored)
        _inc(INTELLIGENCE_POST_CALL, "duplicate", amount=event.duplicates)


class EventMetrics:
    """A subscriber of this process's broker that counts every event it carries.

    Counting after the fact keeps the request paths free of metrics code: a publish costs one more queue slot
    per event, and the counting happens in batches a few times a second rather than on a wake-up per commit.
    Should more events arrive between two batches than the queue holds, the broker drops the oldest and the
    counters come out low; they never count an event twice.
    """

    def __init__(self, broker: Broker, max_queued: int = 50_000, interval: float = 0.1) -> None:
        self._broker = broker
        # This process's own events only: with a shared broker every process sees every event, and would count
        # each once per process.
        self._queue = broker.subscribe_local(max_queued)
        self._interval = interval
        self._task = asyncio.create_task(self._run(), name="callbridge-event-metrics")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self._count_queued()

    def _count_queued(self) -> None:
        while not self._queue.empty():
            event = self._queue.get_nowait()
            try:
                count(event)
            except Exception:  # a bug here must not stop the counting of later events
                log.exception("counting an event failed", type=event.type)

    async def stop(self) -> None:
        self._broker.unsubscribe(self._queue)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._count_queued()


def exposition() -> tuple[bytes, str]:
    """The text ``GET /metrics`` answers, and its content type: every worker's values when several share
    ``PROMETHEUS_MULTIPROC_DIR``, this process's otherwise."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return prometheus_client.generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return prometheus_client.generate_latest(registry), CONTENT_TYPE_LATEST


def process_exited() -> None:
    """Forget this worker's live gauges (consoles connected, broker lag) when it stops."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        prometheus_multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
