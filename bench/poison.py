"""One tenant's poison against another's throughput (issue 14): org B posts transcripts as fast as ``concurrency``
connections allow, first alone, then while org A sends ``rate`` requests per second of every kind of value no
backend can store (times past 64 bits, dates outside years 1..9999, nesting 900 deep, NUL and 60 KB path keys).
A control phase has org A send as many valid utterances instead, which tells the cost of the poison itself from
that of any 20 more requests per second. Reports org B's throughput and p99 in each phase and the changes; the
target is under 10 %.

    .venv/bin/python -m bench.poison [--seconds 20] [--rounds 4] [--concurrency 16] [--rate 20] [--database-url URL]

Callbridge runs as its own process on a fresh database (SQLite in a temporary folder unless ``--database-url``
names an empty PostgreSQL database). Each org presents one token throughout: the same token again is allowed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import jwt

from bench.server import Server, callbridge, cpu_seconds
from callbridge.auth.certificates import KeyPair, new_key_pair

ORG_A, ORG_B = "00D000000000001AAA", "00D000000000002AAA"
CC_A, CC_B = "PoisonCC", "VictimCC"
CALLS_B = 32
URL = "/telephony/v1/voiceCalls"


def config_yaml() -> str:
    return "\n".join(
        [
            "version: 1",
            "orgs:",
            f"  - id: {ORG_A}",
            f"    call_centers: [{{api_name: {CC_A}, certificates: [a.pem]}}]",
            f"  - id: {ORG_B}",
            f"    call_centers: [{{api_name: {CC_B}, certificates: [b.pem]}}]",
            "",
        ]
    )


def token(keys: KeyPair, org: str, call_center: str) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": org, "sub": call_center, "iat": now, "exp": now + 3600, "jti": str(uuid.uuid1())}
    signed = jwt.encode(claims, keys.private_key_pem, algorithm="RS256")
    return {"Authorization": f"Bearer {signed}", "Content-Type": "application/json"}


def create_body(call_center: str, key: str, start: str) -> dict[str, Any]:
    return {
        "callCenterApiName": call_center,
        "vendorCallKey": key,
        "to": "+18005550100",
        "from": "+14155550123",
        "initiationMethod": "Inbound",
        "startTime": start,
        "participants": [{"participantKey": "+14155550123", "type": "END_USER"}],
    }


def utterance(message_id: str, start_ms: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "messageId": message_id,
        "startTime": start_ms,
        "endTime": start_ms + 1500,
        "content": "I would like to change my delivery address, please.",
        "participantId": "END_USER",
        "senderType": "END_USER",
    }
    body.update(overrides)
    return body


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def poison_requests(key: str, now_ms: int) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every kind of value no backend can store."""
    deep_event = {"type": "IntelligenceSignal__Category", "value": "x", "startTime": now_ms, "details": nested(256)}
    return [
        ("POST", f"{URL}/{key}/messages", utterance("p1", now_ms, startTime=9223372036854775808)),
        ("POST", f"{URL}/{key}/messages", utterance("p2", now_ms, endTime=-(2**70))),
        ("POST", f"{URL}/messages", {"entries": [{"vendorCallKey": key, "messages": [utterance("p3", 2**64)]}]}),
        ("PATCH", f"{URL}/{key}", {"enqueueTime": "0001-01-01T00:00:00+01:00"}),
        ("PATCH", f"{URL}/{key}", {"callAttributes": json.dumps(nested(900))}),
        ("POST", f"{URL}/{key}/messages", {**utterance("p4", now_ms), "extra": nested(500)}),
        ("POST", f"{URL}/abc%00def/messages", utterance("p5", now_ms)),
        ("POST", f"{URL}/{'k' * 60_000}/messages", utterance("p6", now_ms)),
        ("POST", f"{URL}/{key}/realtimeConversationEvents", {"service": "Bench", "events": [deep_event]}),
    ]


class Victim:
    """Org B's load: ``concurrency`` loops, each posting the next utterance as soon as the last was answered."""

    def __init__(self, http: aiohttp.ClientSession, headers: dict[str, str], keys: list[str]) -> None:
        self.http = http
        self.headers = headers
        self.keys = keys
        self.sent = 0

    async def run(self, seconds: float, concurrency: int) -> Phase:
        phase = Phase()
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            while time.perf_counter() < deadline:
                self.sent += 1
                key = self.keys[self.sent % len(self.keys)]
                body = utterance(f"m{self.sent}", now_ms())
                started = time.perf_counter()
                try:
                    async with self.http.post(f"{URL}/{key}/messages", json=body, headers=self.headers) as response:
                        await response.read()
                        phase.failures += response.status != 200
                except aiohttp.ClientError:  # the connection dropped: a failure, still timed
                    phase.failures += 1
                phase.latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        phase.seconds = time.perf_counter() - started
        return phase


@dataclass
class Phase:
    """Org B's answers over one or more stretches of time (and the server's CPU meanwhile)."""

    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def add(self, other: Phase) -> None:
        self.latencies += other.latencies
        self.failures += other.failures
        self.seconds += other.seconds
        self.cpu_seconds += other.cpu_seconds

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "requests": len(ordered),
            "failures": self.failures,
            "rate": round(len(ordered) / self.seconds, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 2),
            "server_cpu_ms_per_request": round(self.cpu_seconds / len(ordered) * 1000, 3),
        }


