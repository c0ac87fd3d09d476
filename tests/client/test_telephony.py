"""The async client against a real server process: every /telephony/v1 endpoint, typed answers and errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from callbridge.client import (
    AsyncCallbridgeClient,
    AuthenticationError,
    BadRequestError,
    BulkTranscriptEntry,
    BulkTranscriptsAccepted,
    BulkTranscriptsMultiStatus,
    CallbackRequest,
    ConflictError,
    NotFoundError,
    OmniFlowRequest,
    PostCallEvent,
    PostConversationEvents,
    RealtimeConversationEvents,
    RealtimeEvent,
    RouteRequest,
    SignalParticipant,
    SignalType,
    TokenSigner,
    TranscriptMessage,
    VoiceCallCreate,
    VoiceCallUpdate,
    epoch_ms,
)
from tests.client.live import CALL_CENTER, DIALED_NUMBER, ORG_ID, SUPPORT_ARN, LiveServer


def inbound(key: str) -> VoiceCallCreate:
    return VoiceCallCreate(vendor_call_key=key, to=DIALED_NUMBER, from_="+14155550123")


async def test_create_answers_the_voice_call_id(client: AsyncCallbridgeClient, key: str) -> None:
    """create_voice_call fills callCenterApiName from the signer and returns the 0LQ id with no errors."""
    created = await client.create_voice_call(inbound(key))
    assert created.voice_call_id.startswith("0LQ")
    assert created.errors == []
    stored = await client.get_voice_call(key)
    assert stored.id == created.voice_call_id
    assert stored.call_center_api_name == CALL_CENTER
    assert stored.telephony_provider_name == "amazon-connect"


async def test_recreate_returns_the_same_call(client: AsyncCallbridgeClient, key: str) -> None:
    """Creating the same vendorCallKey again (a retried Lambda) returns the first id."""
    first = await client.create_voice_call(inbound(key))
    second = await client.create_voice_call(inbound(key))
    assert second.voice_call_id == first.voice_call_id


async def test_call_attributes_travel_as_a_json_string(client: AsyncCallbridgeClient, key: str) -> None:
    """A dict of call attributes is sent as the documented JSON string and stored as fields."""
    call = inbound(key).model_copy(update={"call_attributes": {"Department__c": "Billing"}})
    await client.create_voice_call(call)
    assert (await client.get_voice_call(key)).call_attributes == {"Department__c": "Billing"}


async def test_update_closes_the_call(client: AsyncCallbridgeClient, key: str) -> None:
    """update_voice_call with isActiveCall false answers pending and the call reads back completed."""
    created = await client.create_voice_call(inbound(key))
    answer = await client.update_voice_call(
        created.voice_call_id,
        VoiceCallUpdate(end_time=datetime.now(UTC), total_hold_duration=10, is_active_call=False),
    )
    assert answer.status == "pending"
    stored = await client.get_voice_call(key)
    assert stored.call_disposition == "completed"
    assert stored.customer_hold_duration == 10
    assert stored.conversation.end_time is not None


async def test_unknown_call_raises_not_found(client: AsyncCallbridgeClient) -> None:
    """A 404 becomes NotFoundError carrying the status, the server's code and its message."""
    with pytest.raises(NotFoundError) as raised:
        await client.get_voice_call("0LQXX0000000000OAA")
    assert raised.value.status == 404
    assert raised.value.code == "VOICE_CALL_NOT_FOUND"
    assert "0LQXX0000000000OAA" in raised.value.message


async def test_transfer_leg_links_to_its_parent(client: AsyncCallbridgeClient, key: str) -> None:
    """A create with parent_voice_call_id is a Transfer leg linked to the parent."""
    parent = await client.create_voice_call(inbound(key))
    child_key = str(uuid.uuid4())
    child = await client.create_voice_call(
        VoiceCallCreate(vendor_call_key=child_key, to=DIALED_NUMBER, from_="+14155550123", parent_voice_call_id=key)
    )
    stored = await client.get_voice_call(child_key)
    assert stored.call_type == "Transfer"
    assert stored.previous_call_id == parent.voice_call_id
    assert [leg.id for leg in stored.legs] == [parent.voice_call_id, child.voice_call_id]


async def test_timeline_tells_what_happened(client: AsyncCallbridgeClient, key: str) -> None:
    """get_timeline lists the create and a dropped transcript with its reason."""
    created = await client.create_voice_call(inbound(key))
    early = epoch_ms(datetime.now(UTC) - timedelta(hours=1))
    await client.send_transcript(key, TranscriptMessage(content="too early", start_time=early))
    timeline = await client.get_timeline(created.voice_call_id)
    assert timeline.entries[0].kind == "voice_call.created"
    (dropped,) = timeline.of_kind("transcript.dropped")
    assert dropped.reason


