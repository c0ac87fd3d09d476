"""Webhook delivery while ingest runs: ``python -m bench.webhooks [--seconds 10] [--rate 2500]``.

Two runs against a fresh ``callbridge serve`` each (SQLite in a temporary directory): bulk transcripts posted as
fast as ``--concurrency`` clients can, or at ``--rate`` utterances per second (5 calls x 5 utterances per
request, as Contact Lens's processor sends them); first with no subscription, then with one subscription for
every event type to a local receiver (aiohttp, in this process: it verifies nothing, counts and acknowledges).
Reports the ingest rate of both (the outbox's cost is their difference: the timeline is written either way),
the events delivered per second during ingest, and how long the backlog took to drain once ingest stopped.
Prints one JSON line (``BENCH_JSON {...}``). ``make bench`` runs it (5 s at 5,000 utterances/s); alone:
``python -m bench --only webhooks``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import jwt
from aiohttp import web

from bench.push import bulk_body
from bench.server import Server, callbridge
from callbridge.auth.certificates import new_key_pair

ORG = "00D5g000004BENCHEA"
CALL_CENTER = "BenchCC"
SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
UTTERANCES_PER_REQUEST = 25


def config(cert: Path, receiver_url: str | None) -> str:
    text = f"""version: 1
orgs:
  - id: {ORG}
    call_centers:
      - api_name: {CALL_CENTER}
        certificates: ["{cert}"]
"""
    if receiver_url:
        text += f"""    webhooks:
      - url: {receiver_url}
        events: ["*"]
        secret_env: BENCH_WEBHOOK_SECRET
"""
    return text


class Counter:
    def __init__(self) -> None:
        self.received = 0
        self.first: float | None = None
        self.last = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        now = time.perf_counter()
        self.first = self.first or now
        self.last = now
        self.received += 1
        return web.Response(status=204)


async def ingest(url: str, token: str, seconds: float, concurrency: int, calls: int, rate: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Telephony-Provider-Name": "amazon-connect"}
    run = uuid.uuid4().hex[:6]
    async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=concurrency * 2)) as http:
        for n in range(calls):
            body = {
                "callCenterApiName": CALL_CENTER,
                "vendorCallKey": f"w-{n}",
                "to": "+18005550199",
                "from": "+14155550123",
                "initiationMethod": "Inbound",
                "startTime": "2026-01-01T00:00:00Z",
                "participants": [{"participantKey": "+14155550123", "type": "END_USER"}],
            }
            async with http.post("/telephony/v1/voiceCalls", json=body, headers=headers) as response:
                assert response.status == 200, await response.text()
        sent = failures = 0
        started = time.perf_counter()

        async def client() -> None:
            nonlocal sent, failures
            while time.perf_counter() - started < seconds:
                n = sent
                sent += 1
                if rate:  # paced: request n is due at n * 25 / rate seconds
                    delay = started + n * UTTERANCES_PER_REQUEST / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                body = bulk_body(run, n, "w-", calls)
                async with http.post("/telephony/v1/voiceCalls/messages", json=body, headers=headers) as response:
                    await response.read()
                    if response.status != 202:
                        failures += 1

        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "requests": sent,
        "failed_requests": failures,
        "utterances_per_second": round(sent * UTTERANCES_PER_REQUEST / elapsed, 1),
        "seconds": round(elapsed, 2),
        "ended_at": time.perf_counter(),
    }


async def one_run(workdir: Path, subscribe: bool, args: argparse.Namespace) -> dict[str, Any]:
    counter = Counter()
    application = web.Application()
    application.router.add_post("/{tail:.*}", counter.handle)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    directory = workdir / ("with" if subscribe else "without")
    directory.mkdir()
    keys = new_key_pair("bench")
    (directory / "cert.pem").write_text(keys.certificate_pem)
    (directory / "cc.yaml").write_text(
        config(directory / "cert.pem", f"http://{host}:{port}/hooks" if subscribe else None)
    )
    env = {
        **os.environ,
        "CALLBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'callbridge.db'}",
        "BENCH_WEBHOOK_SECRET": SECRET,
    }
    callbridge("migrate", env=env, cwd=directory)
    callbridge("apply", "-f", str(directory / "cc.yaml"), env=env, cwd=directory)
    now = int(time.time())
    token = jwt.encode({"iss": ORG, "sub": CALL_CENTER, "iat": now, "exp": now + 3600}, keys.private_key_pem, "RS256")
    try:
        with Server(env, directory) as server:
            figures = await ingest(server.url, token, args.seconds, args.concurrency, args.calls, args.rate)
            ended = figures.pop("ended_at")
            during = counter.received
            if subscribe:
                deadline = time.perf_counter() + args.drain_timeout
                quiet_since = time.perf_counter()
                seen = counter.received
                while time.perf_counter() < deadline and time.perf_counter() - quiet_since < 2.0:
                    await asyncio.sleep(0.2)
                    if counter.received != seen:
                        seen, quiet_since = counter.received, time.perf_counter()
                figures["delivered_during_ingest"] = during
                figures["delivered_per_second_during_ingest"] = round(during / figures["seconds"], 1)
                figures["delivered_total"] = counter.received
                figures["drain_seconds_after_ingest"] = round(max(0.0, counter.last - ended), 2)
                span = counter.last - (counter.first or counter.last)
                figures["delivered_per_second_overall"] = round(counter.received / span, 1) if span else None
    finally:
        await runner.cleanup()
    return figures


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="callbridge-bench-webhooks-"))
    without = await one_run(workdir, False, args)
    with_subscription = await one_run(workdir, True, args)
    drop = 1 - with_subscription["utterances_per_second"] / without["utterances_per_second"]
    return {
        "scenario": "webhooks",
        "offered_utterances_per_second": args.rate,
        "without_subscription": without,
        "with_subscription": with_subscription,
        "ingest_drop_percent": round(drop * 100, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rate", type=float, default=0.0, help="utterances per second (0: as fast as possible)")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    args = parser.parse_args()
    print("BENCH_JSON " + json.dumps(asyncio.run(main_async(args))))


if __name__ == "__main__":
    main()
