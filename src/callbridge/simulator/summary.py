"""The end of a run: what happened, as a machine-readable model (``--json``) and as tables for a terminal."""

from __future__ import annotations

import math
from collections import Counter

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from rich.console import Console, Group
from rich.table import Table

from callbridge.simulator.stats import Outcome, RoutingOutcome, Stats


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)


class Latency(Model):
    """Milliseconds; ``None`` when nothing was measured."""

    count: int
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        if not seconds:
            return cls(count=0)
        ordered = sorted(seconds)

        def rank(q: float) -> float:
            return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000, 1)

        return cls(count=len(ordered), p50_ms=rank(0.5), p95_ms=rank(0.95), max_ms=rank(1.0))


class Utterances(Model):
    sent: int = Field(description="Distinct messageIds sent (a partial and its final count once).")
    accepted: int = Field(description="Entries the server stored, read back.")
    replaced: int = Field(description="Of those, entries a final segment replaced (version > 1).")
    dropped: dict[str, int] = Field(description="Drop records by reason, read back.")
    failed: int = Field(description="Sends that got an error answer (or a bulk entry refused).")


class Routing(Model):
    requests: int = Field(description="omniFlow, route and requestCallback requests that were answered.")
    outcomes: dict[str, int] = Field(description="accepted, abandoned (the caller hung up first), waiting.")
    offer: Latency = Field(description="Routing request sent -> routing.offered received by the agent.")
    accept: Latency = Field(description="routing.offered received -> accept answered (includes ring time).")


class HttpError(Model):
    status: str
    code: str
    count: int


class CallResult(Model):
    index: int
    lifecycle: str
    outcome: str | None = Field(description="None: the call never started.")
    vendor_call_key: str
    voice_call_ids: list[str]
    utterances: Utterances
    error: str | None = None


class Agents(Model):
    requested: int
    signed_in: int
    failures: list[str]


class Summary(Model):
    base_url: str
    seed: int
    run_id: str
    calls: int
    duration_seconds: float
    pace: float
    elapsed_seconds: float
    interrupted: bool
    agents: Agents
    lifecycles: dict[str, int]
    outcomes: dict[str, int] = Field(description="Calls by outcome; 'not started' when interrupted early.")
    legs: int = Field(description="VoiceCalls created (a transfer or consult adds one).")
    utterances: Utterances
    realtime_events: int
    post_call_events: int
    routing: Routing
    push: Latency = Field(description="Utterance sent -> transcript.accepted/replaced on the agent's console.")
    http_errors: list[HttpError]
    per_call: list[CallResult]


