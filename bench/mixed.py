"""Realistic mixed traffic, a simplified call lifecycle per simulated call: inbound create, omniFlow route, a
few utterances from both sides (one POST each, as kvsTranscriber sends them), then the update that closes
the call. ``concurrency`` calls run at once, back to back, for ``seconds``; each request carries the next
token of the pool. The simulator of a later issue replaces this.

Also ``--create N``: open N more calls (the memory scenario), ``concurrency`` requests at a time.
Run as its own process (``python -m bench.mixed ...``) so its CPU time is its own; prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.contact_center import CALL_CENTER, DIALED_NUMBER
from bench.tokens import read_pool

STEPS = ("create", "omniFlow", "utterance", "close")


class Pool:
    def __init__(self, tokens: list[str]) -> None:
        self._tokens = tokens
        self.used = 0
        self.repeats = 0

    def headers(self) -> dict[str, str]:
        if self.used >= len(self._tokens):
            self.repeats += 1
        token = self._tokens[self.used % len(self._tokens)]
        self.used += 1
        return {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Telephony-Provider-Name": "amazon-connect",
        }


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def create_body(key: str, start: datetime) -> dict[str, Any]:
    return {
        "callCenterApiName": CALL_CENTER,
        "vendorCallKey": key,
        "to": DIALED_NUMBER,
        "from": "+14155550123",
        "initiationMethod": "Inbound",
        "startTime": iso(start),
        "callSubtype": "PSTN",
        "callAttributes": '{"Department__c":"Support"}',
        "participants": [{"participantKey": "+14155550123", "type": "END_USER"}],
    }


class Lifecycle:
    def __init__(self, http: aiohttp.ClientSession, pool: Pool, prefix: str, utterances: int) -> None:
        self.http = http
        self.pool = pool
        self.prefix = prefix
        self.utterances = utterances
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.failures: dict[str, int] = defaultdict(int)
        self.calls = 0
        self.requests = 0
        self._next = 0

    async def _send(self, step: str, method: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        started = time.perf_counter()
        async with self.http.request(method, path, json=body, headers=self.pool.headers()) as response:
            data = await response.read()
            ok = response.status < 300
        self.latencies[step].append(time.perf_counter() - started)
        self.requests += 1
        if not ok:
            self.failures[f"{step}:{response.status}"] += 1
            return None
        parsed: dict[str, Any] = json.loads(data) if data else {}
        return parsed

    async def one_call(self) -> None:
        self._next += 1
        key = f"{self.prefix}{self._next}"
        start = datetime.now(UTC) - timedelta(seconds=1)
        if await self._send("create", "POST", "/telephony/v1/voiceCalls", create_body(key, start)) is None:
            return
        route = {"dialedNumber": DIALED_NUMBER, "flowInputParameters": {"queue": f"Q{self._next % 55}"}}
        await self._send("omniFlow", "PATCH", f"/telephony/v1/voiceCalls/{key}/omniFlow", route)
        for n in range(self.utterances):
            sender = ("END_USER", "VIRTUAL_AGENT")[n % 2]
            now_ms = int(time.time() * 1000)
            message = {
                "participantId": sender,
                "messageId": f"{key}-u{n}",
                "startTime": now_ms - 1200,
                "senderType": sender,
                "endTime": now_ms,
                "content": f"Utterance {n}: could you check the status of my order, please?",
            }
            await self._send("utterance", "POST", f"/telephony/v1/voiceCalls/{key}/messages", message)
        close = {
            "startTime": iso(start),
            "endTime": iso(datetime.now(UTC)),
            "disconnectReason": {"value": "CUSTOMER_DISCONNECT", "isError": False},
            "callCenterApiName": CALL_CENTER,
        }
        await self._send("close", "PATCH", f"/telephony/v1/voiceCalls/{key}", close)
        self.calls += 1


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2) if ordered else 0.0


async def mixed(url: str, pool: Pool, prefix: str, concurrency: int, seconds: float, utterances: int) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(url, connector=connector) as http:
        life = Lifecycle(http, pool, prefix, utterances)
        deadline = time.monotonic() + seconds

        async def caller() -> None:
            while time.monotonic() < deadline:
                await life.one_call()

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "seconds": round(elapsed, 2),
        "calls": life.calls,
        "calls_per_second": round(life.calls / elapsed, 1),
        "requests": life.requests,
        "per_second": round(life.requests / elapsed, 1),
        "utterances_per_second": round(len(life.latencies["utterance"]) / elapsed, 1),
        "latency_ms": {
            step: {"p50": percentile(life.latencies[step], 0.5), "p99": percentile(life.latencies[step], 0.99)}
            for step in STEPS
        },
        "failures": dict(life.failures),
        "concurrency": concurrency,
        "utterances_per_call": utterances,
    }


async def create_calls(url: str, pool: Pool, prefix: str, count: int, concurrency: int) -> dict[str, Any]:
    start = datetime.now(UTC) - timedelta(minutes=1)
    failures = 0
    queue = iter(range(count))

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal failures
        for n in queue:
            body = create_body(f"{prefix}{n}", start)
            async with http.post("/telephony/v1/voiceCalls", json=body, headers=pool.headers()) as response:
                await response.read()
                failures += response.status >= 300

    started = time.perf_counter()
    async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return {"created": count - failures, "failures": failures, "seconds": round(time.perf_counter() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--utterances", type=int, default=8)
    parser.add_argument("--create", type=int, default=0, help="Only open this many calls.")
    parser.add_argument("--skip", type=int, default=0, help="Start at this token of the pool.")
    arguments = parser.parse_args()
    pool = Pool(read_pool(Path(arguments.tokens))[arguments.skip :])
    if arguments.create:
        result = asyncio.run(
            create_calls(arguments.url, pool, arguments.prefix, arguments.create, arguments.concurrency)
        )
    else:
        result = asyncio.run(
            mixed(arguments.url, pool, arguments.prefix, arguments.concurrency, arguments.seconds, arguments.utterances)
        )
    usage = os.times()
    result |= {
        "tokens_used": pool.used,
        "token_repeats": pool.repeats,
        "client_cpu_s": round(usage.user + usage.system, 2),
    }
    print("BENCH_JSON " + json.dumps(result))


if __name__ == "__main__":
    main()
