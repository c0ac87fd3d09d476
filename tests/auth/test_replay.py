"""The replay memory: the same token may come again, the same jti in another token may not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx2
import pytest

from callbridge.config import JtiPolicy, Settings
from callbridge.kit.clock import FrozenClock
from tests.auth.conftest import OpenClient, assert_refused, seen_token_rows, whoami
from tests.conftest import TokenFactory


@pytest.fixture
async def single_use_client(
    open_client: OpenClient, database_url: str, clock: FrozenClock
) -> AsyncIterator[httpx2.AsyncClient]:
    settings = Settings(database_url=database_url, jti_policy=JtiPolicy.single_use)
    async with open_client(settings, clock) as client:
        yield client


async def test_same_token_twice_is_accepted_under_reuse_token(
    client: httpx2.AsyncClient, make_token: TokenFactory
) -> None:
    """Presenting the very same token again is allowed by default (Salesforce's rotator reuses tokens)."""
    token = make_token()
    assert (await whoami(client, token)).status_code == 200
    response = await whoami(client, token)
    assert response.status_code == 200, response.text


async def test_same_token_twice_is_refused_under_single_use(
    single_use_client: httpx2.AsyncClient, make_token: TokenFactory
) -> None:
    """With jti_policy single-use the second presentation is TOKEN_REPLAYED."""
    token = make_token()
    assert (await whoami(single_use_client, token)).status_code == 200
    body = assert_refused(await whoami(single_use_client, token), "TOKEN_REPLAYED")
    assert "single-use" in body["message"]


async def test_same_jti_in_a_new_token_is_replayed(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """A different token carrying a jti already seen is TOKEN_REPLAYED, naming the jti."""
    assert (await whoami(client, make_token(jti="jti-1"))).status_code == 200
    body = assert_refused(await whoami(client, make_token(jti="jti-1", ttl=301)), "TOKEN_REPLAYED")
    assert '"jti-1"' in body["message"]


async def test_jti_is_remembered_per_call_center(
    client: httpx2.AsyncClient, make_token: TokenFactory, other_token: object
) -> None:
    """Two call centers may use the same jti independently."""
    assert callable(other_token)
    assert (await whoami(client, make_token(jti="shared"))).status_code == 200
    response = await whoami(client, other_token(jti="shared"))
    assert response.status_code == 200, response.text


async def test_tokens_without_jti_are_never_recorded(
    client: httpx2.AsyncClient, make_token: TokenFactory, database_url: str
) -> None:
    """The connectors' jti-less tokens pass any number of times and leave nothing in the memory."""
    token = make_token(jti=None)
    for _ in range(3):
        assert (await whoami(client, token)).status_code == 200
    assert await seen_token_rows(database_url) == 0


async def test_refused_tokens_are_not_recorded(
    client: httpx2.AsyncClient, make_token: TokenFactory, database_url: str
) -> None:
    """A token that fails verification does not use up its jti."""
    assert_refused(await whoami(client, make_token(jti="later", sub="NoSuchCC")), "UNKNOWN_CALL_CENTER")
    assert (await whoami(client, make_token(jti="later"))).status_code == 200
    assert await seen_token_rows(database_url) == 1


async def test_replay_memory_survives_a_restart(
    open_client: OpenClient, settings: Settings, make_token: TokenFactory, clock: FrozenClock
) -> None:
    """A new app with a new Database on the same file still refuses a jti seen before the restart."""
    first = make_token(jti="before-restart")
    async with open_client(settings, clock) as client:
        assert (await whoami(client, first)).status_code == 200
    async with open_client(settings, clock) as client:
        assert (await whoami(client, first)).status_code == 200
        assert_refused(await whoami(client, make_token(jti="before-restart", ttl=299)), "TOKEN_REPLAYED")


async def test_racing_tokens_with_one_jti_let_exactly_one_through(
    open_client: OpenClient, settings: Settings, make_token: TokenFactory, clock: FrozenClock
) -> None:
    """Two different tokens with the same new jti, sent at once to two app instances: one 200, one replay."""
    tokens = [make_token(jti="race", ttl=300), make_token(jti="race", ttl=301)]
    async with open_client(settings, clock) as one, open_client(settings, clock) as two:
        responses = await asyncio.gather(whoami(one, tokens[0]), whoami(two, tokens[1]))
    assert sorted(r.status_code for r in responses) == [200, 401]
    refused = next(r for r in responses if r.status_code == 401)
    assert refused.json()["code"] == "TOKEN_REPLAYED"


async def test_same_token_racing_itself_passes_twice(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """The very same token sent twice at once is two presentations of one token, both accepted."""
    token = make_token()
    responses = await asyncio.gather(whoami(client, token), whoami(client, token))
    assert [r.status_code for r in responses] == [200, 200]


async def test_a_jti_may_return_once_its_token_has_expired(
    client: httpx2.AsyncClient, make_token: TokenFactory, clock: FrozenClock
) -> None:
    """The memory lasts until exp plus the leeway; after that the jti is free again."""
    now = int(clock.now().timestamp())
    assert (await whoami(client, make_token(jti="cycle", iat=now, exp=now + 300))).status_code == 200
    clock.advance(seconds=400)
    later = int(clock.now().timestamp())
    response = await whoami(client, make_token(jti="cycle", iat=later, exp=later + 300))
    assert response.status_code == 200, response.text


async def test_expired_entries_are_purged(
    client: httpx2.AsyncClient, make_token: TokenFactory, clock: FrozenClock, database_url: str
) -> None:
    """Entries of expired tokens are deleted when a later first sighting is recorded (at most once a minute)."""
    now = int(clock.now().timestamp())
    for jti in ("a", "b"):
        assert (await whoami(client, make_token(jti=jti, iat=now, exp=now + 60))).status_code == 200
    assert await seen_token_rows(database_url) == 2
    clock.advance(seconds=600)
    later = int(clock.now().timestamp())
    assert (await whoami(client, make_token(jti="c", iat=later, exp=later + 60))).status_code == 200
    assert await seen_token_rows(database_url) == 1
