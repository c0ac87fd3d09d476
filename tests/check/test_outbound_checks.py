"""The checks of the newest endpoints against a server with none of their configuration: skipped, saying which."""

from __future__ import annotations

import httpx2
from fastapi import FastAPI

from callbridge.auth.certificates import KeyPair
from callbridge.check import CheckConfig, Status, all_checks
from callbridge.check.context import CheckContext
from callbridge.check.runner import run_one
from tests.conftest import CALL_CENTER, ORG_ID


async def test_outbound_checks_skip_or_pass_without_configuration(app: FastAPI, key_pair: KeyPair) -> None:
    """No default number, greeting or pool: those checks skip naming the missing key; the rest pass."""
    transport = httpx2.ASGITransport(app=app)
    config = CheckConfig(
        "http://callbridge.test",
        ORG_ID,
        CALL_CENTER,
        key_pair.private_key_pem.encode(),
        dialed_number="+14155550100",
        transport=transport,
    )
    ctx = CheckContext(config)
    try:
        results = {c.name: await run_one(ctx, c) for c in all_checks() if c.name.startswith("outbound.")}
    finally:
        await ctx.aclose()
    skipped = {name: result.reason for name, result in results.items() if result.status is Status.SKIP}
    assert sorted(skipped) == [
        "outbound.default_outbound_number",
        "outbound.reserve_routable_number",
        "outbound.voicemail_greeting",
    ]
    assert "default_outbound_number" in str(skipped["outbound.default_outbound_number"])
    assert "routable_numbers" in str(skipped["outbound.reserve_routable_number"])
    assert "voicemail_greeting_url" in str(skipped["outbound.voicemail_greeting"])
    assert {r.status for n, r in results.items() if n not in skipped} == {Status.PASS}
