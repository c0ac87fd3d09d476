"""The omniFlow decision latency with 1,000 agents in 50 queues (issue: p99 <= 10 ms).

Builds a contact centre in a fresh SQLite file (migrated, configured with ``callbridge apply``), creates
calls, then times ``PATCH /voiceCalls/{id}/omniFlow`` one request at a time through the ASGI app (each with a
fresh token, as the Lambdas send them: verified and recorded in the replay memory), and the
routing service alone (flow evaluation, PSR creation and the immediate offer attempt, committed), and the
decision alone (reads only). Each phase reports wall-clock percentiles and the process's CPU time per
decision, which moves much less than the wall clock on a busy machine.
Run: ``.venv/bin/python bench/routing_latency.py [--calls N] [--profile FILE]``; ``--profile`` writes the
cProfile statistics of the service phase (read them with ``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import jwt
from sqlalchemy import select

from callbridge.app import create_app
from callbridge.auth.certificates import new_key_pair
from callbridge.auth.context import CallCenterContext
from callbridge.config import Settings
from callbridge.contact_center import apply_file
from callbridge.kit import migrate
from callbridge.kit.db import Database
from callbridge.kit.state import AppState
from callbridge.kit.uow import Actor, UnitOfWork
from callbridge.models import AgentState, CallCenter
from callbridge.routing import service
from callbridge.routing.errors import RoutingFailed
from callbridge.routing.schemas import OmniFlowRequest, OmniFlowResult
from callbridge.routing.tx import in_unit_of_work
from callbridge.voice_calls import repository as call_repository

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


def token(private_key_pem: str) -> str:
    """A token shaped like the Lambdas' (RS256, a fresh jti)."""
    now = int(time.time())
    claims = {"iss": ORG, "sub": CC, "iat": now, "exp": now + 3600, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, private_key_pem, algorithm="RS256")


def omni_flow_body(n: int) -> dict[str, Any]:
    """The n-th request: a queue rule, or (5 in 55) no queue rule matches and the skills rule routes."""
    return {"dialedNumber": "+18005550100", "flowInputParameters": {"queue": f"Q{n % (QUEUES + 5)}"}}


@dataclass
class Samples:
    """Wall-clock and CPU seconds of each timed step."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    async def time(self, step: Awaitable[Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = await step
        self.cpu.append(time.process_time() - cpu)
        self.wall.append(time.perf_counter() - wall)
        return result

    def summary(self) -> str:
        ordered = sorted(self.wall)

        def ms(q: float) -> str:
            return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.2f}"

        mean = statistics.mean(ordered) * 1000
        cpu = statistics.mean(self.cpu) * 1000
        return (
            f"n={len(ordered)} mean={mean:.2f} ms p50={ms(0.5)} p95={ms(0.95)} p99={ms(0.99)} max={ms(1)}; "
            f"CPU {cpu:.2f} ms per decision"
        )


async def build(directory: Path, url: str, cert_pem: str) -> None:
    """Migrate, apply the contact centre and sign every agent in, Available."""
    migrate.upgrade(url)
    (directory / "cert.pem").write_text(cert_pem)
    (directory / "cc.yaml").write_text(config("cert.pem"))
    database = Database(url)
    await apply_file(database, directory / "cc.yaml")
    now = datetime.now(UTC)
    async with database.write_session() as session:
        for a in range(AGENTS):
            session.add(
                AgentState(
                    user_id=f"005000000{a:06d}AAA",
                    org_id=ORG,
                    status="Available",
                    capacity_used=0,
                    idle_since=now,
                    status_changed_at=now,
                )
            )
        await session.commit()
    await database.dispose()


def omni_flow_step(
    context: CallCenterContext, call: str, request: OmniFlowRequest, settings: Settings
) -> Callable[[UnitOfWork], Awaitable[OmniFlowResult | RoutingFailed]]:
    def step(uow: UnitOfWork) -> Awaitable[OmniFlowResult | RoutingFailed]:
        return service.omni_flow(uow, context, call, request, settings)

    return step


async def main(calls: int, url: str | None, profile: Path | None) -> None:
    directory = Path(tempfile.mkdtemp(prefix="callbridge-bench-"))
    url = url or f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    pair = new_key_pair("bench")
    await build(directory, url, pair.certificate_pem)

    app = create_app(Settings(database_url=url, routing_tick_seconds=0))
    over_http, in_service, deciding = Samples(), Samples(), Samples()
    async with app.router.lifespan_context(app):
        state: AppState = app.state.callbridge
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
            headers = {"Authorization": f"Bearer {token(pair.private_key_pem)}"}
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
                created = await http.post("/telephony/v1/voiceCalls", json=body, headers=headers)
                ids.append(created.json()["voiceCallId"])
            # A fresh token (jti) per request, as the Lambdas send them: each is verified and recorded in the
            # replay memory before the answer, as in production.
            fresh = [{"Authorization": f"Bearer {token(pair.private_key_pem)}"} for _ in range(calls)]
            for n, call in enumerate(ids[:calls]):
                path = f"/telephony/v1/voiceCalls/{call}/omniFlow"
                response = await over_http.time(http.patch(path, json=omni_flow_body(n), headers=fresh[n]))
                assert response.status_code == 200, response.text
        context = CallCenterContext(
            org_id=ORG,
            call_center_id=await _cc_id(state),
            call_center_api_name=CC,
            jti=None,
            expires_at=datetime.now(UTC),
        )
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        for n, call in enumerate(ids[calls:]):
            request = OmniFlowRequest.model_validate(omni_flow_body(n))
            step = omni_flow_step(context, call, request, state.settings)
            await in_service.time(in_unit_of_work(state, Actor("bench"), step))
        if profiler and profile:
            profiler.disable()
            profiler.dump_stats(profile)
        async with state.database.read_session() as session:
            for n, call in enumerate(ids[:calls]):
                request = OmniFlowRequest.model_validate(omni_flow_body(n))

                async def decide(call: str = call, request: OmniFlowRequest = request) -> None:
                    found = await call_repository.resolve(session, context.call_center_id, call)
                    assert found is not None
                    decision = await service.decide_omni_flow(session, found, ORG, request, 20)
                    assert decision.decided

                await deciding.time(decide())
    print(f"{AGENTS} agents (all Available), {QUEUES} queues, a {QUEUES + 1}-rule flow, {url.split(':')[0]}")
    print(f"omniFlow over HTTP (auth, parse, decide, PSR, offer, commit): {over_http.summary()}")
    print(f"omniFlow in the service (decide, PSR, offer, commit): {in_service.summary()}")
    print(f"omniFlow decision alone (call, channel, flow, target look-ups): {deciding.summary()}")


async def _cc_id(state: AppState) -> str:
    async with state.database.read_session() as session:
        return (await session.scalars(select(CallCenter.id).where(CallCenter.api_name == CC))).one()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--database-url", help="An empty database (default: a new SQLite file).")
    parser.add_argument("--profile", type=Path, help="Write cProfile statistics of the service phase here.")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.calls, arguments.database_url, arguments.profile))
