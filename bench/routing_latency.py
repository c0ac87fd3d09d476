"""The omniFlow decision latency with 1,000 agents in 50 queues (issue: p99 <= 10 ms).

Builds a contact centre in a fresh SQLite file (migrated, configured with ``callbridge apply``), creates
calls, then times ``PATCH /voiceCalls/{id}/omniFlow`` one request at a time through the ASGI app, and the
routing service alone (flow evaluation, PSR creation and the immediate offer attempt, committed).
Run: ``.venv/bin/python bench/routing_latency.py [--calls N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import jwt

from callbridge.app import create_app
from callbridge.auth.certificates import new_key_pair
from callbridge.auth.context import CallCenterContext
from callbridge.config import Settings
from callbridge.contact_center import apply_file
from callbridge.kit import migrate
from callbridge.kit.db import Database
from callbridge.kit.state import AppState
from callbridge.kit.uow import Actor
from callbridge.models import AgentState
from callbridge.routing import service
from callbridge.routing.schemas import OmniFlowRequest
from callbridge.routing.tx import in_unit_of_work

ORG = "00D000000000001AAA"
CC = "BenchCC"
AGENTS, QUEUES = 1000, 50


def config(cert: str) -> str:
    lines = [
        "version: 1",
        "orgs:",
        f"  - id: {ORG}",
        "    call_centers:",
        f"      - api_name: {CC}",
        f"        certificates: [{cert}]",
        "        phone_channels:",
        '          - {dialed_number: "+18005550100", flow: Bench_Flow, fallback_queue: Q0}',
        "    queues:",
        *(f"      - {{api_name: Q{q}, external_id: arn:queue/q{q}}}" for q in range(QUEUES)),
        "    agents:",
    ]
    for a in range(AGENTS):
        user_id = f"005000000{a:06d}AAA"
        lines.append(
            f"      - {{username: agent{a}@bench.example.com, user_id: {user_id},"
            f" queues: [Q{a % QUEUES}, Q{(a + 7) % QUEUES}], skills: {{english: {a % 10}}}, capacity: 100000}}"
        )
    lines += ["    flows:", "      - api_name: Bench_Flow", "        rules:"]
    for q in range(QUEUES):
        lines += [f"          - when: {{input.queue: Q{q}}}", f"            route: {{queue: Q{q}}}"]
    lines += ["          - route: {skills: {english: 8}}"]
    return "\n".join(lines) + "\n"


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def ms(q: float) -> str:
        return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.2f}"

    mean = statistics.mean(ordered) * 1000
    return f"n={len(ordered)} mean={mean:.2f} ms p50={ms(0.5)} p95={ms(0.95)} p99={ms(0.99)} max={ms(1)}"


async def main(calls: int, url: str | None) -> None:
    directory = Path(tempfile.mkdtemp(prefix="callbridge-bench-"))
    url = url or f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    migrate.upgrade(url)
    pair = new_key_pair("bench")
    (directory / "cert.pem").write_text(pair.certificate_pem)
    (directory / "cc.yaml").write_text(config("cert.pem"))
    database = Database(url)
    await apply_file(database, directory / "cc.yaml")
    now = datetime.now(UTC)
    async with database.write_session() as session:  # every agent signed in and Available
        for a in range(AGENTS):
            user_id = f"005000000{a:06d}AAA"
            session.add(
                AgentState(
                    user_id=user_id,
                    org_id=ORG,
                    status="Available",
                    capacity_used=0,
                    idle_since=now,
                    status_changed_at=now,
                )
            )
        await session.commit()
    await database.dispose()

    app = create_app(Settings(database_url=url, routing_tick_seconds=0))
    async with app.router.lifespan_context(app):
        state: AppState = app.state.callbridge
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
            token = jwt.encode(
                {"iss": ORG, "sub": CC, "exp": int(time.time()) + 3600}, pair.private_key_pem, algorithm="RS256"
            )
            headers = {"Authorization": f"Bearer {token}"}
            ids = []
            for _ in range(2 * calls):
                body = {
                    "callCenterApiName": CC,
                    "vendorCallKey": str(uuid.uuid4()),
                    "to": "+18005550100",
                    "from": "+14155550123",
                    "initiationMethod": "Inbound",
                    "startTime": "2026-11-24T18:15:55Z",
                    "participants": [{"participantKey": "+14155550123", "type": "END_USER"}],
                }
                ids.append(
                    (await http.post("/telephony/v1/voiceCalls", json=body, headers=headers)).json()["voiceCallId"]
                )
            http_samples = []
            for n, call in enumerate(ids[:calls]):
                body = {"dialedNumber": "+18005550100", "flowInputParameters": {"queue": f"Q{n % (QUEUES + 5)}"}}
                started = time.perf_counter()
                response = await http.patch(f"/telephony/v1/voiceCalls/{call}/omniFlow", json=body, headers=headers)
                http_samples.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
            context = CallCenterContext(
                org_id=ORG, call_center_id=await _cc_id(state), call_center_api_name=CC, jti=None, expires_at=now
            )
            service_samples = []
            for n, call in enumerate(ids[calls:]):
                request = OmniFlowRequest.model_validate(
                    {"dialedNumber": "+18005550100", "flowInputParameters": {"queue": f"Q{n % (QUEUES + 5)}"}}
                )
                started = time.perf_counter()
                await in_unit_of_work(
                    state,
                    Actor("bench"),
                    lambda uow, c=call, r=request: service.omni_flow(uow, context, c, r, state.settings),
                )
                service_samples.append(time.perf_counter() - started)
        decide_samples = []
        async with state.database.read_session() as session:
            from callbridge.voice_calls import repository as call_repository

            for n, call in enumerate(ids[:calls]):
                request = OmniFlowRequest.model_validate(
                    {"dialedNumber": "+18005550100", "flowInputParameters": {"queue": f"Q{n % (QUEUES + 5)}"}}
                )
                started = time.perf_counter()
                found = await call_repository.resolve(session, context.call_center_id, call)
                assert found is not None
                decision = await service.decide_omni_flow(session, found, ORG, request, 20)
                decide_samples.append(time.perf_counter() - started)
                assert decision.decided
    print(f"{AGENTS} agents (all Available), {QUEUES} queues, a {QUEUES + 1}-rule flow, {url.split(':')[0]}")
    print(f"omniFlow over HTTP (auth, parse, decide, PSR, offer, commit): {percentiles(http_samples)}")
    print(f"omniFlow in the service (decide, PSR, offer, commit): {percentiles(service_samples)}")
    print(f"omniFlow decision alone (call, channel, flow, target look-ups): {percentiles(decide_samples)}")


async def _cc_id(state: AppState) -> str:
    from sqlalchemy import select

    from callbridge.models import CallCenter

    async with state.database.read_session() as session:
        return (await session.scalars(select(CallCenter.id).where(CallCenter.api_name == CC))).one()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--database-url", help="An empty database (default: a new SQLite file).")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.calls, arguments.database_url))
