"""PATCH /telephony/v1/voiceCalls/{id}: spec §3 and decisions.md."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from tests.voice_calls.conftest import CreateCall, payload

URL = "/telephony/v1/voiceCalls"
INBOUND_KEY = "5b2c7a9e-3f1d-4e8a-9c61-0d2f4b7e8a13"


async def patch(client: httpx2.AsyncClient, auth: Callable, call: str, body: object) -> httpx2.Response:
    return await client.patch(f"{URL}/{call}", json=body, headers=auth())


async def test_ctr_sync_update_answers_pending_and_is_visible_at_once(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """The CTR-sync body (by vendorCallKey) answers {"status": "pending"} and the next read shows every field."""
    call_id = await create_call()
    response = await patch(client, auth, INBOUND_KEY, payload("ctr_sync_update"))
    assert response.status_code == 200 and response.json() == {"status": "pending"}
    call = await read_call(call_id)
    assert call["callEndDateTime"] == "2026-11-24T18:24:10Z"
    assert call["callDurationInSeconds"] == 495
    assert call["callAcceptDateTime"] == "2026-11-24T18:16:40Z"
    assert call["callQueuedDateTime"] == "2026-11-24T18:16:02Z"
    assert (call["customerHoldDuration"], call["longestHoldDuration"], call["numberOfHolds"]) == (10, 10, 1)
    assert call["agentInteractionDuration"] == 95
    assert call["queueName"] == "BasicQueue"
    assert call["disconnectReason"] == {"value": "CUSTOMER_DISCONNECT", "isError": False}
    assert call["callAttributes"]["sf_realtime_transcription_status"].startswith("Exceeded Limits")
    assert call["callAttributes"]["Department__c"] == "Support"
    assert call["recording"]["recordingLocation"] == "connect-recordings/2026/11/24/5b2c7a9e.wav"
    assert call["recording"]["durationInSeconds"] == 105
    assert call["isRecorded"] is True
    assert call["callDisposition"] == "completed"
    assert call["isActiveCall"] is False
    assert call["conversation"]["endTime"] is not None


async def test_update_by_salesforce_id(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """The path may carry the 18- or 15-character VoiceCall id."""
    call_id = await create_call()
    assert (await patch(client, auth, call_id[:15], {"queue": "Q15", "isActiveCall": True})).status_code == 200
    assert (await read_call(call_id))["queueName"] == "Q15"


async def test_total_recording_duration_wins(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """With all three durations, totalRecordingDuration is the recording's duration."""
    call_id = await create_call()
    body = {
        "recordingLocation": "s3://r.wav",
        "totalRecordingDuration": 42,
        "agentInteractionDuration": 95,
        "totalHoldDuration": 10,
    }
    await patch(client, auth, call_id, body)
    assert (await read_call(call_id))["recording"]["durationInSeconds"] == 42