async def test_transcript_is_stored_and_resend_replaces(client: AsyncCallbridgeClient, key: str) -> None:
    """send_transcript stores an utterance; resending its messageId with new content replaces it."""
    await client.create_voice_call(inbound(key))
    message = TranscriptMessage(content="I would like to")
    assert (await client.send_transcript(key, message)).result == "Accepted"
    await client.send_transcript(key, message.model_copy(update={"content": "I would like to pay."}))
    entries = [entry async for entry in client.iter_messages(key)]
    assert [(e.message_id, e.content, e.version) for e in entries] == [(message.message_id, "I would like to pay.", 2)]
    assert entries[0].sender.participant_id == f"{key}END_USER"


async def test_bulk_transcripts_all_taken_is_accepted(client: AsyncCallbridgeClient, key: str) -> None:
    """send_transcripts answers 202 as BulkTranscriptsAccepted: accepted, no entries."""
    await client.create_voice_call(inbound(key))
    entry = BulkTranscriptEntry(vendor_call_key=key, messages=[TranscriptMessage(content="one")])
    answer = await client.send_transcripts([entry])
    assert isinstance(answer, BulkTranscriptsAccepted)
    assert (answer.result, answer.accepted, answer.entries) == ("Accepted", True, [])


async def test_bulk_transcripts_207_has_an_entry_each(client: AsyncCallbridgeClient, key: str) -> None:
    """A 207 is BulkTranscriptsMultiStatus with one typed result per entry, in order: 202 then 404."""
    await client.create_voice_call(inbound(key))
    entry = BulkTranscriptEntry(vendor_call_key=key, messages=[TranscriptMessage(content="one")])
    unknown = BulkTranscriptEntry(vendor_call_key="nobody-" + key, messages=[TranscriptMessage(content="x")])
    partial = await client.send_transcripts([entry, unknown])
    assert isinstance(partial, BulkTranscriptsMultiStatus) and not partial.accepted
    assert [(e.vendor_call_key, e.status, e.accepted) for e in partial.entries] == [
        (key, 202, True),
        ("nobody-" + key, 404, False),
    ]
    assert partial.entries[0].message == "Successfully Processed Transcripts"
    assert partial.rate_limited_keys == []


async def test_list_messages_pages_and_shows_drops(client: AsyncCallbridgeClient, key: str) -> None:
    """list_messages pages with limit/after; include_dropped adds dropped messages with their reason."""
    await client.create_voice_call(inbound(key))
    for n in range(3):
        await client.send_transcript(key, TranscriptMessage(content=f"line {n}", message_id=f"{key}-{n}"))
    early = epoch_ms(datetime.now(UTC) - timedelta(hours=1))
    await client.send_transcript(key, TranscriptMessage(content="early", message_id=f"{key}-x", start_time=early))
    first = await client.list_messages(key, limit=2)
    assert len(first.entries) == 2 and first.next is not None
    second = await client.list_messages(key, limit=2, after=first.next)
    assert [e.message_id for e in second.entries] == [f"{key}-2"]
    with_drops = await client.list_messages(key, include_dropped=True)
    assert {e.message_id: e.drop_reason for e in with_drops.entries}[f"{key}-x"] == "before_start"


async def test_omni_flow_routes_and_clear_routing_removes(client: AsyncCallbridgeClient, key: str) -> None:
    """execute_omni_flow answers the queue's external id and makes a PSR; clear_routing removes it."""
    await client.create_voice_call(inbound(key))
    result = await client.execute_omni_flow(key, OmniFlowRequest(dialed_number=DIALED_NUMBER))
    assert (result.agent, result.queue) == (None, SUPPORT_ARN)
    assert len((await client.get_routing(key)).pending_service_routings) == 1
    assert (await client.clear_routing(key)).status == "Success"
    assert (await client.get_routing(key)).pending_service_routings == []


async def test_unroutable_raises_bad_request_naming_each_route(client: AsyncCallbridgeClient, key: str) -> None:
    """ROUTING_FAILED arrives as BadRequestError whose errors name each route tried."""
    await client.create_voice_call(inbound(key))
    with pytest.raises(BadRequestError) as raised:
        await client.execute_omni_flow(key, OmniFlowRequest(dialed_number="+19995550000", flow_dev_name="Nope"))
    assert raised.value.code == "ROUTING_FAILED"
    assert any("dialedNumber" in e for e in raised.value.errors)
    assert any("flowDevName" in e for e in raised.value.errors)


@pytest.mark.parametrize("documented_path", [False, True])
async def test_route_voice_call_both_spellings(client: AsyncCallbridgeClient, key: str, documented_path: bool) -> None:
    """route_voice_call works by the clients' PATCH path and the documented POST path."""
    await client.create_voice_call(inbound(key))
    status = await client.route_voice_call(key, RouteRequest(routing_target="Support"), documented_path=documented_path)
    assert status.status == "Success"
    assert (await client.get_routing(key)).pending_service_routings[0].queue_name == "Support"