def valid_requests(key: str, now_ms: int) -> list[tuple[str, str, Any]]:
    """The control: org A's ordinary utterances, at the same rate as its poison."""
    return [("POST", f"{URL}/{key}/messages", utterance(f"ok{n}", now_ms + n)) for n in range(1000)]


async def org_a(
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    requests: list[tuple[str, str, Any]],
    rate: float,
    seconds: float,
) -> dict[str, int]:
    """Org A's requests at ``rate`` per second, cycling through ``requests`` (bodies serialised once, so the
    load generator's own CPU stays with org B's requests); the statuses answered."""
    encoded = [(method, path, json.dumps(body).encode()) for method, path, body in requests]
    statuses: dict[int, int] = {}
    tasks = []

    async def send(method: str, path: str, body: bytes) -> None:
        try:
            async with http.request(method, path, data=body, headers=headers) as response:
                await response.read()
                status = response.status
        except aiohttp.ClientError:
            status = 0  # the connection dropped
        statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    sent = 0
    while time.perf_counter() - started < seconds:
        tasks.append(asyncio.create_task(send(*encoded[sent % len(encoded)])))
        sent += 1
        await asyncio.sleep(max(0.0, started + sent / rate - time.perf_counter()))
    await asyncio.gather(*tasks)
    return {str(status): count for status, count in sorted(statuses.items())}


def now_ms() -> int:
    return int(time.time() * 1000)


async def measure(url: str, pid: int, keys_a: KeyPair, keys_b: KeyPair, options: argparse.Namespace) -> dict[str, Any]:
    """``options.seconds`` of each phase in ``options.rounds`` alternating stretches."""
    seconds, concurrency, rate, rounds = options.seconds, options.concurrency, options.rate, options.rounds
    start = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    headers_a, headers_b = token(keys_a, ORG_A, CC_A), token(keys_b, ORG_B, CC_B)
    connector = aiohttp.TCPConnector(limit=concurrency + 64)
    async with aiohttp.ClientSession(url, connector=connector) as http:
        keys = [f"victim-{n}" for n in range(CALLS_B)]
        for key in keys:
            async with http.post(URL, json=create_body(CC_B, key, start), headers=headers_b) as response:
                assert response.status == 200, await response.text()
        async with http.post(URL, json=create_body(CC_A, "poisoner", start), headers=headers_a) as response:
            assert response.status == 200, await response.text()
        victim = Victim(http, headers_b, keys)
        await victim.run(2, concurrency)  # warm-up
        phases = {"alone": Phase(), "with_valid_traffic": Phase(), "with_poison": Phase()}
        traffic = {
            "with_valid_traffic": valid_requests("poisoner", now_ms()),
            "with_poison": poison_requests("poisoner", now_ms()),
        }
        statuses: dict[str, dict[str, int]] = {name: {} for name in traffic}
        # Alternating stretches, so that the drift of a shared machine's load falls on every phase alike.
        for _ in range(rounds):
            for name, phase in phases.items():
                cpu = cpu_seconds(pid)
                if name == "alone":
                    stretch = await victim.run(seconds / rounds, concurrency)
                else:
                    stretch, sent = await asyncio.gather(
                        victim.run(seconds / rounds, concurrency),
                        org_a(http, headers_a, traffic[name], rate, seconds / rounds),
                    )
                    for status, count in sent.items():
                        statuses[name][status] = statuses[name].get(status, 0) + count
                stretch.cpu_seconds = cpu_seconds(pid) - cpu
                phase.add(stretch)
    summary = {name: phase.summary() for name, phase in phases.items()}
    before, control, after = summary["alone"], summary["with_valid_traffic"], summary["with_poison"]
    return {
        **summary,
        "org_a": {"rate": rate, "statuses": statuses},
        "throughput_change_pct": _change(after["rate"], before["rate"]),
        "p99_change_pct": _change(after["p99_ms"], before["p99_ms"]),
        "throughput_change_vs_valid_traffic_pct": _change(after["rate"], control["rate"]),
        "p99_change_vs_valid_traffic_pct": _change(after["p99_ms"], control["p99_ms"]),
    }


def _change(value: float, reference: float) -> float:
    return round((value - reference) / reference * 100, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=20, help="org A's poison requests per second")
    parser.add_argument("--rounds", type=int, default=4, help="alternating stretches of each phase")
    parser.add_argument("--database-url", help="an empty database (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callbridge-poison-") as folder:
        work = Path(folder)
        a, b = new_key_pair("poisoner"), new_key_pair("victim")
        (work / "a.pem").write_text(a.certificate_pem)
        (work / "b.pem").write_text(b.certificate_pem)
        (work / "contact-center.yaml").write_text(config_yaml())
        database_url = args.database_url or f"sqlite+aiosqlite:///{work / 'callbridge.db'}"
        env = {**os.environ, "CALLBRIDGE_DATABASE_URL": database_url}
        callbridge("migrate", env=env, cwd=work)
        callbridge("apply", "-f", str(work / "contact-center.yaml"), env=env, cwd=work)
        with Server(env, work) as server:
            result = asyncio.run(measure(server.url, server.pid, a, b, args))
    result["database"] = database_url.split(":", 1)[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
