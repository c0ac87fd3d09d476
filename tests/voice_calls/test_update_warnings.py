"""PATCH /telephony/v1/voiceCalls/{id}: suspicious but accepted input is answered with Callbridge-Warning headers
and recorded in the call's timeline, never refused (Salesforce accepts it)."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from tests.voice_calls.conftest import CreateCall, payload

URL = "/telephony/v1/voiceCalls"
INBOUND_KEY = "5b2c7a9e-3f1d-4e8a-9c61-0d2f4b7e8a13"  # starts 2026-11-24T18:15:55.793Z


async def patch(client: httpx2.AsyncClient, auth: Callable, call: str, body: object) -> httpx2.Response:
    return await client.patch(f"{URL}/{call}", json=body, headers=auth())


def warnings_of(response: httpx2.Response) -> list[str]:
    return response.headers.get_list("callbridge-warning")


async def test_end_before_start_is_accepted_with_a_warning_header(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """An endTime before the call's start answers 200 with a Callbridge-Warning naming endTime."""
    await create_call()
    response = await patch(client, auth, INBOUND_KEY, {"endTime": "2026-11-24T18:00:00Z"})
    assert response.status_code == 200
    (warning,) = warnings_of(response)
    assert warning.startswith("endTime 2026-11-24T18:00:00Z is before the call's start")


async def test_end_before_start_is_recorded_in_the_timeline(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """The same warning is in the update's timeline entry (data.warnings and its reason)."""
    call_id = await create_call()
    await patch(client, auth, call_id, {"endTime": "2026-11-24T18:00:00Z"})
    entries = (await client.get(f"{URL}/{call_id}/timeline", headers=auth())).json()["entries"]
    (entry,) = [e for e in entries if e["kind"] == "voice_call.updated"]
    assert entry["data"]["warnings"][0].startswith("endTime 2026-11-24T18:00:00Z is before")
    assert "is before the call's start" in entry["reason"]


async def test_durations_longer_than_the_call_are_warned(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """agentInteractionDuration + totalHoldDuration longer than endTime - start gives a warning."""
    await create_call()
    body = {"endTime": "2026-11-24T18:16:55.793Z", "agentInteractionDuration": 300, "totalHoldDuration": 10}
    response = await patch(client, auth, INBOUND_KEY, body)
    assert response.status_code == 200
    expected = "agentInteractionDuration + totalHoldDuration (310 s) is longer than the call (60 s)"
    assert warnings_of(response) == [expected]


async def test_a_time_far_in_the_future_is_warned(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """An endTime years ahead of the server's clock gives a warning."""
    await create_call()
    response = await patch(client, auth, INBOUND_KEY, {"endTime": "2099-01-01T00:00:00Z"})
    assert response.status_code == 200
    assert warnings_of(response) == ["endTime 2099-01-01T00:00:00Z is in the future"]


async def test_each_warning_is_its_own_header_value(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """Two problems in one update answer two Callbridge-Warning values."""
    await create_call()
    body = {"startTime": "2099-01-01T00:10:00Z", "endTime": "2099-01-01T00:00:00Z"}
    response = await patch(client, auth, INBOUND_KEY, body)
    assert len(warnings_of(response)) == 3  # end before start, and both times in the future


async def test_a_plausible_update_has_no_warning(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """The Lambda's CTR-sync body (end after start, durations within the call) answers no Callbridge-Warning."""
    await create_call()
    response = await patch(client, auth, INBOUND_KEY, payload("ctr_sync_update"))
    assert response.status_code == 200
    assert "callbridge-warning" not in response.headers
