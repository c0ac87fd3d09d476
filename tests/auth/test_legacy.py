"""The legacy profile reproduces the 2020-21 rules: aud required, at most 3 minutes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from callbridge.config import AuthProfile, Settings
from callbridge.kit.clock import FrozenClock
from tests.auth.conftest import OpenClient, assert_refused, whoami
from tests.conftest import TokenFactory

SCRT = "https://scrt.salesforce.com"


@pytest.fixture
async def legacy_client(
    open_client: OpenClient, database_url: str, clock: FrozenClock
) -> AsyncIterator[httpx2.AsyncClient]:
    async with open_client(Settings(database_url=database_url, auth_profile=AuthProfile.legacy), clock) as client:
        yield client


async def test_legacy_accepts_a_three_minute_token_with_aud(
    legacy_client: httpx2.AsyncClient, make_token: TokenFactory
) -> None:
    """aud = https://scrt.salesforce.com and exp 3 minutes after iat pass."""
    response = await whoami(legacy_client, make_token(ttl=180, aud=SCRT))
    assert response.status_code == 200, response.text


async def test_legacy_requires_aud(legacy_client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """Without aud the token is CLAIM_MISSING, naming aud."""
    body = assert_refused(await whoami(legacy_client, make_token(ttl=180)), "CLAIM_MISSING")
    assert "'aud'" in body["message"]


async def test_legacy_refuses_five_minutes(legacy_client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """The Lambdas' 5-minute token is too long for the legacy profile, and the reason gives the limit."""
    body = assert_refused(await whoami(legacy_client, make_token(ttl=300, aud=SCRT)), "TOKEN_LIFETIME_TOO_LONG")
    assert "180 s" in body["message"]


async def test_current_profile_accepts_what_legacy_refuses(
    client: httpx2.AsyncClient, make_token: TokenFactory
) -> None:
    """The same 5-minute token without aud is fine under the current profile."""
    response = await whoami(client, make_token(ttl=300))
    assert response.status_code == 200, response.text
