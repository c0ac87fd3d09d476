"""POST /telephony/v1/voiceCalls: spec §2 and decisions.md "Identifiers and calls"."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from callbridge.kit import ids
from tests.voice_calls.conftest import CreateCall, payload

URL = "/telephony/v1/voiceCalls"


async def test_lambda_inbound_create_returns_salesforce_shaped_id(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """The Amazon Connect Lambda's create body yields 200 {"voiceCallId": "0LQ…" (18 chars), "errors": []}."""
    response = await client.post(URL, json=payload("lambda_create_inbound"), headers=auth())
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == []
    assert ids.is_salesforce_id(body["voiceCallId"], "0LQ") and len(body["voiceCallId"]) == 18


async def test_created_call_stores_every_field(create_call: CreateCall, read_call: Callable) -> None:
    """The stored record carries the create body's fields, with callAttributes decoded from its JSON string."""
    call = await read_call(await create_call())
    assert call["vendorCallKey"] == "5b2c7a9e-3f1d-4e8a-9c61-0d2f4b7e8a13"
    assert call["callType"] == "Inbound"
    assert call["callSubtype"] == "PSTN"
    assert call["callDisposition"] == "new"
    assert call["fromPhoneNumber"] == "+14155550123"
    assert call["toPhoneNumber"] == "+18005550199"
    assert call["callStartDateTime"] == "2026-11-24T18:15:55.793000Z"
    assert call["callAttributes"] == {"Department__c": "Support"}
    assert call["telephonyProviderName"] == "amazon-connect"
    participants = call["conversation"]["participants"]
    assert [(p["participantRole"], p["participantKey"]) for p in participants] == [("EndUser", "END_USER")]
    assert participants[0]["participantDisplayName"] == "+14155550123"
    assert call["conversation"]["endTime"] is None


async def test_repeated_create_is_idempotent(create_call: CreateCall, read_call: Callable) -> None:
    """A second create with the same vendorCallKey and no parent returns the same id and creates nothing."""
    first = await create_call()
    second = await create_call(**{"from": "+19995550000"})
    assert first == second
    call = await read_call(first)
    assert call["fromPhoneNumber"] == "+14155550123"
    assert len(call["legs"]) == 1


async def test_transfer_creates_linked_leg_sharing_the_conversation(
    create_call: CreateCall, read_call: Callable
) -> None:
    """A Transfer with parentVoiceCallId (the parent's vendorCallKey) makes a new leg: PreviousCallId/NextCallId
    link the two, the conversation is the first leg's."""
    parent_id = await create_call()
    child_id = await create_call("lambda_create_transfer")
    parent, child = await read_call(parent_id), await read_call(child_id)
    assert child_id != parent_id
    assert child["callType"] == "Transfer"
    assert child["previousCallId"] == parent_id and parent["nextCallId"] == child_id
    assert child["conversationId"] == parent["conversationId"]
    assert [leg["id"] for leg in child["legs"]] == [parent_id, child_id]


async def test_transfer_queue_arn_sets_owner_queue(
    create_call: CreateCall, read_call: Callable, seed_queue: Callable
) -> None:
    """`queue` on a transfer resolves an external id (ARN) to a known queue, which becomes the owner."""
    queue_id = await seed_queue("Support", "arn:aws:connect:us-east-1:111122223333:instance/i1/queue/q-support")
    await create_call()
    child = await read_call(await create_call("lambda_create_transfer"))
    assert child["ownerQueueId"] == queue_id
    assert child["queueName"] == "Support"


async def test_transfer_with_unknown_queue_is_created_with_errors_string(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], create_call: CreateCall
) -> None:
    """An unresolvable transfer queue still creates the leg; `errors` becomes Salesforce's partial-failure string."""
    await create_call()
    response = await client.post(URL, json=payload("lambda_create_transfer"), headers=auth())
    assert response.status_code == 200
    body = response.json()
    assert ids.is_salesforce_id(body["voiceCallId"], "0LQ")
    assert isinstance(body["errors"], str)
    assert body["errors"].startswith("We created your voice call but there were some errors : queue:")


