"""``python -m bench.workers``: single transcript POSTs on PostgreSQL with one worker process and with two
(``callbridge serve --workers 2``, events crossing them through the PostgreSQL broker), each on a fresh
database, measured as ``make bench`` measures its scenarios (wrk, one thread, 64 connections, a token per
request). Needs ``CALLBRIDGE_BENCH_POSTGRES`` (a server URL; throwaway databases are created there and dropped).

Server CPU is the whole process tree's (the workers are children of the ``serve`` process). Results go to
``bench/results/<timestamp>-workers.json``; a Markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import contact_center, report
from bench.run import CONNECTIONS, RESULTS, TRANSCRIPT_CALLS, postgres_database, python_client
from bench.server import Server, callbridge, cpu_seconds
from bench.tokens import mint_pools
from bench.wrk import pause, run_wrk
from callbridge.auth.certificates import new_key_pair

SETUPS = (
    ("1 worker, broker in process", 1, None),
    ("1 worker, PostgreSQL broker", 1, "postgresql"),
    ("2 workers, PostgreSQL broker", 2, "postgresql"),
)


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (the workers)."""
    total = cpu_seconds(pid)
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        total += tree_cpu(int(child))
    return total


def measure(name: str, workers: int, broker: str | None, server_url: str, seconds: float, work: Path) -> dict[str, Any]:
    pair = new_key_pair("bench")
    directory = work / name.replace(" ", "-").replace(",", "")
    directory.mkdir()
    config = contact_center.write_config(directory, pair.certificate_pem)
    sizes = {"setup": TRANSCRIPT_CALLS, "single": int(4_000 * (seconds + 1) * 2)}
    pools, _ = mint_pools(pair.private_key_pem, contact_center.ORG, contact_center.CALL_CENTER, sizes, directory)
    with postgres_database(server_url) as url:
        env = {**os.environ, "CALLBRIDGE_DATABASE_URL": url}
        if broker == "postgresql":
            env["CALLBRIDGE_BROKER_URL"] = make_url(url).set(drivername="postgresql").render_as_string(False)
        callbridge("migrate", env=env, cwd=directory)
        callbridge("apply", "-f", str(config), env=env, cwd=directory)
        with Server(env, directory, workers) as server:
            pause(1)
            python_client(server, "--tokens", str(pools["setup"]), "--prefix", "t-", "--create", str(TRANSCRIPT_CALLS))
            params: dict[str, str | int | Path] = {
                "prefix": "t-",
                "calls_from": 0,
                "calls": TRANSCRIPT_CALLS,
                "tokens": pools["single"],
                "run": "s",
            }
            warm = run_wrk(
                server.url, "message", seconds=1, connections=CONNECTIONS, server_pid=server.pid, params=params
            )
            pause()
            params = {**params, "start": 1 + warm.tokens_used, "run": "sm"}
            before = tree_cpu(server.pid)
            run = run_wrk(
                server.url, "message", seconds=seconds, connections=CONNECTIONS, server_pid=server.pid, params=params
            )
            server_cpu = tree_cpu(server.pid) - before
            result = run.as_dict() | {
                "server_cpu_s": round(server_cpu, 2),
                "server_cpu_us_per_request": round(server_cpu / run.requests * 1e6) if run.requests else None,
                "workers": workers,
                "broker": broker or "in process",
            }
            pause()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="Measured seconds per setup (after 1 s warm-up).")
    arguments = parser.parse_args()
    server_url = os.environ.get("CALLBRIDGE_BENCH_POSTGRES")
    if not server_url:
        raise SystemExit("set CALLBRIDGE_BENCH_POSTGRES to a PostgreSQL server URL")
    work = Path(tempfile.mkdtemp(prefix="callbridge-bench-workers-"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-workers"
    results: dict[str, Any] = {"id": stamp, "machine": report.machine(), "load_before": os.getloadavg(), "runs": {}}
    try:
        for name, workers, broker in SETUPS:
            results["runs"][name] = run = measure(name, workers, broker, server_url, arguments.seconds, work)
            print(f"{name}: {run['per_second']:,.0f}/s p50 {run['latency_ms']['p50']} ms", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    print("| setup | transcripts/s | p50 ms | p99 ms | errors | server CPU µs/request | wrk CPU s |")
    print("|---|---|---|---|---|---|---|")
    for name, run in results["runs"].items():
        latency = run["latency_ms"]
        print(
            f"| {name} | {run['per_second']:,.0f} | {latency['p50']} | {latency['p99']} | "
            f"{sum(run['errors'].values())} | {run['server_cpu_us_per_request']} | {run['client_cpu_s']} |"
        )
    print(f"results in bench/results/{stamp}.json")


if __name__ == "__main__":
    main()
