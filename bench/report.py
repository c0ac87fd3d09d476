"""What a bench run reports: the machine, the versions, and the markdown table of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import sqlite3
from importlib.metadata import version
from pathlib import Path
from typing import Any

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"

TARGETS = {
    "create_voice_call": ("create VoiceCall", ">= 1,000 /s"),
    "single_transcripts": ("single transcript POSTs", ">= 4,000 /s"),
    "bulk_transcripts": ("bulk transcripts", ">= 10,000 utterances/s"),
    "omniflow": ("omniFlow decision, 1,000 agents", "p99 <= 10 ms"),
    "mixed": ("mixed traffic (lifecycle)", "-"),
    "push": ("commit to console push at 2,000 utterances/s", "p99 <= 25 ms"),
    "memory": ("RSS with 10,000 open conversations", "<= 300 MB"),
    "webhooks": ("webhook events delivered to a local receiver, one `*` subscription", ">= 2,000 events/s"),
    "webhooks_cost": ("ingest cost of the webhook outbox", "< 10 %"),
}


def machine() -> dict[str, Any]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for package in ("callbridge", "fastapi", "uvicorn", "sqlalchemy", "pydantic", "aiosqlite", "asyncpg", "pyjwt"):
        found[package] = version(package)
    return found


def _ratio(value: float, yardstick: float) -> str:
    return f"{value / yardstick:.2f}" if yardstick else "-"


def backend_rows(backend: dict[str, Any]) -> list[str]:
    y = backend["yardstick"]
    y_rate, y1 = y["c64"]["per_second"], y["c1"]["latency_ms"]
    rows = [
        "| figure | result | target | ratio to yardstick | client CPU | server CPU | notes |",
        "|---|---|---|---|---|---|---|",
        f"| yardstick: GET /healthz, wrk -c64 | {y_rate:,.0f} req/s | - | 1.00 | "
        f"{y['c64']['client_cpu_s']} s | {_server(y['c64'])} | p50 {y['c64']['latency_ms']['p50']} ms, "
        f"p99 {y['c64']['latency_ms']['p99']} ms; at -c1: p50 {y1['p50']} ms, p99 {y1['p99']} ms |",
    ]
    for key in ("create_voice_call", "single_transcripts", "bulk_transcripts"):
        run = backend[key]
        name, target = TARGETS[key]
        value = f"{run['per_second']:,.0f} /s"
        if key == "bulk_transcripts":
            value = f"{run['utterances_per_second']:,.0f} utterances/s ({run['per_second']:,.0f} req/s)"
        notes = f"p50 {run['latency_ms']['p50']} ms, p99 {run['latency_ms']['p99']} ms; {_problems(run)}"
        rows.append(
            f"| {name} | {value} | {target} | {_ratio(run['per_second'], y_rate)} | {run['client_cpu_s']} s | "
            f"{_server(run)} | {notes} |"
        )
    omni = backend["omniflow"]
    o_ms = omni["latency_ms"]
    rows.append(
        f"| {TARGETS['omniflow'][0]} (wrk -c1) | p50 {o_ms['p50']} ms, p99 {o_ms['p99']} ms "
        f"| {TARGETS['omniflow'][1]} | p50 x{_ratio(omni['latency_ms']['p50'], y1['p50'])}, "
        f"p99 x{_ratio(omni['latency_ms']['p99'], y1['p99'])} | {omni['client_cpu_s']} s | {_server(omni)} "
        f"| {omni['per_second']:,.0f} decisions/s one at a time; {_problems(omni)} |"
    )
    mixed = backend["mixed"]
    steps = ", ".join(f"{k} p50 {v['p50']} / p99 {v['p99']} ms" for k, v in mixed["latency_ms"].items())
    failures = ", ".join(f"{k}: {v}" for k, v in mixed["failures"].items()) or "no failures"
    rows.append(
        f"| {TARGETS['mixed'][0]}, aiohttp, {mixed['concurrency']} calls at once | "
        f"{mixed['per_second']:,.0f} req/s ({mixed['calls_per_second']:,.0f} calls/s, "
        f"{mixed['utterances_per_second']:,.0f} utterances/s) | - | {_ratio(mixed['per_second'], y_rate)} | "
        f"{mixed['client_cpu_s']} s | {mixed['server_cpu_s']} s | {steps}; {failures} |"
    )
    push = backend["push"]
    p_ms = push["latency_ms"]
    received = push["received_per_console"]
    rows.append(
        f"| {TARGETS['push'][0]} ({push['consoles']} consoles) | p50 {p_ms['p50']} ms, p99 {p_ms['p99']} ms | "
        f"{TARGETS['push'][1]} | p99 x{_ratio(p_ms['p99'], y1['p99'])} | {push['client_cpu_s']} s | - | "
        f"{push['utterances_per_second']:,.0f} utterances/s sent in {push['requests']:,} bulk requests "
        f"({push['failed_requests']} failed); received {min(received):,} to {max(received):,} of "
        f"{push['expected_per_console']:,} per console; max {p_ms['max']} ms; measured from the batch's start "
        "(before its commit) to receipt |"
    )
    memory = backend["memory"]
    rows.append(
        f"| {TARGETS['memory'][0]} | {memory['rss_mb']} MB | {TARGETS['memory'][1]} | "
        f"{_ratio(memory['rss_mb'], memory['idle_rss_mb'])} x idle | - | - | "
        f"{memory['open_conversations']:,} open; idle after start {memory['idle_rss_mb']} MB, "
        f"peak over the whole run {memory['peak_rss_mb']} MB |"
    )
    return rows


def webhook_rows(run: dict[str, Any]) -> list[str]:
    """``bench.webhooks``: delivery rate while ingest runs, and what the subscription costs ingest."""
    with_, without = run["with_subscription"], run["without_subscription"]
    rate = run.get("offered_utterances_per_second")
    offered = f"{rate:,.0f}" if rate else "as many"
    return [
        "| figure | result | target | notes |",
        "|---|---|---|---|",
        f"| {TARGETS['webhooks'][0]} | {with_['delivered_per_second_overall']:,.0f} events/s from first to last "
        f"| {TARGETS['webhooks'][1]} | {with_['delivered_per_second_during_ingest']:,.0f} events/s while ingest ran; "
        f"{with_['delivered_total']:,} delivered, the backlog drained {with_['drain_seconds_after_ingest']} s after "
        "ingest stopped |",
        f"| {TARGETS['webhooks_cost'][0]} at {offered} utterances/s offered | {run['ingest_drop_percent']} % "
        f"| {TARGETS['webhooks_cost'][1]} | {without['utterances_per_second']:,.0f} utterances/s without a "
        f"subscription, {with_['utterances_per_second']:,.0f} with; {with_['seconds']} s each, fresh servers |",
    ]


def _server(run: dict[str, Any]) -> str:
    """The server's CPU time over the run, and per request (steadier than rates on a busy machine)."""
    return f"{run['server_cpu_s']} s ({run['server_cpu_us_per_request']} µs/req)"


