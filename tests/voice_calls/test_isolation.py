"""Tenant isolation: a token for one call center never sees or changes another's calls."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from tests.voice_calls.conftest import CreateCall, payload

URL = "/telephony/v1/voiceCalls"


def other_headers(other_token: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {other_token()}", "Content-Type": "application/json"}


async def test_other_call_center_cannot_read(
    client: httpx2.AsyncClient, other_token: Callable, create_call: CreateCall
) -> None:
    """Reading another call center's call, by id or by key, is a 404."""
    call_id = await create_call()
    for ref in (call_id, "5b2c7a9e-3f1d-4e8a-9c61-0d2f4b7e8a13"):
        response = await client.get(f"{URL}/{ref}", headers=other_headers(other_token))
        assert response.status_code == 404
        assert response.json()["code"] == "VOICE_CALL_NOT_FOUND"


async def test_other_call_center_cannot_update_by_id(
    client: httpx2.AsyncClient, other_token: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """Updating another call center's call by id is a 404 and changes nothing."""
    call_id = await create_call()
    response = await client.patch(f"{URL}/{call_id}", json={"queue": "Stolen"}, headers=other_headers(other_token))
    assert response.status_code == 404
    assert (await read_call(call_id))["queueName"] is None


async def test_same_key_in_two_call_centers_are_two_calls(
    client: httpx2.AsyncClient, other_token: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """A vendorCallKey is scoped to its call center: the other call center's update creates its own call."""
    call_id = await create_call()
    key = "5b2c7a9e-3f1d-4e8a-9c61-0d2f4b7e8a13"
    response = await client.patch(f"{URL}/{key}", json={"queue": "Theirs"}, headers=other_headers(other_token))
    assert response.status_code == 200
    assert (await read_call(call_id))["queueName"] is None
    theirs = await client.get(f"{URL}/{key}", headers=other_headers(other_token))
    assert theirs.json()["id"] != call_id and theirs.json()["queueName"] == "Theirs"


async def test_transfer_cannot_name_another_call_centers_parent(
    client: httpx2.AsyncClient, other_token: Callable, create_call: CreateCall
) -> None:
    """parentVoiceCallId naming a call of another call center is not found."""
    call_id = await create_call()
    body = payload("lambda_create_transfer", callCenterApiName="OtherCC", parentVoiceCallId=call_id)
    response = await client.post(URL, json=body, headers=other_headers(other_token))
    assert response.status_code == 400
    assert response.json()["code"] == "PARENT_VOICE_CALL_NOT_FOUND"
