"""The authorization caches and the batched replay memory: what is served from memory, and what never is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI

from callbridge.auth.cache import AuthCache, auth_cache
from callbridge.auth.certificates import KeyPair
from callbridge.config import JtiPolicy, Settings
from callbridge.contact_center import apply_file
from callbridge.kit.clock import FrozenClock
from callbridge.kit.db import Database
from tests.auth.conftest import assert_refused, build_app, seen_token_rows, whoami
from tests.conftest import TokenFactory

ORG = "00DXX000000CACHAAA"
CACHED_CC = "CacheCC"


class Ticker:
    """A monotonic clock for the cache that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def serving(settings: Settings, clock: FrozenClock) -> AsyncIterator[tuple[httpx2.AsyncClient, FastAPI]]:
    application = build_app(settings, clock)
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
            yield http, application


def cache_of(application: FastAPI) -> AuthCache:
    database: Database = application.state.callbridge.database
    return auth_cache(database)


ApplyCertificates = Callable[[list[str]], Awaitable[None]]


@pytest.fixture
def apply_certificates(database_url: str, tmp_path: Path) -> ApplyCertificates:
    """``callbridge apply`` of a config whose call center CacheCC trusts exactly these certificates."""

    async def apply(pems: list[str]) -> None:
        names = []
        for n, pem in enumerate(pems):
            (tmp_path / f"cert{n}.pem").write_text(pem)
            names.append(f"cert{n}.pem")
        config = tmp_path / "config.yaml"
        config.write_text(
            f"version: 1\norgs:\n  - id: {ORG}\n    call_centers:\n"
            f"      - api_name: {CACHED_CC}\n        certificates: [{', '.join(names)}]\n"
        )

        database = Database(database_url)
        try:
            await apply_file(database, config)
        finally:
            await database.dispose()

    return apply


async def test_a_cached_token_is_refused_once_expired(
    settings: Settings, make_token: TokenFactory, clock: FrozenClock, call_centers: object
) -> None:
    """A token served from the cache is still TOKEN_EXPIRED once its exp plus the leeway has passed."""
    now = int(clock.now().timestamp())
    token = make_token(iat=now, exp=now + 120)
    async with serving(settings, clock) as (client, application):
        cache_of(application).ticker = Ticker()  # the cache's own clock stands still: its entries stay fresh
        assert (await whoami(client, token)).status_code == 200
        assert (await whoami(client, token)).status_code == 200
        clock.advance(seconds=120 + settings.clock_skew_seconds + 1)
        assert_refused(await whoami(client, token), "TOKEN_EXPIRED")


async def test_a_certificate_removed_by_apply_stops_verifying_within_the_window(
    settings: Settings,
    make_token: TokenFactory,
    key_pair: KeyPair,
    other_key_pair: KeyPair,
    clock: FrozenClock,
    apply_certificates: ApplyCertificates,
) -> None:
    """After ``apply`` drops a certificate, its tokens (even one already cached) are refused once the cache's
    window (auth_cache_seconds) has passed, and the remaining key's still pass."""
    await apply_certificates([key_pair.certificate_pem, other_key_pair.certificate_pem])
    old = make_token(iss=ORG, sub=CACHED_CC)
    async with serving(settings, clock) as (client, application):
        ticker = cache_of(application).ticker = Ticker()
        assert (await whoami(client, old)).status_code == 200

        await apply_certificates([other_key_pair.certificate_pem])
        ticker.now += settings.auth_cache_seconds

        assert_refused(await whoami(client, old), "SIGNATURE_INVALID")
        assert_refused(await whoami(client, make_token(iss=ORG, sub=CACHED_CC)), "SIGNATURE_INVALID")
        new = make_token(iss=ORG, sub=CACHED_CC, key_pem=other_key_pair.private_key_pem)
        response = await whoami(client, new)
        assert response.status_code == 200, response.text


