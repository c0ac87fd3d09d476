"""Push latency: utterances posted at a fixed rate, received on connected console WebSockets; for each
utterance, the time from its batch's ``occurredAt`` (taken when the writer starts the batch, before the
commit) to its receipt, so each figure is an upper bound of commit-to-receipt (target: p99 <= 25 ms at 2,000
utterances/s).

Utterances go as bulk requests (5 calls x 5 utterances, as Contact Lens's processor sends them), paced
evenly; ``--consoles`` supervisor consoles each receive every one. Run as its own process
(``python -m bench.push ...``) so its CPU time is its own; prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.contact_center import SUPERVISOR, SUPERVISOR_PASSWORD
from bench.mixed import Pool
from bench.tokens import read_pool

ENTRIES, PER_ENTRY = 5, 5
STREAM_PATH = "/console/v1/stream"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if ordered else float("nan")


def bulk_body(run: str, n: int, prefix: str, calls: int) -> dict[str, Any]:
    now = int(time.time() * 1000)
    entries = []
    for e in range(ENTRIES):
        key = f"{prefix}{(n * ENTRIES + e) % calls}"
        messages = [
            {
                "messageId": f"{run}-{n}-{e}-{m}",
                "startTime": now - 1500,
                "endTime": now,
                "content": f"Utterance {m} of entry {e}: the refund arrives in five days.",
                "participantId": "END_USER" if m % 2 == 0 else "VIRTUAL_AGENT",
                "senderType": "END_USER" if m % 2 == 0 else "VIRTUAL_AGENT",
            }
            for m in range(PER_ENTRY)
        ]
        entries.append({"vendorCallKey": key, "messages": messages})
    return {"entries": entries}


class Console:
    def __init__(self, run: str) -> None:
        self.run = run
        self.latencies_ms: list[float] = []
        self.hello = asyncio.Event()

    async def listen(self, http: aiohttp.ClientSession, token: str, stop: asyncio.Event) -> None:
        async with http.ws_connect(STREAM_PATH, headers={"Authorization": f"Bearer {token}"}) as ws:
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(ws.receive(), 1)
                except TimeoutError:
                    continue
                if message.type != aiohttp.WSMsgType.TEXT:
                    return
                received = time.time()
                event = json.loads(message.data)
                if event["type"] == "stream.hello":
                    self.hello.set()
                elif event["type"] == "transcript.accepted" and event["messageId"].startswith(self.run):
                    committed = datetime.fromisoformat(event["occurredAt"].replace("Z", "+00:00")).timestamp()
                    self.latencies_ms.append((received - committed) * 1000)


async def drive(url: str, pool: Pool, args: argparse.Namespace) -> dict[str, Any]:
    run = f"p{os.getpid()}"
    async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=64)) as http:
        signed = await http.post("/console/v1/session", json={"username": SUPERVISOR, "password": SUPERVISOR_PASSWORD})
        signed.raise_for_status()
        token = (await signed.json())["token"]
        stop = asyncio.Event()
        consoles = [Console(run) for _ in range(args.consoles)]
        listeners = [asyncio.ensure_future(c.listen(http, token, stop)) for c in consoles]
        await asyncio.wait_for(asyncio.gather(*(c.hello.wait() for c in consoles)), 10)

        interval = ENTRIES * PER_ENTRY / args.rate
        failures = 0
        sent = 0

        async def post(n: int) -> None:
            nonlocal failures
            body = bulk_body(run, n, args.prefix, args.calls)
            async with http.post("/telephony/v1/voiceCalls/messages", json=body, headers=pool.headers()) as response:
                await response.read()
                if response.status != 202:
                    failures += 1

        started = time.perf_counter()
        cpu_started = time.process_time()
        pending: set[asyncio.Task[None]] = set()
        while time.perf_counter() - started < args.seconds:
            due = started + sent * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.ensure_future(post(sent))
            pending.add(task)
            task.add_done_callback(pending.discard)
            sent += 1
        if pending:
            await asyncio.wait(pending)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(1)  # the last events in flight
        stop.set()
        await asyncio.gather(*listeners, return_exceptions=True)
        client_cpu = time.process_time() - cpu_started

    latencies = [ms for c in consoles for ms in c.latencies_ms]
    expected = sent * ENTRIES * PER_ENTRY
    return {
        "status": "measured",
        "utterances_per_second": round(expected / elapsed, 1),
        "target_rate": args.rate,
        "consoles": args.consoles,
        "requests": sent,
        "failed_requests": failures,
        "received_per_console": [len(c.latencies_ms) for c in consoles],
        "expected_per_console": expected,
        "latency_ms": {
            "p50": percentile(latencies, 0.50),
            "p90": percentile(latencies, 0.90),
            "p99": percentile(latencies, 0.99),
            "max": round(max(latencies), 2) if latencies else None,
        },
        "client_cpu_s": round(client_cpu, 2),
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--rate", type=float, default=2000.0, help="utterances per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--consoles", type=int, default=4)
    args = parser.parse_args()
    pool = Pool(read_pool(Path(args.tokens)))
    result = asyncio.run(drive(args.url, pool, args))
    result["token_repeats"] = pool.repeats
    print("BENCH_JSON " + json.dumps(result))


if __name__ == "__main__":
    main()
