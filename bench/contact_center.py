"""The generated contact centre every scenario runs against: one org, one call center, 50 queues, 1,000 agents
in two queues each with a skill level, and a flow of one rule per queue plus a skills rule."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from callbridge.console.passwords import hash_password
from callbridge.kit.db import Database
from callbridge.models import Agent, AgentState

ORG = "00D000000000001AAA"
CALL_CENTER = "BenchCC"
DIALED_NUMBER = "+18005550100"
AGENTS = 1000
SUPERVISOR = "supervisor@bench.example.com"
SUPERVISOR_PASSWORD = "bench supervisor"  # a throwaway database's; cheap to verify (n=2**4)
QUEUES = 50


def config_yaml(certificate_file: str, *, agents: int = AGENTS, queues: int = QUEUES) -> str:
    """The ``callbridge apply`` file: the certificate file is relative to the YAML file."""
    lines = [
        "version: 1",
        "orgs:",
        f"  - id: {ORG}",
        "    call_centers:",
        f"      - api_name: {CALL_CENTER}",
        f"        certificates: [{certificate_file}]",
        "        phone_channels:",
        f'          - {{dialed_number: "{DIALED_NUMBER}", flow: Bench_Flow, fallback_queue: Q0}}',
        "    queues:",
        *(f"      - {{api_name: Q{q}, external_id: 'arn:aws:connect:bench:queue/q{q}'}}" for q in range(queues)),
        "    agents:",
    ]
    lines.append(
        f"      - {{username: {SUPERVISOR}, user_id: 005000000999999AAA, role: supervisor,"
        f" password_hash: '{hash_password(SUPERVISOR_PASSWORD, n=2**4)}'}}"
    )
    for a in range(agents):
        lines.append(
            f"      - {{username: agent{a}@bench.example.com, user_id: {agent_user_id(a)},"
            f" queues: [Q{a % queues}, Q{(a + 7) % queues}], skills: {{english: {a % 10}}}, capacity: 100000}}"
        )
    lines += ["    flows:", "      - api_name: Bench_Flow", "        rules:"]
    for q in range(queues):
        lines += [f"          - when: {{input.queue: Q{q}}}", f"            route: {{queue: Q{q}}}"]
    lines += ["          - route: {skills: {english: 8}}"]
    return "\n".join(lines) + "\n"


def agent_user_id(n: int) -> str:
    return f"005000000{n:06d}AAA"


def write_config(directory: Path, certificate_pem: str) -> Path:
    (directory / "bench-cert.pem").write_text(certificate_pem)
    path = directory / "contact-center.yaml"
    path.write_text(config_yaml("bench-cert.pem"))
    return path


async def make_agents_available(database_url: str) -> int:
    """Every configured agent signed in and Available, written straight into ``agent_states`` (the console's
    sign-in API is not there yet for a bench to drive)."""
    database = Database(database_url)
    try:
        now = datetime.now(UTC)
        async with database.write_session() as session:
            agents = (await session.execute(select(Agent.user_id, Agent.org_id))).all()
            for user_id, org_id in agents:
                session.add(
                    AgentState(
                        user_id=user_id,
                        org_id=org_id,
                        status="Available",
                        capacity_used=0,
                        idle_since=now,
                        status_changed_at=now,
                    )
                )
            await session.commit()
        return len(agents)
    finally:
        await database.dispose()
