"""`callbridge check`'s limit check (limits.create_rate_limited) against servers with and without limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2

from callbridge.app import create_app
from callbridge.auth.certificates import KeyPair
from callbridge.check import CheckConfig, Status, all_checks
from callbridge.check.context import CheckContext
from callbridge.check.registry import CheckResult
from callbridge.check.runner import run_one
from callbridge.config import Settings
from tests.conftest import CALL_CENTER, ORG_ID

NAME = "limits.create_rate_limited"
Run = Callable[..., Any]


async def run_limit_check(settings: Settings, key_pair: KeyPair, limit: int | None) -> CheckResult:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        config = CheckConfig(
            "http://callbridge.test",
            ORG_ID,
            CALL_CENTER,
            key_pair.private_key_pem.encode(),
            transport=httpx2.ASGITransport(app=app),
            limit_calls_per_second=limit,
        )
        ctx = CheckContext(config)
        try:
            return await run_one(ctx, next(c for c in all_checks() if c.name == NAME))
        finally:
            await ctx.close_calls()
            await ctx.aclose()


async def test_passes_against_a_server_enforcing_the_limit(
    settings: Settings, call_centers: Any, key_pair: KeyPair
) -> None:
    """With CALLBRIDGE_LIMITS=salesforce at 3 creates/s and --limit-calls-per-second 3, the check passes."""
    limited = settings.model_copy(update={"limits": "salesforce", "limit_calls_per_second": 3})
    result = await run_limit_check(limited, key_pair, 3)
    assert result.status is Status.PASS, result.reason
    assert "Retry-After 1" in (result.reason or "")


async def test_fails_against_a_server_without_limits(settings: Settings, call_centers: Any, key_pair: KeyPair) -> None:
    """A server that takes every create fails the check, saying no 429 came."""
    result = await run_limit_check(settings, key_pair, 3)
    assert result.status is Status.FAIL
    assert result.reason == "3 bursts of 4 creates were all accepted (no 429)"


async def test_skipped_without_the_option(settings: Settings, call_centers: Any, key_pair: KeyPair) -> None:
    """Without --limit-calls-per-second the check is skipped with the option to give."""
    result = await run_limit_check(settings, key_pair, None)
    assert result.status is Status.SKIP
    assert "give --limit-calls-per-second" in (result.reason or "")