async def test_a_new_certificate_is_trusted_once_the_window_has_passed(
    settings: Settings,
    make_token: TokenFactory,
    key_pair: KeyPair,
    other_key_pair: KeyPair,
    clock: FrozenClock,
    apply_certificates: ApplyCertificates,
) -> None:
    """A key added by ``apply`` verifies tokens once the cache has looked at the config again."""
    await apply_certificates([key_pair.certificate_pem])
    async with serving(settings, clock) as (client, application):
        ticker = cache_of(application).ticker = Ticker()
        assert (await whoami(client, make_token(iss=ORG, sub=CACHED_CC))).status_code == 200

        await apply_certificates([key_pair.certificate_pem, other_key_pair.certificate_pem])
        ticker.now += settings.auth_cache_seconds

        new = make_token(iss=ORG, sub=CACHED_CC, key_pem=other_key_pair.private_key_pem)
        response = await whoami(client, new)
        assert response.status_code == 200, response.text


async def test_single_use_never_serves_from_the_cache(
    database_url: str, make_token: TokenFactory, clock: FrozenClock, call_centers: object
) -> None:
    """Under single-use an accepted token is not kept, so its second presentation reaches the replay memory."""
    settings = Settings(database_url=database_url, jti_policy=JtiPolicy.single_use)
    token = make_token()
    async with serving(settings, clock) as (client, application):
        cache_of(application).ticker = Ticker()
        assert (await whoami(client, token)).status_code == 200
        assert cache_of(application).verified(token, settings, clock.now()) is None
        assert_refused(await whoami(client, token), "TOKEN_REPLAYED")


async def test_reuse_token_serves_the_same_token_from_the_cache(
    settings: Settings, make_token: TokenFactory, clock: FrozenClock, call_centers: object
) -> None:
    """Under reuse-token an accepted token is kept (the cache answers for it without the database)."""
    token = make_token()
    async with serving(settings, clock) as (client, application):
        cache_of(application).ticker = Ticker()
        assert (await whoami(client, token)).status_code == 200
        context = cache_of(application).verified(token, settings, clock.now())
        assert context is not None and context.call_center_api_name == "ConformanceCC"


async def test_replay_is_detected_across_two_app_instances(
    settings: Settings, make_token: TokenFactory, clock: FrozenClock, call_centers: object
) -> None:
    """A jti accepted (and cached) by one instance is TOKEN_REPLAYED in another token sent to a second one; the
    very same token still passes on both."""
    first = make_token(jti="shared-jti", ttl=300)
    second = make_token(jti="shared-jti", ttl=301)
    async with serving(settings, clock) as (one, _), serving(settings, clock) as (two, _):
        assert (await whoami(one, first)).status_code == 200
        assert (await whoami(one, first)).status_code == 200
        assert_refused(await whoami(two, second), "TOKEN_REPLAYED")
        assert (await whoami(two, first)).status_code == 200
        assert_refused(await whoami(one, second), "TOKEN_REPLAYED")


async def test_concurrent_first_sightings_are_each_recorded(
    settings: Settings, make_token: TokenFactory, clock: FrozenClock, database_url: str, call_centers: object
) -> None:
    """Many fresh jtis at once (written in shared transactions) are all accepted and all remembered; two tokens
    sharing a new jti in the same burst let exactly one through."""
    fresh = [make_token() for _ in range(30)]
    rivals = [make_token(jti="rival", ttl=300), make_token(jti="rival", ttl=301)]
    async with serving(settings, clock) as (client, _):
        responses = await asyncio.gather(*(whoami(client, token) for token in [*fresh, *rivals]))
    assert [r.status_code for r in responses[:30]] == [200] * 30
    assert sorted(r.status_code for r in responses[30:]) == [200, 401]
    assert await seen_token_rows(database_url) == 31


async def test_caching_off_reads_the_database_every_time(
    database_url: str, make_token: TokenFactory, clock: FrozenClock, call_centers: object
) -> None:
    """auth_cache_seconds = 0 keeps nothing in memory."""
    settings = Settings(database_url=database_url, auth_cache_seconds=0)
    token = make_token()
    async with serving(settings, clock) as (client, application):
        assert (await whoami(client, token)).status_code == 200
        assert (await whoami(client, token)).status_code == 200
        assert cache_of(application).verified(token, settings, clock.now()) is None
