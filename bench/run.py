"""``make bench``: start Callbridge as a process on a fresh database, apply the generated contact centre, and
measure every scenario in one run; results go to ``bench/results/<timestamp>.json`` and docs/benchmarks.md.

SQLite always; PostgreSQL too when ``CALLBRIDGE_BENCH_POSTGRES`` is a server URL (a throwaway database is
created there and dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench import contact_center, report
from bench.server import Server, callbridge, memory
from bench.tokens import mint_pools
from bench.wrk import WrkRun, pause, run_wrk
from callbridge.auth.certificates import KeyPair, new_key_pair
from callbridge.kit.db import Database
from callbridge.models import Conversation

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
OPEN_CONVERSATIONS = 10_000
CONNECTIONS = 64
TRANSCRIPT_CALLS = 1000  # the calls the transcript scenarios write to
OMNIFLOW_CALLS = 4000
PUSH_RATE = 2000  # utterances per second while consoles listen
WEBHOOK_RATE = 5000  # utterances per second offered while a webhook subscription delivers (Salesforce's limit)
WEBHOOK_SECONDS = 5  # of ingest per run (two runs, each on a fresh server, plus the drain): about 30 s in all


def pool_sizes(seconds: float) -> dict[str, int]:
    """Tokens per pool: room for one and a half times each target rate (a pool that runs out is reported)."""
    window = seconds + 1  # a one-second warm-up before each measured run
    return {
        "create": int(3_500 * window),
        "setup": TRANSCRIPT_CALLS + OMNIFLOW_CALLS,
        "memory": 8_000,
        "single": int(6_000 * window),
        "bulk": int(600 * window),
        "omniflow": OMNIFLOW_CALLS,
        "mixed": int(2_500 * (seconds + 3)),
        "push": int(PUSH_RATE / 25 * (seconds + 2)),
    }


def measured(
    server: Server, scenario: str, seconds: float, connections: int, params: dict[str, str | int | Path]
) -> tuple[WrkRun, WrkRun]:
    """A one-second warm-up, then the measured run, continuing the same token pool (and id sequence)."""
    warm = run_wrk(server.url, scenario, seconds=1, connections=connections, server_pid=server.pid, params=params)
    pause()
    used = warm.tokens_used
    params = {**params, "start": int(str(params.get("start", 1))) + used, "run": f"{params.get('run', 'r')}m"}
    if "first" in params:
        params["first"] = int(str(params["first"])) + used
    run = run_wrk(server.url, scenario, seconds=seconds, connections=connections, server_pid=server.pid, params=params)
    pause()
    return warm, run


def python_client(server: Server, *args: str) -> dict[str, Any]:
    """``python -m bench.mixed`` as its own process, so that its CPU time is its own."""
    return python_client_module("bench.mixed", server, *args)


def python_client_module(module: str, server: Server, *args: str) -> dict[str, Any]:
    return _bench_json(module, [sys.executable, "-m", module, "--url", server.url, *args])


def run_webhooks(seconds: float) -> dict[str, Any]:
    """``python -m bench.webhooks`` as its own process (it starts its own servers on fresh SQLite databases):
    ingest at WEBHOOK_RATE without, then with, a ``*`` subscription to a local receiver."""
    command = [sys.executable, "-m", "bench.webhooks", "--seconds", str(min(seconds, WEBHOOK_SECONDS))]
    return _bench_json("bench.webhooks", [*command, "--rate", str(WEBHOOK_RATE), "--drain-timeout", "15"])


def _bench_json(module: str, command: list[str]) -> dict[str, Any]:
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    line = next((x for x in output.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if output.returncode != 0 or line is None:
        raise RuntimeError(f"{' '.join(command[1:])} failed:\n{output.stdout}\n{output.stderr}")
    result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    return result


async def open_conversations(database_url: str) -> int:
    database = Database(database_url)
    try:
        async with database.read_session() as session:
            count = await session.scalar(select(func.count()).where(Conversation.end_time.is_(None)))
            return int(count or 0)
    finally:
        await database.dispose()


def run_backend(
    name: str, database_url: str, workdir: Path, config: Path, pools: dict[str, Path], seconds: float
) -> dict[str, Any]:
    env = {**os.environ, "CALLBRIDGE_DATABASE_URL": database_url}
    log = _logger(name)
    callbridge("migrate", env=env, cwd=workdir)
    started = time.perf_counter()
    callbridge("apply", "-f", str(config), env=env, cwd=workdir)
    apply_seconds = round(time.perf_counter() - started, 2)
    agents = asyncio.run(contact_center.make_agents_available(database_url))
    log(f"applied the contact centre in {apply_seconds} s; {agents} agents Available")
    result: dict[str, Any] = {"database": make_url(database_url).get_backend_name(), "apply_seconds": apply_seconds}
    with Server(env, workdir) as server:
        pause(1)
        idle = memory(server.pid)
        _, y64 = measured(server, "healthz", seconds, CONNECTIONS, {})
        _, y1 = measured(server, "healthz", min(seconds, 3), 1, {})
        result["yardstick"] = {"c64": y64.as_dict(), "c1": y1.as_dict()}
        log(f"yardstick {y64.rate:,.0f} req/s")

        start_time = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        params: dict[str, str | int | Path] = {
            "tokens": pools["create"],
            "prefix": "c-",
            "first": 0,
            "start_time": start_time,
            "run": "c",
        }
        _, create = measured(server, "create", seconds, CONNECTIONS, params)
        result["create_voice_call"] = create.as_dict()
        log(f"create VoiceCall {create.rate:,.0f} /s")

        setup_tokens = str(pools["setup"])
        python_client(server, "--tokens", setup_tokens, "--prefix", "t-", "--create", str(TRANSCRIPT_CALLS))
        calls: dict[str, str | int | Path] = {"prefix": "t-", "calls_from": 0, "calls": TRANSCRIPT_CALLS}
        _, single = measured(server, "message", seconds, CONNECTIONS, {**calls, "tokens": pools["single"], "run": "s"})
        result["single_transcripts"] = single.as_dict()
        log(f"single transcripts {single.rate:,.0f} /s")
        _, bulk = measured(server, "bulk", seconds, CONNECTIONS, {**calls, "tokens": pools["bulk"], "run": "b"})
        result["bulk_transcripts"] = bulk.as_dict() | {"utterances_per_second": round(bulk.rate * 25, 1)}
        log(f"bulk transcripts {bulk.rate * 25:,.0f} utterances/s")

        # The omniFlow calls are opened with the setup pool's remaining tokens.
        python_client(
            server,
            "--tokens",
            setup_tokens,
            "--prefix",
            "o-",
            "--create",
            str(OMNIFLOW_CALLS),
            "--skip",
            str(TRANSCRIPT_CALLS),
        )
        omni_params: dict[str, str | int | Path] = {"tokens": pools["omniflow"], "prefix": "o-", "first": 0}
        _, omni = measured(server, "omniflow", seconds, 1, omni_params)
        result["omniflow"] = omni.as_dict()
        log(f"omniFlow p50 {omni.latency_ms['p50']} ms p99 {omni.latency_ms['p99']} ms")

        open_now = asyncio.run(open_conversations(database_url))
        top_up = max(0, OPEN_CONVERSATIONS - open_now)
        if top_up:
            python_client(server, "--tokens", str(pools["memory"]), "--prefix", "m-", "--create", str(top_up))
        pause(1)
        opened = asyncio.run(open_conversations(database_url))
        held = memory(server.pid)
        result["memory"] = {
            "open_conversations": opened,
            "rss_mb": held.rss_mb,
            "idle_rss_mb": idle.rss_mb,
            "peak_rss_mb": held.peak_rss_mb,
        }
        log(f"RSS {held.rss_mb} MB with {opened:,} open conversations")

        cpu_before = _cpu(server.pid)
        mixed = python_client(
            server,
            "--tokens",
            str(pools["mixed"]),
            "--prefix",
            "x-",
            "--seconds",
            str(seconds + 3),
            "--concurrency",
            "64",
        )
        mixed["server_cpu_s"] = round(_cpu(server.pid) - cpu_before, 2)
        result["mixed"] = mixed
        log(f"mixed {mixed['per_second']:,.0f} req/s")
        push_run = python_client_module(
            "bench.push",
            server,
            "--tokens",
            str(pools["push"]),
            "--prefix",
            "t-",
            "--calls",
            str(TRANSCRIPT_CALLS),
            "--seconds",
            str(seconds),
            "--rate",
            str(PUSH_RATE),
        )
        result["push"] = push_run
        log(f"push p50 {push_run['latency_ms']['p50']} ms p99 {push_run['latency_ms']['p99']} ms")
        result["memory"]["peak_rss_mb"] = memory(server.pid).peak_rss_mb
        result["server_log_tail"] = server.log_tail(1500)
    return result


def _cpu(pid: int) -> float:
    from bench.server import cpu_seconds

    return cpu_seconds(pid)


def _logger(prefix: str) -> Any:
    began = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {prefix}: {message}", flush=True)

    return log


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A throwaway database on the server at ``server_url``, dropped afterwards."""
    url = make_url(server_url)
    name = f"callbridge_bench_{int(time.time())}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
        )
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5, help="Measured seconds per scenario (after 1 s warm-up).")
    parser.add_argument("--no-doc", action="store_true", help="Do not rewrite docs/benchmarks.md.")
    parser.add_argument("--label", default="", help="Added to the results file's name (e.g. before, after).")
    parser.add_argument("--keep", action="store_true", help="Keep the work directory (database, tokens, log).")
    parser.add_argument(
        "--only", choices=["webhooks"], help="Run this scenario alone (results file only; the doc is not rewritten)."
    )
    arguments = parser.parse_args()
    if arguments.only == "webhooks":
        return only_webhooks(arguments)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + (f"-{arguments.label}" if arguments.label else "")
    log = _logger("bench")
    workdir = Path(tempfile.mkdtemp(prefix="callbridge-bench-"))
    pair: KeyPair = new_key_pair("bench")
    config = contact_center.write_config(workdir, pair.certificate_pem)
    backends = [("SQLite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}")]
    postgres = os.environ.get("CALLBRIDGE_BENCH_POSTGRES")
    sizes = pool_sizes(arguments.seconds)
    log(f"minting {sum(sizes.values()) * (2 if postgres else 1):,} tokens")
    all_pools = {}
    mint_seconds, count, processes = 0.0, 0, 1
    for backend, _ in [*backends, *([("PostgreSQL", "")] if postgres else [])]:
        directory = workdir / backend
        directory.mkdir()
        files, minted = mint_pools(
            pair.private_key_pem, contact_center.ORG, contact_center.CALL_CENTER, sizes, directory
        )
        all_pools[backend] = files
        mint_seconds += minted.seconds
        count += minted.tokens
        processes = minted.processes
    log(f"minted {count:,} tokens in {mint_seconds:.1f} s")
    result: dict[str, Any] = {
        "id": stamp,
        "results_file": f"bench/results/{stamp}.json",
        "command": "make bench" + (" (CALLBRIDGE_BENCH_POSTGRES set)" if postgres else ""),
        "machine": report.machine(),
        "versions": report.versions(),
        "tokens": {"count": count, "seconds": round(mint_seconds, 1), "processes": processes, "ttl_seconds": 900},
        "backends": {},
    }
    result["backends"]["SQLite"] = run_backend(
        "SQLite", backends[0][1], workdir, config, all_pools["SQLite"], arguments.seconds
    )
    if postgres:
        with postgres_database(postgres) as url:
            result["backends"]["PostgreSQL"] = run_backend(
                "PostgreSQL", url, workdir, config, all_pools["PostgreSQL"], arguments.seconds
            )
    result["webhooks"] = run_webhooks(arguments.seconds)
    log(f"webhooks: {result['webhooks']['with_subscription']['delivered_per_second_overall']} events/s delivered")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    section = report.markdown(result)
    if not arguments.no_doc:
        report.update_doc(DOC, section)
    print(section)
    log(f"results in bench/results/{stamp}.json")
    if arguments.keep:
        log(f"work directory kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def only_webhooks(arguments: argparse.Namespace) -> None:
    label = "-webhooks" + (f"-{arguments.label}" if arguments.label else "")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + label
    result: dict[str, Any] = {
        "id": stamp,
        "command": "python -m bench --only webhooks",
        "machine": report.machine(),
        "webhooks": run_webhooks(arguments.seconds),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    print("\n".join(report.webhook_rows(result["webhooks"])))
    _logger("bench")(f"results in bench/results/{stamp}.json")
