"""Shared fixtures: a migrated SQLite file per test, a seeded call center, tokens, and the app over HTTP."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from callbridge.app import create_app
from callbridge.auth.certificates import KeyPair, new_key_pair, parse_pem
from callbridge.config import Settings
from callbridge.kit import ids, migrate
from callbridge.kit.clock import SystemClock
from callbridge.kit.db import Database
from callbridge.models import CallCenter, Certificate, Organization

ORG_ID = "00DXX000000CONFAAA"
CALL_CENTER = "ConformanceCC"
OTHER_CALL_CENTER = "OtherCC"
PAYLOADS = Path(__file__).parent / "fixtures" / "payloads"


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrations run once; each test gets a copy of the resulting file."""
    path = tmp_path_factory.mktemp("template") / "callbridge.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


# Set to a PostgreSQL server URL (postgresql+asyncpg://user@host:port/db) to run the suite on PostgreSQL:
# each test then gets its own database, cloned from one migrated template.
POSTGRES_URL = os.environ.get("CALLBRIDGE_TEST_POSTGRES_URL")


async def _postgres_admin(*statements: str) -> None:
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL)
    connection = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
    )
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _postgres_database(name: str) -> str:
    assert POSTGRES_URL is not None
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    if POSTGRES_URL is None:
        yield None
        return
    name = f"callbridge_template_{os.getpid()}"
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    migrate.upgrade(_postgres_database(name))
    yield name
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(tmp_path: Path, template_database: Path, postgres_template: str | None) -> Iterator[str]:
    if postgres_template is None:
        path = tmp_path / "callbridge.db"
        shutil.copyfile(template_database, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"callbridge_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    yield _postgres_database(name)
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Set to a shared broker's URL (redis://host:port/db, postgresql://...) to run the apps under test on that broker
# (.ci/run's PostgreSQL leg sets it): the settings' broker_url (CALLBRIDGE_BROKER_URL).
BROKER_URL = os.environ.get("CALLBRIDGE_TEST_BROKER_URL")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, broker_url=BROKER_URL)


@pytest.fixture(scope="session")
def key_pair() -> KeyPair:
    return new_key_pair("conformance")


@pytest.fixture(scope="session")
def other_key_pair() -> KeyPair:
    return new_key_pair("other")


async def seed_call_center(database_url: str, org_id: str, api_name: str, certificate_pems: list[str]) -> CallCenter:
    """Insert an org (if new), a call center and its certificates directly, bypassing ``apply``."""
    database = Database(database_url)
    try:
        async with database.write_session() as session:
            org_key = ids.to_18(org_id)
            if await session.get(Organization, org_key) is None:
                session.add(Organization(id=org_key, id15=org_id[:15]))
            call_center = CallCenter(
                id=ids.stable_id(ids.CALL_CENTER, org_key, api_name), org_id=org_key, api_name=api_name
            )
            session.add(call_center)
            await session.flush()
            for pem in certificate_pems:
                parsed = parse_pem(pem)
                session.add(
                    Certificate(
                        call_center_id=call_center.id,
                        fingerprint_sha256=parsed.fingerprint_sha256,
                        kind=parsed.kind,
                        pem=parsed.pem,
                        source="inline",
                        subject=parsed.subject,
                        key_bits=parsed.key_bits,
                        not_before=parsed.not_before,
                        not_after=parsed.not_after,
                    )
                )
            await session.commit()
            return call_center
    finally:
        await database.dispose()


@pytest.fixture
async def call_centers(database_url: str, key_pair: KeyPair, other_key_pair: KeyPair) -> dict[str, CallCenter]:
    """ConformanceCC (trusting ``key_pair``) and OtherCC (trusting ``other_key_pair``) in one org."""
    return {
        CALL_CENTER: await seed_call_center(database_url, ORG_ID, CALL_CENTER, [key_pair.certificate_pem]),
        OTHER_CALL_CENTER: await seed_call_center(
            database_url, ORG_ID, OTHER_CALL_CENTER, [other_key_pair.certificate_pem]
        ),
    }


@dataclass
class TokenFactory:
    key_pair: KeyPair

    def __call__(
        self,
        *,
        iss: str = ORG_ID,
        sub: str = CALL_CENTER,
        ttl: int = 300,
        jti: str | bool | None = True,
        key_pem: str | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A token signed the way the Amazon Connect Lambdas sign theirs (fresh jti by default)."""
        now = int(datetime.now(UTC).timestamp())
        payload: dict[str, Any] = {"iss": iss, "sub": sub, "iat": now, "exp": now + ttl}
        if jti is True:
            payload["jti"] = str(uuid.uuid1())
        elif isinstance(jti, str):
            payload["jti"] = jti
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key_pem or self.key_pair.private_key_pem, algorithm="RS256", headers=headers)


@pytest.fixture
def make_token(key_pair: KeyPair) -> TokenFactory:
    return TokenFactory(key_pair)


@pytest.fixture
def other_token(other_key_pair: KeyPair) -> Callable[..., str]:
    factory = TokenFactory(other_key_pair)
    return lambda **kw: factory(sub=OTHER_CALL_CENTER, **kw)


@pytest.fixture
async def app(settings: Settings, call_centers: dict[str, CallCenter]) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=SystemClock())
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    """Real HTTP semantics through the ASGI app (no network)."""
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
        yield http


@pytest.fixture
def auth(make_token: TokenFactory) -> Callable[..., dict[str, str]]:
    """Headers the Lambdas send: a fresh token, JSON, the provider name."""

    def headers(**token_claims: Any) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {make_token(**token_claims)}",
            "Content-Type": "application/json",
            "Telephony-Provider-Name": "amazon-connect",
        }

    return headers