def _problems(run: dict[str, Any]) -> str:
    errors = sum(run["errors"].values())
    parts = [f"{errors} errors" if errors else "no errors"]
    if run.get("token_repeats"):
        parts.append(f"{run['token_repeats']} requests reused a token")
    return ", ".join(parts)


def markdown(result: dict[str, Any]) -> str:
    m, v = result["machine"], result["versions"]
    lines = [
        START,
        f"Run `{result['id']}` ({result['results_file']}), reproduced with `{result['command']}`.",
        "",
        f"Machine: {m['cores']} cores, {m['cpu_model']}, {m['ram_gib']} GiB RAM, Linux {m['kernel']} "
        f"(load average at start {', '.join(str(x) for x in m['load_average_at_start'])}).",
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        f"Tokens: {result['tokens']['count']:,} distinct RS256 tokens (fresh jti each) minted in "
        f"{result['tokens']['seconds']} s by {result['tokens']['processes']} processes before the load.",
        "",
    ]
    for name, backend in result["backends"].items():
        lines += [
            f"### {name}",
            "",
            f"`callbridge apply` of the contact centre: {backend['apply_seconds']} s.",
            "",
            *backend_rows(backend),
            "",
        ]
    if "webhooks" in result:
        lines += ["### Webhooks (SQLite, `bench/webhooks.py`)", "", *webhook_rows(result["webhooks"]), ""]
    lines.append(END)
    return "\n".join(lines)


def update_doc(path: Path, section: str) -> None:
    """Replace the results section of docs/benchmarks.md (the prose around it stays)."""
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(head + section + tail)