async def test_reroute_needs_a_routing(client: AsyncCallbridgeClient, key: str) -> None:
    """reroute on a call never routed is ConflictError NOTHING_TO_REROUTE; after a route it succeeds."""
    await client.create_voice_call(inbound(key))
    with pytest.raises(ConflictError) as raised:
        await client.reroute(key)
    assert raised.value.code == "NOTHING_TO_REROUTE"
    await client.route_voice_call(key, RouteRequest(routing_target="Support"))
    assert (await client.reroute(key)).status == "Success"


async def test_request_callback_creates_a_contact_request(client: AsyncCallbridgeClient, key: str) -> None:
    """request_callback answers the ContactRequest id, which the call's routing shows."""
    await client.create_voice_call(inbound(key))
    created = await client.request_callback(key, CallbackRequest(callback_number="+14155550123"))
    assert created.record_id.startswith("0SR")
    routing = await client.get_routing(key)
    assert [request.id for request in routing.contact_requests] == [created.record_id]


async def test_conversation_events_realtime_and_post_call(client: AsyncCallbridgeClient, key: str) -> None:
    """Real-time events are 202; post-call events are ConflictError before the close and stored after it."""
    await client.create_voice_call(inbound(key))
    realtime = RealtimeConversationEvents(
        service="AmazonConnectContactLens",
        persist=True,
        events=[RealtimeEvent(type=SignalType.CATEGORY, value="CustomerAngry")],
    )
    assert (await client.send_realtime_events(key, realtime)).status == "202 Accepted"
    now = epoch_ms()
    post_call = PostConversationEvents(
        service="AmazonConnectContactLens",
        events=[
            PostCallEvent(
                type=SignalType.OVERALL_SENTIMENT_SCORE,
                value="0.8",
                start_time=now - 30_000,
                end_time=now,
                participant=SignalParticipant.CUSTOMER,
            )
        ],
    )
    with pytest.raises(ConflictError) as raised:
        await client.send_post_call_events(key, post_call)
    assert raised.value.code == "CONVERSATION_NOT_CLOSED"
    await client.update_voice_call(key, VoiceCallUpdate(end_time=datetime.now(UTC)))
    assert (await client.send_post_call_events(key, post_call)).status == "202 Accepted"
    stored = [event async for event in client.iter_conversation_events(key)]
    assert {(event.source, event.type) for event in stored} == {
        ("realtime", "IntelligenceSignal__Category"),
        ("post_call", "IntelligenceSignal__OverallSentimentScore"),
    }
    page = await client.list_conversation_events(key, types=["IntelligenceSignal__Category"])
    assert [event.value for event in page.events] == ["CustomerAngry"]
    assert (await client.get_voice_call(key)).customer_sentiment_score == 0.8


async def test_every_request_carries_a_fresh_lambda_token(client: AsyncCallbridgeClient, key: str) -> None:
    """Many requests in a row are all accepted: each has its own token and jti, as the Lambdas send."""
    await client.create_voice_call(inbound(key))
    for n in range(5):
        await client.send_transcript(key, TranscriptMessage(content=f"n{n}"))
    tokens = {client.signer.token() for _ in range(3)}
    assert len({jwt.decode(t, options={"verify_signature": False})["jti"] for t in tokens}) == 3


async def test_refused_token_raises_authentication_error(server: LiveServer, key: str) -> None:
    """A token signed with an untrusted key is AuthenticationError with the server's reason code."""
    stranger = TokenSigner(server.other_private_key_pem, ORG_ID, CALL_CENTER)
    async with AsyncCallbridgeClient(server.url, stranger) as client:
        with pytest.raises(AuthenticationError) as raised:
            await client.create_voice_call(inbound(key))
    assert (raised.value.status, raised.value.code) == (401, "SIGNATURE_INVALID")


async def test_base_url_may_be_the_scrt_endpoint_base(server: LiveServer, signer: TokenSigner, key: str) -> None:
    """SCRT_ENDPOINT_BASE (ending /telephony/v1) works as the base URL, as the Lambdas configure it."""
    async with AsyncCallbridgeClient(f"{server.url}/telephony/v1/", signer) as client:
        assert client.base_url == f"{server.url}/telephony/v1"
        assert (await client.create_voice_call(inbound(key))).voice_call_id.startswith("0LQ")


async def test_raw_request_sends_exactly_what_is_given(client: AsyncCallbridgeClient, key: str) -> None:
    """raw_request keeps a trailing slash, a literal null body and odd headers, and never raises on errors."""
    await client.create_voice_call(inbound(key))
    message = TranscriptMessage(content="slash").wire()
    response = await client.raw_request(
        "POST", f"/voiceCalls/{key}/messages/", body=message, headers={"Content-Type": "application/json; utf-8"}
    )
    assert (response.status_code, response.json()) == (200, {"result": "Accepted"})
    cleared = await client.raw_request("PATCH", f"/voiceCalls/{key}/clearRouting", content=b"null")
    assert cleared.json() == {"status": "Success"}
    refused = await client.raw_request("POST", "/voiceCalls", body={}, authorization=False)
    assert (refused.status_code, refused.json()["code"]) == (401, "TOKEN_MISSING")
