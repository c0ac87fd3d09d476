"""What real clients send that needs reading kindly: a '+' that arrived as a space, a post-call update that
completes a call without an end time, and a create missing several required fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2

from tests.voice_calls.conftest import CreateCall, payload

URL = "/telephony/v1/voiceCalls"


async def timeline(client: httpx2.AsyncClient, auth: Callable, call: str) -> list[dict[str, Any]]:
    response = await client.get(f"{URL}/{call}/timeline", headers=auth())
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


async def test_the_demo_connectors_space_for_plus_gets_its_plus_back(
    create_call: CreateCall, read_call: Callable
) -> None:
    """The demo connector's unencoded +1415… arrives as " 1415…": from and the end user's key are +1415…."""
    call = await read_call(await create_call("demo_connector_create"))
    assert call["fromPhoneNumber"] == "+14155550123"
    (end_user,) = [p for p in call["conversation"]["participants"] if p["participantRole"] == "EndUser"]
    assert end_user["participantDisplayName"] == "+14155550123"


async def test_a_restored_plus_is_noted_in_the_timeline(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable
) -> None:
    """The create's timeline entry says which field had its '+' restored."""
    call = await create_call("demo_connector_create")
    (created,) = [e for e in await timeline(client, auth, call) if e["kind"] == "voice_call.created"]
    assert "from ' 14155550123' arrived with a space where its '+' was" in created["reason"]


async def test_a_space_before_a_number_that_is_not_e164_is_only_trimmed(
    create_call: CreateCall, read_call: Callable
) -> None:
    """ " 04155550100" starts with 0, so it cannot be an E.164 number: it is only trimmed."""
    call = await read_call(await create_call("demo_connector_create", to=" 04155550100"))
    assert call["toPhoneNumber"] == "04155550100"


async def test_two_leading_spaces_are_only_trimmed(create_call: CreateCall, read_call: Callable) -> None:
    """Only one space stands for a '+': "  14155550123" is trimmed, not given a '+'."""
    call = await read_call(await create_call("demo_connector_create", **{"from": "  14155550123"}))
    assert call["fromPhoneNumber"] == "14155550123"


async def test_update_restores_the_plus_of_from_number(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable, read_call: Callable
) -> None:
    """PATCH fromNumber " 14155550177": stored +14155550177, and the update's timeline entry says so."""
    call = await create_call()
    body = {"fromNumber": " 14155550177", "isActiveCall": True}
    assert (await client.patch(f"{URL}/{call}", json=body, headers=auth())).status_code == 200
    assert (await read_call(call))["fromPhoneNumber"] == "+14155550177"
    updated = [e for e in await timeline(client, auth, call) if e["kind"] == "voice_call.updated"]
    assert "fromNumber ' 14155550177'" in updated[-1]["reason"]


async def test_the_demo_connectors_recording_patch_sets_the_end_time(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable, read_call: Callable
) -> None:
    """{recordingLocation, totalRecordingDuration} completes the call: CallEndDateTime is the receive time."""
    call = await create_call("demo_connector_create")
    body = payload("demo_connector_recording_update")
    assert (await client.patch(f"{URL}/{call}", json=body, headers=auth())).status_code == 200
    stored = await read_call(call)
    assert (stored["callDisposition"], stored["isActiveCall"]) == ("completed", False)
    assert stored["callEndDateTime"] is not None
    updated = [e for e in await timeline(client, auth, call) if e["kind"] == "voice_call.updated"]
    assert "CallEndDateTime is the server's receive time" in updated[-1]["reason"]


async def test_an_update_with_its_end_time_keeps_it(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable, read_call: Callable
) -> None:
    """The demo connector's update with an endTime: that end time is kept, nothing noted about receive time."""
    call = await create_call("demo_connector_create")
    await client.patch(f"{URL}/{call}", json=payload("demo_connector_update"), headers=auth())
    assert (await read_call(call))["callEndDateTime"] == "2026-11-24T18:42:15Z"


async def test_create_missing_several_required_fields_lists_each(client: httpx2.AsyncClient, auth: Callable) -> None:
    """Only callCenterApiName: 400 naming vendorCallKey, to, from, initiationMethod, startTime, participants."""
    response = await client.post(URL, json={"callCenterApiName": "ConformanceCC"}, headers=auth())
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_REQUEST"
    fields = {problem.split(":")[0] for problem in body["errors"]}
    assert fields == {"vendorCallKey", "to", "from", "initiationMethod", "startTime", "participants"}


async def test_webrtc_create_missing_fields_does_not_ask_for_to_and_from(
    client: httpx2.AsyncClient, auth: Callable
) -> None:
    """callSubtype WebRTC: to/from may be omitted, so they are not listed among the missing fields."""
    body = {"callCenterApiName": "ConformanceCC", "callSubtype": "WebRTC"}
    response = await client.post(URL, json=body, headers=auth())
    fields = {problem.split(":")[0] for problem in response.json()["errors"]}
    assert fields == {"vendorCallKey", "initiationMethod", "startTime", "participants"}
