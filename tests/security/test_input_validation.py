"""Client values no backend can store are refused at the edge with a 400 naming the field (or a 404 for a key
in a path), never a 500 or a 503 that a retrying client would repeat forever (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from tests.transcripts.conftest import IN_CALL_MS, INBOUND_KEY, message
from tests.voice_calls.conftest import create_call, payload

__all__ = ["create_call"]

URL = "/telephony/v1/voiceCalls"
Auth = Callable[..., dict[str, str]]


def nested(depth: int) -> dict[str, Any]:
    """An object nested ``depth`` levels deep."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def assert_refused(response: httpx2.Response, field: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert any(field in problem.split(":")[0] for problem in body["errors"]), body


async def test_patch_enqueue_time_before_year_one_in_utc_is_400(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any
) -> None:
    """PATCH enqueueTime 0001-01-01T00:00:00+01:00 (year 0 in UTC) is a 400 naming enqueueTime."""
    await create_call()
    response = await client.patch(
        f"{URL}/{INBOUND_KEY}", json={"enqueueTime": "0001-01-01T00:00:00+01:00"}, headers=auth()
    )
    assert_refused(response, "enqueueTime")


async def test_patch_end_time_after_year_9999_in_utc_is_400(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any
) -> None:
    """PATCH endTime 9999-12-31T23:00:00-05:00 (year 10000 in UTC) is a 400 naming endTime."""
    await create_call()
    response = await client.patch(f"{URL}/{INBOUND_KEY}", json={"endTime": "9999-12-31T23:00:00-05:00"}, headers=auth())
    assert_refused(response, "endTime")


async def test_create_start_time_out_of_range_is_400(client: httpx2.AsyncClient, auth: Auth) -> None:
    """Create with startTime 0001-01-01T00:00:00+01:00 is a 400 naming startTime."""
    body = payload("lambda_create_inbound", startTime="0001-01-01T00:00:00+01:00")
    response = await client.post(URL, json=body, headers=auth())
    assert_refused(response, "startTime")


async def test_request_callback_scheduled_time_out_of_range_is_400(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any
) -> None:
    """requestCallback with scheduledRoutingDateTime out of range is a 400 naming it."""
    call = await create_call()
    body = {"callbackNumber": "+15550100", "scheduledRoutingDateTime": "0001-01-01T00:00:00+01:00"}
    response = await client.post(f"{URL}/{call}/requestCallback", json=body, headers=auth())
    assert_refused(response, "scheduledRoutingDateTime")


@pytest.mark.parametrize("start", [9223372036854775808, 2**63 - 1, 10**15, -(2**70)])
async def test_transcript_time_outside_storable_range_is_400_not_503(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any, start: int
) -> None:
    """A transcript startTime outside 0..9999-12-31 is a 400 naming startTime, never 503 + Retry-After."""
    await create_call()
    response = await client.post(
        f"{URL}/{INBOUND_KEY}/messages", json=message(startTime=start, endTime=IN_CALL_MS), headers=auth()
    )
    assert_refused(response, "startTime")
    assert "retry-after" not in response.headers


async def test_bulk_transcript_time_outside_storable_range_is_400(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any
) -> None:
    """A bulk message endTime past 64 bits is a 400 naming entries[0].messages[0].endTime."""
    await create_call()
    body = {"entries": [{"vendorCallKey": INBOUND_KEY, "messages": [message(endTime=2**64)]}]}
    response = await client.post(f"{URL}/messages", json=body, headers=auth())
    assert_refused(response, "entries[0].messages[0].endTime")


@pytest.mark.parametrize("name", ["startTimestamp", "endTimestamp"])
async def test_connect_entries_timestamp_beyond_64_bits_is_400(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any, name: str
) -> None:
    """Connect API entries with startTimestamp/endTimestamp beyond 64 bits is a 400 naming the parameter."""
    await create_call()
    response = await client.get(
        f"/services/data/v60.0/connect/conversation/{INBOUND_KEY}/entries",
        params={name: str(2**64)},
        headers=auth(),
    )
    assert_refused(response, f"query.{name}")