def summarize(
    stats: Stats,
    *,
    base_url: str,
    seed: int,
    run_id: str,
    duration: float,
    pace: float,
    elapsed: float,
    interrupted: bool,
) -> Summary:
    per_call = [
        CallResult(
            index=record.plan.index,
            lifecycle=record.plan.lifecycle.value,
            outcome=record.outcome.value if record.outcome else None,
            vendor_call_key=record.vendor_call_key,
            voice_call_ids=list(record.legs),
            utterances=Utterances(
                sent=len(record.sent),
                accepted=record.accepted,
                replaced=record.replaced,
                dropped=dict(sorted(record.dropped.items())),
                failed=record.send_failures,
            ),
            error=record.error,
        )
        for record in stats.calls
    ]
    dropped: Counter[str] = Counter()
    for record in stats.calls:
        dropped.update(record.dropped)
    routes = [route for record in stats.calls for route in record.routes]
    offered = [route for route in routes if route.offered_at is not None and route.accepted_at is not None]
    routing_outcomes = Counter(route.outcome.value for route in routes if route.outcome is not None)
    return Summary(
        base_url=base_url,
        seed=seed,
        run_id=run_id,
        calls=len(stats.calls),
        duration_seconds=duration,
        pace=pace,
        elapsed_seconds=round(elapsed, 1),
        interrupted=interrupted,
        agents=Agents(
            requested=stats.agents_requested, signed_in=stats.agents_signed_in, failures=stats.agent_failures
        ),
        lifecycles=dict(Counter(record.plan.lifecycle.value for record in stats.calls)),
        outcomes=dict(Counter(record.outcome.value if record.outcome else "not started" for record in stats.calls)),
        legs=sum(len(record.legs) for record in stats.calls),
        utterances=Utterances(
            sent=sum(len(record.sent) for record in stats.calls),
            accepted=sum(record.accepted for record in stats.calls),
            replaced=sum(record.replaced for record in stats.calls),
            dropped=dict(sorted(dropped.items())),
            failed=sum(record.send_failures for record in stats.calls),
        ),
        realtime_events=sum(record.realtime_events for record in stats.calls),
        post_call_events=sum(record.post_call_events for record in stats.calls),
        routing=Routing(
            requests=len(routes),
            outcomes={outcome.value: routing_outcomes[outcome.value] for outcome in RoutingOutcome},
            offer=Latency.of([r.offered_at - r.requested_at for r in offered if r.offered_at is not None]),
            accept=Latency.of([r.accepted_at - r.offered_at for r in offered if r.accepted_at and r.offered_at]),
        ),
        push=Latency.of(stats.push_latencies),
        http_errors=[
            HttpError(status=status, code=code, count=count)
            for (status, code), count in sorted(stats.errors.items(), key=lambda item: (-item[1], item[0]))
        ],
        per_call=per_call,
    )


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    return table


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def render(summary: Summary, console: Console) -> None:
    """The summary as tables."""
    state = "interrupted after" if summary.interrupted else "in"
    console.print(
        f"[bold]{summary.calls} calls[/bold] against {summary.base_url} {state} {summary.elapsed_seconds:.0f}s "
        f"(seed {summary.seed}, run {summary.run_id}, {summary.agents.signed_in} of {summary.agents.requested} "
        f"agents signed in, {summary.legs} VoiceCalls created)"
    )
    for failure in summary.agents.failures:
        console.print(f"[yellow]agent not signed in[/yellow] {failure}")

    outcomes = [o.value for o in Outcome if o.value in summary.outcomes] + [
        o for o in summary.outcomes if o not in {v.value for v in Outcome}
    ]
    calls = _table("Calls by lifecycle and outcome", "lifecycle", "calls", *outcomes)
    for lifecycle, count in sorted(summary.lifecycles.items()):
        row = Counter(c.outcome or "not started" for c in summary.per_call if c.lifecycle == lifecycle)
        calls.add_row(lifecycle, str(count), *(str(row[o] or "") for o in outcomes))
    calls.add_row("[bold]all[/bold]", str(summary.calls), *(str(summary.outcomes[o]) for o in outcomes))

    u = summary.utterances
    utterances = _table("Utterances", "", "count")
    utterances.add_row("sent", str(u.sent))
    utterances.add_row("accepted (stored)", str(u.accepted))
    utterances.add_row("  of which a partial replaced by its final", str(u.replaced))
    for reason, count in u.dropped.items():
        utterances.add_row(f"dropped: {reason}", str(count))
    utterances.add_row("failed to send", str(u.failed))
    utterances.add_row(
        "real-time signals / post-call events", f"{summary.realtime_events} / {summary.post_call_events}"
    )

    r = summary.routing
    latency = _table("Latency (ms)", "", "count", "p50", "p95", "max")
    for label, value in (
        ("routing: request → offer pushed", r.offer),
        ("routing: offer → accepted (ring time)", r.accept),
        ("push: utterance sent → on the console", summary.push),
    ):
        latency.add_row(label, str(value.count), _ms(value.p50_ms), _ms(value.p95_ms), _ms(value.max_ms))
    routing = _table("Routing requests", "outcome", "count")
    for outcome, count in r.outcomes.items():
        routing.add_row(outcome, str(count))
    routing.add_row("[bold]all[/bold]", str(r.requests))

    errors = _table("HTTP errors", "status", "code", "count")
    for error in summary.http_errors:
        errors.add_row(error.status, error.code, str(error.count))
    if not summary.http_errors:
        errors.add_row("none", "", "")
    console.print(Group(calls, utterances, routing, latency, errors))
