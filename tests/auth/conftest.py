"""A tiny app with one route protected by ``authorize``, and helpers to forge tokens the fixtures cannot."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx2
import jwt
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from callbridge.auth.context import CallCenterContext
from callbridge.auth.dependencies import authorize
from callbridge.config import Settings
from callbridge.errors import CallbridgeError
from callbridge.events.broker import InProcessBroker
from callbridge.kit.clock import Clock, FrozenClock
from callbridge.kit.db import Database
from callbridge.kit.state import AppState
from callbridge.models import CallCenter, SeenTokenId
from tests.conftest import ORG_ID

WHOAMI = "/telephony/v1/whoami"

OpenClient = Callable[..., AbstractAsyncContextManager[httpx2.AsyncClient]]


def build_app(settings: Settings, clock: Clock) -> FastAPI:
    """Wired like ``create_app``: AppState in the lifespan, CallbridgeError rendered with its headers."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        app.state.callbridge = AppState(settings=settings, database=database, broker=InProcessBroker(), clock=clock)
        try:
            yield
        finally:
            await database.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.exception_handler(CallbridgeError)
    async def render(_request: Request, exc: CallbridgeError) -> JSONResponse:
        return JSONResponse(exc.body().model_dump(), status_code=exc.status_code, headers=exc.headers)

    @app.get(WHOAMI)
    async def whoami(context: CallCenterContext = Depends(authorize)) -> dict[str, Any]:
        return {
            "org_id": context.org_id,
            "call_center_id": context.call_center_id,
            "call_center_api_name": context.call_center_api_name,
            "jti": context.jti,
        }

    return app


@pytest.fixture
def clock() -> FrozenClock:
    """Pinned to the real time at the start of the test (the token fixtures sign with real time)."""
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def app(settings: Settings, clock: FrozenClock, call_centers: dict[str, CallCenter]) -> AsyncIterator[FastAPI]:
    application = build_app(settings, clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def open_client(call_centers: dict[str, CallCenter]) -> OpenClient:
    """Another app instance (its own Database) with the given settings and clock."""

    @asynccontextmanager
    async def opened(settings: Settings, clock: Clock) -> AsyncIterator[httpx2.AsyncClient]:
        application = build_app(settings, clock)
        async with application.router.lifespan_context(application):
            transport = httpx2.ASGITransport(app=application)
            async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
                yield http

    return opened


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def whoami(client: httpx2.AsyncClient, token: str) -> httpx2.Response:
    return await client.get(WHOAMI, headers=bearer(token))


def assert_refused(response: httpx2.Response, code: str) -> dict[str, Any]:
    """A 401 with the given code, a message, and the Bearer challenge."""
    assert response.status_code == 401, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["message"]
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    return body


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64url(json.dumps(value).encode())


def lambda_claims(**overrides: Any) -> dict[str, Any]:
    """Claims shaped like the Lambdas', valid now, for tokens built by hand."""
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, Any] = {"iat": now, "exp": now + 300, "iss": ORG_ID, "sub": "ConformanceCC", "jti": "j-1"}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims: dict[str, Any], key_pem: str, *, algorithm: str = "RS256", **headers: Any) -> str:
    """Any claim set, even one of the wrong types (PyJWT's encode would refuse some), signed properly."""
    return jwt.PyJWS().encode(json.dumps(claims).encode(), key_pem, algorithm=algorithm, headers=headers or None)


def forge_hs256(claims: dict[str, Any], secret: bytes) -> str:
    """The classic key-confusion forgery: HMAC-SHA256 keyed with the (public) certificate."""
    signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT'})}.{b64json(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def unsigned(claims: dict[str, Any], alg: str = "none") -> str:
    return f"{b64json({'alg': alg, 'typ': 'JWT'})}.{b64json(claims)}."


async def seen_token_rows(database_url: str) -> int:
    database = Database(database_url)
    try:
        async with database.read_session() as session:
            return int(await session.scalar(select(func.count()).select_from(SeenTokenId)) or 0)
    finally:
        await database.dispose()