async def test_connect_entries_long_max_as_end_bound_is_accepted(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any
) -> None:
    """endTimestamp Long.MAX_VALUE (a Java client's "no bound") is still accepted."""
    await create_call()
    response = await client.get(
        f"/services/data/v60.0/connect/conversation/{INBOUND_KEY}/entries",
        params={"endTimestamp": str(2**63 - 1)},
        headers=auth(),
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("as_string", [True, False])
async def test_call_attributes_nested_900_deep_is_400(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any, as_string: bool
) -> None:
    """callAttributes nested ~900 deep (a JSON string or an object) is a 400 naming callAttributes."""
    import json

    await create_call()
    attributes = nested(900)
    value = json.dumps(attributes) if as_string else attributes
    response = await client.patch(f"{URL}/{INBOUND_KEY}", json={"callAttributes": value}, headers=auth())
    assert_refused(response, "callAttributes")


async def test_call_attributes_nested_33_deep_is_400(client: httpx2.AsyncClient, auth: Auth) -> None:
    """callAttributes nested one level more than 32 is a 400 naming callAttributes on create."""
    import json

    body = payload("lambda_create_inbound", callAttributes=json.dumps(nested(33)))
    response = await client.post(URL, json=body, headers=auth())
    assert_refused(response, "callAttributes")


async def test_call_attributes_nested_32_deep_is_accepted(client: httpx2.AsyncClient, auth: Auth) -> None:
    """callAttributes nested exactly 32 levels is stored."""
    body = payload("lambda_create_inbound", callAttributes=nested(32))
    response = await client.post(URL, json=body, headers=auth())
    assert response.status_code == 200, response.text


async def test_realtime_details_nested_256_deep_is_400(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any
) -> None:
    """Real-time event details nested 256 deep is a 400 naming events[0].details."""
    await create_call()
    event = {
        "type": "IntelligenceSignal__Category",
        "value": "Greeting",
        "startTime": IN_CALL_MS,
        "details": nested(256),
    }
    response = await client.post(
        f"{URL}/{INBOUND_KEY}/realtimeConversationEvents",
        json={"service": "AmazonConnectContactLens", "events": [event]},
        headers=auth(),
    )
    assert_refused(response, "events[0].details")


async def test_realtime_details_nested_40_deep_is_400(client: httpx2.AsyncClient, auth: Auth, create_call: Any) -> None:
    """Real-time event details nested 40 deep (inside the body's bound, over the field's) is a 400."""
    await create_call()
    event = {"type": "IntelligenceSignal__Category", "value": "G", "startTime": IN_CALL_MS, "details": nested(40)}
    response = await client.post(
        f"{URL}/{INBOUND_KEY}/realtimeConversationEvents",
        json={"service": "AmazonConnectContactLens", "events": [event]},
        headers=auth(),
    )
    assert_refused(response, "events[0].details")


async def test_any_json_body_nested_past_the_global_bound_is_400(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any
) -> None:
    """A transcript body with an ignored field nested 500 deep is refused (the fast lane too), naming it."""
    await create_call()
    response = await client.post(
        f"{URL}/{INBOUND_KEY}/messages", json={**message(), "extra": nested(500)}, headers=auth()
    )
    assert_refused(response, "extra")


@pytest.mark.parametrize("method", ["GET", "PATCH"])
async def test_nul_in_path_key_is_404(client: httpx2.AsyncClient, auth: Auth, create_call: Any, method: str) -> None:
    """A vendorCallKey with a NUL (%00) in the path is 404 VOICE_CALL_NOT_FOUND on every backend."""
    await create_call()
    response = await client.request(method, f"{URL}/abc%00def", json={"isActiveCall": True}, headers=auth())
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "VOICE_CALL_NOT_FOUND"


async def test_nul_in_transcript_path_key_is_404(client: httpx2.AsyncClient, auth: Auth) -> None:
    """POST messages to a key with a NUL is 404, not a 500 from PostgreSQL."""
    response = await client.post(f"{URL}/abc%00def/messages", json=message(), headers=auth())
    assert response.status_code == 404, response.text


@pytest.mark.parametrize(
    "path",
    [
        "{key}",
        "{key}/messages",
        "{key}/omniFlow",
        "{key}/requestCallback",
        "{key}/realtimeConversationEvents",
    ],
)
async def test_path_key_over_255_characters_is_404(client: httpx2.AsyncClient, auth: Auth, path: str) -> None:
    """Every path lookup refuses a key over 255 characters with 404, as create refuses it with 400."""
    key = "k" * 60_000
    method = "PATCH" if path.endswith(("}", "omniFlow")) else "POST"
    response = await client.request(method, f"{URL}/{path.format(key=key)}", json=message(), headers=auth())
    assert response.status_code == 404, response.text[:300]
    assert key not in response.text


async def test_create_with_key_over_255_characters_is_400(client: httpx2.AsyncClient, auth: Auth) -> None:
    """Create refuses a vendorCallKey over 255 characters, naming it."""
    body = payload("lambda_create_inbound", vendorCallKey="k" * 256)
    response = await client.post(URL, json=body, headers=auth())
    assert_refused(response, "vendorCallKey")


async def test_key_of_255_characters_is_found_by_every_lookup(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any
) -> None:
    """A 255-character key, the maximum, is created and then found by its path."""
    key = "k" * 255
    await create_call(vendorCallKey=key)
    response = await client.get(f"{URL}/{key}", headers=auth())
    assert response.status_code == 200, response.text


async def test_nul_in_console_username_is_400(client: httpx2.AsyncClient) -> None:
    """POST /console/v1/session with a NUL in the username is a 400 naming username."""
    response = await client.post("/console/v1/session", json={"username": "ali\u0000ce", "password": "x"})
    assert_refused(response, "username")


async def test_long_telephony_provider_name_is_stored_cut(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any
) -> None:
    """A Telephony-Provider-Name over the actor column's size does not fail the write."""
    headers = {**auth(), "Telephony-Provider-Name": "p" * 5000}
    response = await client.post(URL, json=payload("lambda_create_inbound"), headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00Z"])
async def test_update_at_the_edges_of_the_range_is_not_a_500(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any, moment: str
) -> None:
    """PATCH with every date at the first or last storable instant is stored and read back."""
    await create_call()
    body = {"startTime": moment, "endTime": moment, "enqueueTime": moment, "acceptTime": moment}
    response = await client.patch(f"{URL}/{INBOUND_KEY}", json=body, headers=auth())
    assert response.status_code == 200, response.text
    read = await client.get(f"{URL}/{INBOUND_KEY}", headers=auth())
    assert read.status_code == 200, read.text


async def test_transcript_cursor_with_a_non_ascii_digit_is_400(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any
) -> None:
    """?after=² (a digit to str.isdigit, not to int) is a 400 INVALID_CURSOR, not a 500."""
    await create_call()
    response = await client.get(f"{URL}/{INBOUND_KEY}/messages", params={"after": "²"}, headers=auth())
    assert response.status_code == 400, response.text


async def test_transcript_at_the_last_storable_millisecond_is_accepted(
    client: httpx2.AsyncClient, auth: Auth, create_call: Any
) -> None:
    """startTime 253402300799999 (9999-12-31T23:59:59.999Z) is within range: dropped as after the call, not 400."""
    await create_call()
    body = message(startTime=253402300799999, endTime=253402300799999)
    response = await client.post(f"{URL}/{INBOUND_KEY}/messages", json=body, headers=auth())
    assert response.status_code == 200, response.text


async def test_nul_in_a_query_parameter_is_400(client: httpx2.AsyncClient, auth: Auth) -> None:
    """A query parameter holding NUL (uploadIds=a%00b) is a 400 on every backend, not a 500 from PostgreSQL."""
    response = await client.get("/services/data/v58.0/connect/conversations/upload?uploadIds=a%00b", headers=auth())
    assert_refused(response, "uploadIds")
