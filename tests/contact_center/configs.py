"""The issue's example config and a way to see every configuration row (shared with tests/cli)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from callbridge.kit.db import Database
from callbridge.models import Agent, CallCenter, Certificate, ConfigRevision, Flow, Organization, PhoneChannel, Queue

# The example, plus the Spanish queue its first flow rule routes to.
EXAMPLE = """\
orgs:
  - id: 00DXX000000CONFAAA
    call_centers:
      - api_name: ConformanceCC
        certificates: [keys/cert.pem]
        phone_channels:
          - dialed_number: "+14155550100"
            flow: Inbound_Support
            fallback_queue: Support
    queues:
      - api_name: Support
        external_id: "arn:aws:connect:us-east-1:111122223333:instance/i1/queue/q-support"
      - api_name: Spanish
        external_id: "arn:aws:connect:us-east-1:111122223333:instance/i1/queue/q-spanish"
    agents:
      - username: alice@example.com
        user_id: 005XX0000012345AAA
        external_id: "arn:aws:connect:us-east-1:111122223333:instance/i1/agent/a-alice"
        queues: [Support]
        skills: {english: 5}
        capacity: 100
    flows:
      - api_name: Inbound_Support
        rules:
          - when: {input.language: es}
            route: {queue: Spanish}
          - route: {queue: Support}
"""

CONFIG_TABLES = (Organization, CallCenter, Certificate, PhoneChannel, Queue, Agent, Flow, ConfigRevision)


async def dump(database: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of the configuration tables, in a stable order: to compare the database before and after."""
    rows: dict[str, list[dict[str, Any]]] = {}
    async with database.read_session() as session:
        for model in CONFIG_TABLES:
            columns = [column.key for column in model.__table__.columns]
            found = [{key: getattr(row, key) for key in columns} for row in await session.scalars(select(model))]
            rows[model.__tablename__] = sorted(found, key=repr)
    return rows