async def test_demo_connector_recording_duration_is_interaction_plus_hold(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """Without totalRecordingDuration the duration is agentInteractionDuration + totalHoldDuration."""
    call_id = await create_call("demo_connector_create")
    await patch(client, auth, call_id, payload("demo_connector_update"))
    call = await read_call(call_id)
    assert call["recording"]["durationInSeconds"] == 135
    assert call["callDurationInSeconds"] == 135


async def test_one_recording_per_call(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """A second update with recordingLocation updates the same recording instead of adding one."""
    call_id = await create_call()
    await patch(client, auth, call_id, {"recordingLocation": "a.wav", "totalRecordingDuration": 1})
    first = (await read_call(call_id))["recording"]["id"]
    await patch(client, auth, call_id, {"recordingLocation": "b.wav", "totalRecordingDuration": 2})
    recording = (await read_call(call_id))["recording"]
    assert recording == {"id": first, "recordingLocation": "b.wav", "durationInSeconds": 2}


async def test_hold_figures_stored_without_recording_location(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """Hold and interaction figures are kept even without recordingLocation; no recording is created."""
    call_id = await create_call()
    await patch(client, auth, call_id, {"totalHoldDuration": 7, "numberOfHolds": 2, "agentInteractionDuration": 30})
    call = await read_call(call_id)
    assert (call["customerHoldDuration"], call["numberOfHolds"], call["agentInteractionDuration"]) == (
        7,
        2,
        30,
    )
    assert call["recording"] is None and call["isRecorded"] is False


async def test_closing_never_resets_hold_figures(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """isActiveCall false closes the call but keeps CustomerHoldDuration and NumberOfHolds (decisions.md)."""
    call_id = await create_call()
    await patch(client, auth, call_id, {"totalHoldDuration": 7, "numberOfHolds": 2, "isActiveCall": True})
    await patch(client, auth, call_id, {"isActiveCall": False})
    call = await read_call(call_id)
    assert (call["customerHoldDuration"], call["numberOfHolds"]) == (7, 2)
    assert call["callDisposition"] == "completed"


async def test_active_call_keeps_conversation_open(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """The voicemail packager's isActiveCall true keeps the conversation open and the call in progress; its final
    update with only callCenterApiName closes it."""
    call_id = await create_call()
    await patch(client, auth, call_id, payload("voicemail_update_open"))
    call = await read_call(call_id)
    assert call["conversation"]["endTime"] is None
    assert call["callDisposition"] == "in-progress" and call["callOrigin"] == "Voicemail"
    assert call["recording"]["durationInSeconds"] == 23
    await patch(client, auth, call_id, {"callCenterApiName": "ConformanceCC"})
    call = await read_call(call_id)
    assert call["conversation"]["endTime"] is not None and call["callDisposition"] == "completed"


async def test_closing_a_transferred_leg_keeps_conversation_open(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """isActiveCall false on a leg with a NextCallId completes the leg, but the conversation stays open."""
    parent_id = await create_call()
    await create_call("lambda_create_transfer", queue=None)
    await patch(client, auth, parent_id, {"isActiveCall": False})
    parent = await read_call(parent_id)
    assert parent["callDisposition"] == "completed"
    assert parent["conversation"]["endTime"] is None


async def test_update_of_unknown_key_creates_the_call(
    client: httpx2.AsyncClient, auth: Callable, read_call: Callable
) -> None:
    """An update for a vendorCallKey never seen creates the VoiceCall (missed or abandoned calls)."""
    body = payload("ctr_sync_update", initiationMethod="OUTBOUND", fromNumber="+18005550199", toNumber="+14155550123")
    assert (await patch(client, auth, "never-seen-contact", body)).status_code == 200
    call = await read_call("never-seen-contact")
    assert call["callType"] == "Outbound"
    assert call["fromPhoneNumber"] == "+18005550199"
    assert call["conversation"]["participants"][0]["participantDisplayName"] == "+14155550123"
    assert call["callDisposition"] == "completed"


async def test_update_creating_a_leg_links_parent(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """parentCallIdentifier on an update that creates the call links it as the parent's next leg."""
    parent_id = await create_call()
    body = payload("ctr_sync_update", initiationMethod="TRANSFER", parentCallIdentifier=INBOUND_KEY)
    await patch(client, auth, "transfer-contact", body)
    child = await read_call("transfer-contact")
    assert child["callType"] == "Transfer" and child["previousCallId"] == parent_id
    assert (await read_call(parent_id))["nextCallId"] == child["id"]


async def test_update_of_unknown_salesforce_id_is_404(client: httpx2.AsyncClient, auth: Callable) -> None:
    """An update naming a VoiceCall id that does not exist is a 404 (it cannot be created under that id)."""
    response = await patch(client, auth, "0LQCb00000000000AAA"[:15], {"queue": "x"})
    assert response.status_code == 404
    assert response.json()["code"] == "VOICE_CALL_NOT_FOUND"


async def test_initiation_method_values_of_ctr_sync(client: httpx2.AsyncClient, auth: Callable) -> None:
    """Update takes INBOUND, OUTBOUND, TRANSFER, CALLBACK and WEBRTC_API; anything else is a 400 naming it."""
    for value in ("INBOUND", "OUTBOUND", "TRANSFER", "CALLBACK", "WEBRTC_API", "Inbound"):
        response = await patch(client, auth, f"k-{value}", {"initiationMethod": value, "fromNumber": "+1"})
        assert response.status_code == 200, value
    response = await patch(client, auth, "k-bad", {"initiationMethod": "TELEPORT"})
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("initiationMethod: 'TELEPORT' is not one of")


async def test_disconnect_reason_needs_both_fields(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """disconnectReason without isError is a 400 naming disconnectReason.isError."""
    call_id = await create_call()
    response = await patch(client, auth, call_id, {"disconnectReason": {"value": "CALLBACK"}})
    assert response.status_code == 400
    assert response.json()["errors"] == ["disconnectReason.isError: is required"]


async def test_recording_location_limited_to_1000_characters(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """A recordingLocation over 1,000 characters is refused and nothing changes."""
    call_id = await create_call()
    response = await patch(client, auth, call_id, {"recordingLocation": "x" * 1001, "queue": "Changed"})
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("recordingLocation:")
    assert (await read_call(call_id))["queueName"] is None


async def test_negative_durations_refused(client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall) -> None:
    """Durations are whole non-negative seconds."""
    call_id = await create_call()
    response = await patch(client, auth, call_id, {"totalHoldDuration": -1, "numberOfHolds": "many"})
    assert response.status_code == 400
    assert {e.split(":")[0] for e in response.json()["errors"]} == {"totalHoldDuration", "numberOfHolds"}


async def test_duration_needs_both_times(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """CallDurationInSeconds is recomputed only when startTime and endTime come together."""
    call_id = await create_call()
    await patch(client, auth, call_id, {"endTime": "2026-11-24T18:20:00Z", "isActiveCall": True})
    assert (await read_call(call_id))["callDurationInSeconds"] is None


async def test_empty_accept_time_means_no_value(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, read_call: Callable
) -> None:
    """CTR sync sends acceptTime "" for a caller who never reached a rep: stored as no value, not an error."""
    call_id = await create_call()
    assert (await patch(client, auth, call_id, {"acceptTime": ""})).status_code == 200
    assert (await read_call(call_id))["callAcceptDateTime"] is None


async def test_update_is_recorded_with_its_changes(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """The timeline entry of an update lists what changed."""
    call_id = await create_call()
    await patch(client, auth, call_id, {"queue": "BasicQueue", "isActiveCall": True})
    entries = (await client.get(f"{URL}/{call_id}/timeline", headers=auth())).json()["entries"]
    assert entries[-1]["kind"] == "voice_call.updated"
    assert entries[-1]["data"]["changes"]["queue_name"] == "BasicQueue"
