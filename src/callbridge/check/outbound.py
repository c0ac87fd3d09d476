"""Checks of the newest endpoints, which Salesforce's 2026 Lambdas call (spec §12-13, real-clients.md §5.7):
their paths are not read as a call's id, and their answers have the shapes the Lambdas read. A check whose
answer depends on configuration the server does not have is skipped, saying which."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from callbridge.check.context import CheckContext
from callbridge.check.registry import (
    CheckFailed,
    CheckSkipped,
    check,
    describe,
    expect,
    expect_json,
    expect_response_error,
)

E164 = re.compile(r"\+[1-9]\d{1,14}")
MAX_LEASE = timedelta(seconds=180)  # what Salesforce documents for a reservation
ARN = "arn:aws:connect:us-east-1:111122223333:instance/callbridge-check/agent/nobody"


def _not_a_call(response: Any, what: str) -> None:
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    expect(
        not (response.status_code == 404 and body.get("code") == "VOICE_CALL_NOT_FOUND"),
        f"{what} was read as the id of a call (404 VOICE_CALL_NOT_FOUND)",
    )


def _skip_unconfigured(response: Any, code: str, reason: str) -> None:
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code in (403, 404) and isinstance(body, dict) and body.get("code") == code:
        raise CheckSkipped(f"{reason} ({describe(response)})")


def _expires_at(value: Any, now: datetime) -> None:
    expect(isinstance(value, str), f"handle.expiresAt is {value!r}, not an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CheckFailed(f"handle.expiresAt {value!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    expect(
        now - timedelta(seconds=30) < moment <= now + MAX_LEASE + timedelta(seconds=30),
        f"expiresAt {value} is not within 180 s",
    )


@check(
    "outbound.default_outbound_number",
    "GET /voiceCalls/defaultOutboundPhoneNumber?externalRepId=<ARN> answers {phoneNumber: E.164}",
)
async def default_outbound_number(ctx: CheckContext) -> str | None:
    response = await ctx.client.raw_request(
        "GET", f"/voiceCalls/defaultOutboundPhoneNumber?externalRepId={quote(ARN, safe='')}"
    )
    _not_a_call(response, "defaultOutboundPhoneNumber")
    _skip_unconfigured(response, "DEFAULT_OUTBOUND_NUMBER_NOT_FOUND", "no default_outbound_number is configured")
    body = expect_json(response, 200)
    expect(
        isinstance(body.get("phoneNumber"), str) and E164.fullmatch(body["phoneNumber"]) is not None,
        f"phoneNumber is not E.164: {body}",
    )
    return None


@check(
    "outbound.default_outbound_number_needs_rep",
    "defaultOutboundPhoneNumber without externalRepId is 400 naming it",
)
async def default_outbound_number_needs_rep(ctx: CheckContext) -> str | None:
    response = await ctx.client.raw_request("GET", "/voiceCalls/defaultOutboundPhoneNumber")
    _not_a_call(response, "defaultOutboundPhoneNumber")
    expect_response_error(response, status=400, code="INVALID_REQUEST", naming=["externalRepId"])
    return None


@check(
    "outbound.voicemail_greeting",
    "GET /voiceCalls/voicemailGreeting?toPhoneNumber=<dialed number> answers {greetingUrl}",
)
async def voicemail_greeting(ctx: CheckContext) -> str | None:
    number = ctx.config.dialed_number
    if not number:
        raise CheckSkipped("needs a phone channel's number: give --dialed-number")
    response = await ctx.client.raw_request(
        "GET", f"/voiceCalls/voicemailGreeting?toPhoneNumber={quote(number, safe='')}"
    )
    _not_a_call(response, "voicemailGreeting")
    _skip_unconfigured(response, "VOICEMAIL_GREETING_NOT_FOUND", f"the channel {number} has no voicemail_greeting_url")
    body = expect_json(response, 200)
    expect(isinstance(body.get("greetingUrl"), str) and bool(body["greetingUrl"]), f"no greetingUrl: {body}")
    return None


@check(
    "outbound.voicemail_drop_none",
    'GET /voiceCalls/{contactId}/voicemailDrop of a call with no drop picked is 404 (the Lambda\'s "no drop")',
)
async def voicemail_drop_none(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("drop")
    response = await ctx.client.raw_request("GET", f"/voiceCalls/{call.vendor_call_key}/voicemailDrop")
    expect_response_error(response, status=404, code="VOICEMAIL_DROP_NOT_FOUND")
    return None


def _reserve_body(ctx: CheckContext, **overrides: Any) -> dict[str, Any]:
    origin = ctx.client.base_url.removesuffix("/telephony/v1")
    body = {
        "countryCode": "US",
        "fromNumber": "+11800999932",
        "context": {"scrt2Domain": origin, "toNumber": "+15551234567", "transactionId": f"{ctx.run_id}-txn"},
    }
    return {**body, **overrides}


@check(
    "outbound.reserve_routable_number",
    "POST /voiceCalls/reserveRoutableNumber (the Lambda's body) answers {status: success, mode: number, handle: "
    "{routableNumber, uid, expiresAt}}, or 429 RATE_LIMITED with Retry-After when the pool is exhausted",
)
async def reserve_routable_number(ctx: CheckContext) -> str | None:
    now = datetime.now(UTC)
    response = await ctx.client.raw_request("POST", "/voiceCalls/reserveRoutableNumber", body=_reserve_body(ctx))
    _skip_unconfigured(response, "PERM_MISSING", "the call center has no number pool (routable_numbers)")
    if response.status_code == 429:
        expect_response_error(response, status=429, code="RATE_LIMITED")
        expect(response.headers.get("Retry-After", "").isdigit(), "a 429 without a Retry-After in seconds")
        return f"the pool is exhausted: 429 with Retry-After {response.headers['Retry-After']}"
    body = expect_json(response, 200)
    expect(
        (body.get("status"), body.get("mode")) == ("success", "number"), f"status/mode are not success/number: {body}"
    )
    handle = body.get("handle") or {}
    number = handle.get("routableNumber")
    expect(isinstance(number, str) and E164.fullmatch(number) is not None, f"routableNumber is not E.164: {handle}")
    expect(isinstance(handle.get("uid"), str) and bool(handle["uid"]), f"no uid: {handle}")
    _expires_at(handle.get("expiresAt"), now)
    return None


@check(
    "outbound.reserve_validation",
    "reserveRoutableNumber with a fromNumber and a context.toNumber that are not E.164 is 400 naming both",
)
async def reserve_validation(ctx: CheckContext) -> str | None:
    body = _reserve_body(ctx, fromNumber="4155551234", context={"toNumber": "555"})
    response = await ctx.client.raw_request("POST", "/voiceCalls/reserveRoutableNumber", body=body)
    expect_response_error(response, status=400, code="INVALID_REQUEST", naming=["fromNumber", "context.toNumber"])
    return None


@check(
    "outbound.create_voice_call_context",
    "POST /voiceCalls/createVoiceCallContext answers {status: success, mode: correlationID, handle: "
    "{correlationId, expiresAt}}",
)
async def create_voice_call_context(ctx: CheckContext) -> str | None:
    now = datetime.now(UTC)
    body = {key: value for key, value in _reserve_body(ctx).items() if key != "countryCode"}
    response = await ctx.client.raw_request("POST", "/voiceCalls/createVoiceCallContext", body=body)
    answer = expect_json(response, 200)
    expect(
        (answer.get("status"), answer.get("mode")) == ("success", "correlationID"),
        f"status/mode are not success/correlationID: {answer}",
    )
    handle = answer.get("handle") or {}
    expect(
        isinstance(handle.get("correlationId"), str) and bool(handle["correlationId"]), f"no correlationId: {handle}"
    )
    _expires_at(handle.get("expiresAt"), now)
    return None
