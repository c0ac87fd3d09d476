"""Clock skew: 60 s of leeway on exp, iat and the lifetime limit, measured against the app's clock."""

from __future__ import annotations

import httpx2

from callbridge.kit.clock import FrozenClock
from tests.auth.conftest import assert_refused, whoami
from tests.conftest import TokenFactory


async def test_exp_59_seconds_ago_is_accepted(
    client: httpx2.AsyncClient, make_token: TokenFactory, clock: FrozenClock
) -> None:
    """A token that expired 59 s ago is within the leeway."""
    now = int(clock.now().timestamp())
    response = await whoami(client, make_token(iat=now - 300, exp=now - 59))
    assert response.status_code == 200, response.text


async def test_exp_61_seconds_ago_is_refused(
    client: httpx2.AsyncClient, make_token: TokenFactory, clock: FrozenClock
) -> None:
    """A token that expired 61 s ago is TOKEN_EXPIRED."""
    now = int(clock.now().timestamp())
    assert_refused(await whoami(client, make_token(iat=now - 300, exp=now - 61)), "TOKEN_EXPIRED")


async def test_a_token_expires_as_the_clock_moves(
    client: httpx2.AsyncClient, make_token: TokenFactory, clock: FrozenClock
) -> None:
    """The same token passes now and fails once the clock is past exp plus the leeway."""
    now = int(clock.now().timestamp())
    token = make_token(iat=now, exp=now + 300, jti=None)
    assert (await whoami(client, token)).status_code == 200
    clock.advance(seconds=361)
    assert_refused(await whoami(client, token), "TOKEN_EXPIRED")


async def test_iat_59_seconds_ahead_is_accepted(
    client: httpx2.AsyncClient, make_token: TokenFactory, clock: FrozenClock
) -> None:
    """A client clock 59 s fast is tolerated."""
    now = int(clock.now().timestamp())
    response = await whoami(client, make_token(iat=now + 59, exp=now + 359))
    assert response.status_code == 200, response.text


async def test_lifetime_limit_has_the_leeway_too(
    client: httpx2.AsyncClient, make_token: TokenFactory, clock: FrozenClock
) -> None:
    """exp 24 h + 60 s after iat passes; 24 h + 61 s does not."""
    now = int(clock.now().timestamp())
    ok = await whoami(client, make_token(iat=now, exp=now + 86400 + 60))
    assert ok.status_code == 200, ok.text
    assert_refused(await whoami(client, make_token(iat=now, exp=now + 86400 + 61)), "TOKEN_LIFETIME_TOO_LONG")
