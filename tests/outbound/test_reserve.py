"""POST /voiceCalls/reserveRoutableNumber: the pool of routable numbers, leased for the TTL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import httpx2

from callbridge.kit.clock import FrozenClock
from callbridge.outbound.schemas import iso_utc
from tests.outbound.conftest import POOL, TTL, Post

URL = "/telephony/v1/voiceCalls/reserveRoutableNumber"


async def test_reserve_answers_the_shape_the_lambda_reads(reserve: Post, clock: FrozenClock) -> None:
    """The Lambda's exact body gets status, mode "number" and a handle with routableNumber, uid and expiresAt."""
    response = await reserve()
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["mode"]) == ("success", "number")
    assert body["handle"]["routableNumber"] == POOL[0]
    assert body["handle"]["uid"].startswith("ldid_14155559001_")
    assert body["handle"]["expiresAt"] == iso_utc(clock.now() + timedelta(seconds=TTL))


async def test_country_is_an_alias_of_country_code(reserve: Post) -> None:
    """The documentation's example key `country` is taken as countryCode."""
    body = {"country": "US", "fromNumber": "+14155551234", "context": {"toNumber": "+15551234567"}}
    response = await reserve(**body)
    assert response.status_code == 200, response.text


async def test_reserve_names_every_bad_field(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> None:
    """fromNumber, context.toNumber (E.164) and countryCode (two letters) are each named in one 400."""
    body = {"countryCode": "USA", "fromNumber": "4155551234", "context": {"toNumber": "+0123"}}
    response = await client.post(URL, json=body, headers=auth())
    assert response.status_code == 400
    fields = sorted(problem.split(":")[0] for problem in response.json()["errors"])
    assert fields == ["context.toNumber", "countryCode", "fromNumber"]


async def test_reserve_without_context_is_400(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> None:
    """context (with its toNumber) is required."""
    response = await client.post(URL, json={"countryCode": "US", "fromNumber": "+14155551234"}, headers=auth())
    assert response.status_code == 400
    assert response.json()["errors"] == ["context: is required"]


async def test_reserve_takes_xml(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> None:
    """An application/xml body with the JSON property names reserves like JSON."""
    xml = (
        "<request><countryCode>GB</countryCode><fromNumber>+447700900123</fromNumber>"
        "<context><toNumber>+15551234567</toNumber></context></request>"
    )
    response = await client.post(URL, content=xml, headers={**auth(), "Content-Type": "application/xml"})
    assert response.status_code == 200, response.text
    assert response.json()["handle"]["routableNumber"] == POOL[0]


async def test_concurrent_reservations_get_different_numbers(reserve: Post) -> None:
    """Two reservations made together hold different numbers of the pool."""
    first, second = await asyncio.gather(reserve(), reserve())
    numbers = {first.json()["handle"]["routableNumber"], second.json()["handle"]["routableNumber"]}
    assert numbers == set(POOL)


async def test_an_exhausted_pool_is_429_with_retry_after(reserve: Post, clock: FrozenClock) -> None:
    """With every number leased: 429 RATE_LIMITED, Retry-After the seconds until the soonest lease expires."""
    await reserve()
    clock.advance(seconds=30)
    await reserve()
    response = await reserve()
    assert response.status_code == 429
    assert response.json()["code"] == "RATE_LIMITED"
    assert response.headers["Retry-After"] == str(TTL - 30)


async def test_a_number_is_free_again_once_its_lease_expired(reserve: Post, clock: FrozenClock) -> None:
    """After the TTL the first number is leased again."""
    await reserve()
    await reserve()
    clock.advance(seconds=TTL)
    response = await reserve()
    assert response.status_code == 200, response.text
    assert response.json()["handle"]["routableNumber"] == POOL[0]


async def test_reservations_from_two_processes_never_share_a_number(
    reserve: Post, second_app: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """Six reservations at once through two apps on one database: two succeed with different numbers."""
    body = {"countryCode": "US", "fromNumber": "+14155551234", "context": {"toNumber": "+15551234567"}}
    others = [second_app.post(URL, json=body, headers=auth()) for _ in range(3)]
    responses = await asyncio.gather(*[reserve() for _ in range(3)], *others)
    granted = [r.json()["handle"]["routableNumber"] for r in responses if r.status_code == 200]
    assert sorted(granted) == POOL
    assert sorted(r.status_code for r in responses) == [200, 200, 429, 429, 429, 429]


async def test_a_call_center_without_a_pool_is_403_perm_missing(
    client: httpx2.AsyncClient, other_token: Callable[..., str]
) -> None:
    """No routable_numbers configured: 403 PERM_MISSING (what the Lambda's tests model)."""
    body = {"countryCode": "US", "fromNumber": "+14155551234", "context": {"toNumber": "+15551234567"}}
    response = await client.post(URL, json=body, headers={"Authorization": f"Bearer {other_token()}"})
    assert response.status_code == 403
    assert response.json()["code"] == "PERM_MISSING"


async def test_reserve_needs_a_token(client: httpx2.AsyncClient) -> None:
    """Without a bearer token: 401."""
    response = await client.post(URL, json={})
    assert response.status_code == 401


async def test_reserve_with_a_call_id_is_noted_in_that_calls_timeline(
    reserve: Post, create_call: Callable[..., object], telephony: object
) -> None:
    """context.callId naming a call of this call center records the reservation in its timeline."""
    call_id = await create_call(vendorCallKey="vc1-leg")  # type: ignore[misc]
    response = await reserve(
        context={"toNumber": "+15551234567", "callId": call_id, "scrt2Domain": "https://x.my.salesforce-scrt.com"}
    )
    entries = await telephony.timeline(call_id)  # type: ignore[attr-defined]
    noted = [e for e in entries if e["kind"] == "outbound.routable_number_reserved"]
    assert [e["data"]["uid"] for e in noted] == [response.json()["handle"]["uid"]]


async def test_reserve_answers_with_a_trailing_slash(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """POST .../reserveRoutableNumber/ is the same endpoint (real clients send trailing slashes)."""
    body = {"countryCode": "US", "fromNumber": "+14155551234", "context": {"toNumber": "+15551234567"}}
    response = await client.post(URL + "/", json=body, headers=auth())
    assert response.status_code == 200, response.text