async def test_transfer_with_same_key_as_parent_makes_a_new_leg(create_call: CreateCall, read_call: Callable) -> None:
    """A leg may reuse its parent's vendorCallKey; the key then names the newest leg for reads."""
    parent_id = await create_call("demo_connector_create")
    child_id = await create_call("demo_connector_create", initiationMethod="Transfer", parentVoiceCallId="a8hjdd")
    assert child_id != parent_id
    assert (await read_call("a8hjdd"))["id"] == child_id


async def test_transfer_chain_of_three_legs(create_call: CreateCall, read_call: Callable) -> None:
    """A further transfer adds a third leg after the second; all three are listed in order."""
    first = await create_call()
    second = await create_call("lambda_create_transfer")
    third = await create_call("lambda_create_transfer", vendorCallKey="leg-3", parentVoiceCallId=second, queue=None)
    call = await read_call(third)
    assert [leg["id"] for leg in call["legs"]] == [first, second, third]
    assert (await read_call(second))["nextCallId"] == third


async def test_transfer_without_parent_is_refused(client: httpx2.AsyncClient, auth: Callable) -> None:
    """initiationMethod Transfer without parentVoiceCallId is a 400 naming the field."""
    body = payload("lambda_create_transfer")
    del body["parentVoiceCallId"]
    response = await client.post(URL, json=body, headers=auth())
    assert response.status_code == 400
    assert any(e.startswith("parentVoiceCallId:") for e in response.json()["errors"])


async def test_transfer_to_unknown_parent_is_refused(client: httpx2.AsyncClient, auth: Callable) -> None:
    """A parentVoiceCallId that names no call of this call center is a 400 PARENT_VOICE_CALL_NOT_FOUND."""
    response = await client.post(URL, json=payload("lambda_create_transfer"), headers=auth())
    assert response.status_code == 400
    assert response.json()["code"] == "PARENT_VOICE_CALL_NOT_FOUND"


async def test_outbound_create_is_refused(client: httpx2.AsyncClient, auth: Callable) -> None:
    """Outbound cannot be created through this endpoint, as documented: 400 naming initiationMethod."""
    response = await client.post(
        URL, json=payload("lambda_create_inbound", initiationMethod="Outbound"), headers=auth()
    )
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("initiationMethod: Outbound calls cannot be created")


async def test_initiation_method_is_case_insensitive(create_call: CreateCall, read_call: Callable) -> None:
    """`inbound` and `INBOUND` are Inbound."""
    call = await read_call(await create_call(initiationMethod="INBOUND"))
    assert call["callType"] == "Inbound"


async def test_all_problems_are_listed_at_once(client: httpx2.AsyncClient, auth: Callable) -> None:
    """A body with several problems gets one 400 listing each, by field path."""
    body = {
        "callCenterApiName": "ConformanceCC",
        "initiationMethod": "Sideways",
        "startTime": "yesterday",
        "participants": [{"type": "END_USER"}],
    }
    response = await client.post(URL, json=body, headers=auth())
    assert response.status_code == 400
    errors = response.json()["errors"]
    fields = {e.split(":")[0] for e in errors}
    assert {"vendorCallKey", "startTime", "participants[0].participantKey"} <= fields
    assert response.json()["code"] == "INVALID_REQUEST"


async def test_to_and_from_required_for_pstn(client: httpx2.AsyncClient, auth: Callable) -> None:
    """`to`/`from` may be omitted only for WebRTC calls."""
    body = payload("lambda_create_inbound")
    del body["to"], body["from"]
    response = await client.post(URL, json=body, headers=auth())
    assert response.status_code == 400
    assert {e.split(":")[0] for e in response.json()["errors"]} == {"to", "from"}


