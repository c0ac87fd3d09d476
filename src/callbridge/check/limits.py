"""The check of an org limit, for a server told to enforce Salesforce's (``CALLBRIDGE_LIMITS=salesforce``):
skipped unless ``--limit-calls-per-second`` says what the server's limit is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx2

from callbridge.check.context import Call, CheckContext
from callbridge.check.registry import CheckSkipped, check, describe, expect

ATTEMPTS = 3  # one burst may straddle two seconds and fit; three in a row cannot all do so


@check(
    "limits.create_rate_limited",
    "with --limit-calls-per-second N (the server enforces Salesforce's limits), N+1 creates sent at once "
    "meet a 429 with an integer Retry-After of at least 1 s, and the refused call is not created",
)
async def create_rate_limited(ctx: CheckContext) -> str | None:
    limit = ctx.config.limit_calls_per_second
    if limit is None:
        raise CheckSkipped("needs the server's limit: give --limit-calls-per-second (CALLBRIDGE_LIMITS=salesforce)")
    read_api = await ctx.has_read_api()  # probed before the burst, whose second it would otherwise fall in
    for _attempt in range(ATTEMPTS):
        keys = [ctx.key("burst") for _ in range(limit + 1)]
        responses = await asyncio.gather(
            *(ctx.client.raw_request("POST", "/voiceCalls", body=ctx.create_body(key)) for key in keys)
        )
        _remember_created(ctx, keys, responses)
        refused = [(key, r) for key, r in zip(keys, responses, strict=True) if r.status_code == 429]
        others = [r for r in responses if r.status_code not in (200, 429)]
        expect(not others, f"a create of the burst answered {describe(others[0])}" if others else "")
        if not refused:
            continue
        key, response = refused[0]
        retry_after = response.headers.get("retry-after", "")
        expect(
            retry_after.isdigit() and int(retry_after) >= 1,
            f"the 429 has Retry-After {retry_after!r} (expected whole seconds, at least 1)",
        )
        if read_api:
            read = await ctx.client.raw_request("GET", f"/voiceCalls/{key}")
            expect(read.status_code == 404, f"the refused create's call exists: GET answered {describe(read)}")
        return f"{len(refused)} of {limit + 1} creates refused, Retry-After {retry_after}"
    expect(False, f"{ATTEMPTS} bursts of {limit + 1} creates were all accepted (no 429)")
    return None


def _remember_created(ctx: CheckContext, keys: list[str], responses: list[httpx2.Response]) -> None:
    """The burst's created calls, so that the run ends them."""
    for key, response in zip(keys, responses, strict=True):
        voice_call_id = response.json().get("voiceCallId") if response.status_code == 200 else None
        if isinstance(voice_call_id, str):
            ctx.created.append(Call(vendor_call_key=key, voice_call_id=voice_call_id, started_at=datetime.now(UTC)))
