"""POST /voiceCalls/createVoiceCallContext, and a later create correlated with a context or a reservation."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx2

from callbridge.kit.clock import FrozenClock
from callbridge.outbound.schemas import iso_utc
from tests.outbound.conftest import TTL, Post

CALLER, AFV_NUMBER = "+11800999932", "+15551234567"
ReadCall = Callable[[str], Awaitable[dict[str, Any]]]


async def _create_from(create_call: Callable[..., Awaitable[str]], key: str, to: str, from_: str, **extra: Any) -> str:
    return await create_call(
        vendorCallKey=key,
        to=to,
        participants=[{"participantKey": from_, "type": "END_USER"}],
        **{"from": from_},
        **extra,
    )


async def test_context_answers_the_shape_the_lambda_reads(create_context: Post, clock: FrozenClock) -> None:
    """The Lambda's body gets status, mode "correlationID" and a handle with correlationId and expiresAt."""
    response = await create_context()
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["mode"]) == ("success", "correlationID")
    assert body["handle"]["correlationId"]
    assert body["handle"]["expiresAt"] == iso_utc(clock.now() + timedelta(seconds=TTL))


async def test_context_names_every_bad_field(create_context: Post) -> None:
    """fromNumber and context.toNumber must be E.164: both named in one 400."""
    response = await create_context(fromNumber="555", context={"toNumber": "not a number"})
    assert response.status_code == 400
    assert sorted(p.split(":")[0] for p in response.json()["errors"]) == ["context.toNumber", "fromNumber"]


async def test_context_needs_a_token(client: httpx2.AsyncClient) -> None:
    """Without a bearer token: 401."""
    response = await client.post("/telephony/v1/voiceCalls/createVoiceCallContext", json={})
    assert response.status_code == 401


async def test_a_create_from_the_contexts_caller_to_its_number_is_correlated(
    create_context: Post, create_call: Callable[..., Awaitable[str]], read_call: ReadCall
) -> None:
    """A create from fromNumber to context.toNumber carries the context's id and transactionId in its read."""
    handle = (await create_context(context={"toNumber": AFV_NUMBER, "transactionId": "txn-1", "callId": "VC1"})).json()
    await _create_from(create_call, "afv-leg", AFV_NUMBER, CALLER)
    correlation = (await read_call("afv-leg"))["correlation"]
    assert (correlation["mode"], correlation["id"]) == ("correlationID", handle["handle"]["correlationId"])
    assert (correlation["callId"], correlation["transactionId"]) == ("VC1", "txn-1")


async def test_a_correlated_create_says_so_in_its_timeline(
    create_context: Post, create_call: Callable[..., Awaitable[str]], telephony: Any
) -> None:
    """The timeline records "correlated with context X"."""
    correlation_id = (await create_context()).json()["handle"]["correlationId"]
    await _create_from(create_call, "afv-timeline", AFV_NUMBER, CALLER)
    entries = [e for e in await telephony.timeline("afv-timeline") if e["kind"] == "voice_call.correlated"]
    assert len(entries) == 1
    assert entries[0]["reason"].startswith(f"correlated with context {correlation_id}")


async def test_a_create_naming_the_correlation_id_is_correlated(
    create_context: Post, create_call: Callable[..., Awaitable[str]], read_call: ReadCall
) -> None:
    """callAttributes.correlationId links a create whatever its numbers."""
    correlation_id = (await create_context()).json()["handle"]["correlationId"]
    await create_call(vendorCallKey="by-id", callAttributes=json.dumps({"correlationId": correlation_id}))
    assert (await read_call("by-id"))["correlation"]["id"] == correlation_id


async def test_an_expired_context_is_not_correlated(
    create_context: Post, create_call: Callable[..., Awaitable[str]], read_call: ReadCall, clock: FrozenClock
) -> None:
    """A context past its expiresAt links nothing."""
    await create_context()
    clock.advance(seconds=TTL)
    await _create_from(create_call, "too-late", AFV_NUMBER, CALLER)
    assert (await read_call("too-late"))["correlation"] is None


async def test_a_context_is_correlated_once(
    create_context: Post, create_call: Callable[..., Awaitable[str]], read_call: ReadCall
) -> None:
    """The second matching create finds the context taken."""
    await create_context()
    await _create_from(create_call, "first-arrival", AFV_NUMBER, CALLER)
    await _create_from(create_call, "second-arrival", AFV_NUMBER, CALLER)
    assert (await read_call("second-arrival"))["correlation"] is None


async def test_a_create_on_a_reserved_number_from_its_caller_is_correlated(
    reserve: Post, create_call: Callable[..., Awaitable[str]], read_call: ReadCall
) -> None:
    """The number-pool flow: a call to the reserved number from the reserved fromNumber links the lease."""
    handle = (await reserve(fromNumber=CALLER, context={"toNumber": AFV_NUMBER, "transactionId": "t-9"})).json()
    number = handle["handle"]["routableNumber"]
    await _create_from(create_call, "pstn-arrival", number, CALLER)
    correlation = (await read_call("pstn-arrival"))["correlation"]
    assert (correlation["mode"], correlation["id"], correlation["routableNumber"]) == (
        "number",
        handle["handle"]["uid"],
        number,
    )
    assert correlation["transactionId"] == "t-9"


async def test_a_create_on_a_reserved_number_from_another_caller_is_not_correlated(
    reserve: Post, create_call: Callable[..., Awaitable[str]], read_call: ReadCall
) -> None:
    """Salesforce matches by number and caller: another caller on the number links nothing."""
    number = (await reserve(fromNumber=CALLER)).json()["handle"]["routableNumber"]
    await _create_from(create_call, "stranger", number, "+14155550000")
    assert (await read_call("stranger"))["correlation"] is None


async def test_a_call_arriving_frees_its_routable_number(
    reserve: Post, create_call: Callable[..., Awaitable[str]]
) -> None:
    """Once the call arrived, its number can be reserved again before the TTL."""
    first = (await reserve(fromNumber=CALLER)).json()["handle"]["routableNumber"]
    await reserve()
    await _create_from(create_call, "arrived", first, CALLER)
    response = await reserve()
    assert response.status_code == 200, response.text
    assert response.json()["handle"]["routableNumber"] == first