async def test_webrtc_defaults_missing_endpoints(create_call: CreateCall, read_call: Callable) -> None:
    """A WebRTC call without `from` gets WEBRTC_DEFAULT, and WebRTC_Default is the same value."""
    call = await read_call(await create_call("webrtc_create"))
    assert call["callSubtype"] == "WebRTC"
    assert call["fromPhoneNumber"] == "WEBRTC_DEFAULT"
    assert call["toPhoneNumber"] == "WEBRTC_DEFAULT"


async def test_leading_spaces_are_trimmed(create_call: CreateCall, read_call: Callable) -> None:
    """Spaces around a value that is not a space-for-plus number are trimmed."""
    call = await read_call(await create_call(to="  4150000000 ", vendorCallKey=" padded-key "))
    assert (call["toPhoneNumber"], call["vendorCallKey"]) == ("4150000000", "padded-key")


async def test_call_attributes_as_object_accepted(create_call: CreateCall, read_call: Callable) -> None:
    """callAttributes may be an object as well as a JSON string."""
    call = await read_call(await create_call(callAttributes={"SourceType": "Service"}))
    assert call["callAttributes"] == {"SourceType": "Service"}


async def test_call_attributes_must_be_a_json_object(client: httpx2.AsyncClient, auth: Callable) -> None:
    """callAttributes holding invalid JSON, or JSON that is not an object, is a 400 naming the field."""
    for bad in ['{"Department__c":"Support", "Sales"}', "[1, 2]", 42]:
        response = await client.post(URL, json=payload("lambda_create_inbound", callAttributes=bad), headers=auth())
        assert response.status_code == 400, bad
        assert response.json()["errors"][0].startswith("callAttributes:")


async def test_call_subtype_spelling_variants(client: httpx2.AsyncClient, auth: Callable, read_call: Callable) -> None:
    """callSubType (capital T) and `webRTC` are accepted as callSubtype WebRTC."""
    body = payload("lambda_create_inbound", callSubType="webRTC")
    del body["callSubtype"]
    response = await client.post(URL, json=body, headers=auth())
    assert (await read_call(response.json()["voiceCallId"]))["callSubtype"] == "WebRTC"


async def test_unknown_fields_are_ignored(create_call: CreateCall, read_call: Callable) -> None:
    """Extra fields real clients add do not cause errors."""
    call = await read_call(await create_call(someVendorField="x", metaData={"a": 1}))
    assert call["callType"] == "Inbound"


async def test_call_center_mismatch_is_refused(client: httpx2.AsyncClient, auth: Callable) -> None:
    """A callCenterApiName other than the token's call center is a 400 CALL_CENTER_MISMATCH."""
    response = await client.post(
        URL, json=payload("lambda_create_inbound", callCenterApiName="OtherCC"), headers=auth()
    )
    assert response.status_code == 400
    assert response.json()["code"] == "CALL_CENTER_MISMATCH"


async def test_call_origin_is_stored(create_call: CreateCall, read_call: Callable) -> None:
    """callOrigin Voicemail is stored as the picklist spells it."""
    call = await read_call(await create_call(callOrigin="voicemail"))
    assert call["callOrigin"] == "Voicemail"


async def test_create_is_recorded_in_the_timeline(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """Creating and re-creating a call leave two timeline entries: created, then unchanged with the reason."""
    call_id = await create_call()
    await create_call()
    response = await client.get(f"{URL}/{call_id}/timeline", headers=auth())
    entries = response.json()["entries"]
    assert [(e["kind"], e["outcome"]) for e in entries] == [
        ("voice_call.created", "created"),
        ("voice_call.created", "unchanged"),
    ]
    assert entries[0]["actor"] == "telephony:amazon-connect"
    assert entries[0]["request"] == "POST /telephony/v1/voiceCalls"
    assert "vendorCallKey exists" in entries[1]["reason"]
