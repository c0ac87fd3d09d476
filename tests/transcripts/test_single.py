"""POST /telephony/v1/voiceCalls/{vendorCallKey}/messages: spec §4 and decisions.md "Transcripts"."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx2

from tests.transcripts.conftest import (
    DEMO_KEY,
    IN_CALL_MS,
    INBOUND_KEY,
    URL,
    Post,
    body_of,
    message,
    raw_payload,
)
from tests.voice_calls.conftest import CreateCall

ACCEPTED = {"result": "Accepted"}
# The voicemail_update_open body's startTime and endTime, in epoch ms.
VOICEMAIL_START_MS, VOICEMAIL_END_MS = 1795545000000, 1795545023000


async def test_lambda_message_is_stored_and_reads_back(
    post_message: Post, create_call: CreateCall, stored: Callable
) -> None:
    """The Lambda's sendMessage body answers {"result": "Accepted"} and the entry reads back as sent."""
    call_id = await create_call()
    response = await post_message(INBOUND_KEY, message("m1", callCenterApiName="ConformanceCC"))
    assert response.status_code == 200 and response.json() == ACCEPTED
    (entry,) = await stored(call_id)
    assert entry["messageId"] == "m1"
    assert entry["status"] == "stored"
    assert entry["content"] == "My order never arrived."
    assert entry["sender"] == {"role": "EndUser", "participantId": f"{INBOUND_KEY}END_USER"}
    assert (entry["startTime"], entry["endTime"]) == (IN_CALL_MS, IN_CALL_MS + 2500)
    assert entry["voiceCallId"] == call_id
    assert entry["version"] == 1
    assert entry["serverReceivedTimestamp"] > 0


async def test_kvs_transcriber_trailing_slash_and_utf8_content_type(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, stored: Callable, timeline: Callable
) -> None:
    """The Java transcriber's exact bytes to `/messages/` with `application/json; utf-8` are stored; the phone
    number it sends as participantId is rewritten and kept nowhere."""
    call_id = await create_call()
    headers = {**auth(), "Content-Type": "application/json; utf-8", "Accept": "application/json"}
    response = await client.post(
        f"{URL}/{INBOUND_KEY}/messages/", content=raw_payload("kvs_transcriber_message"), headers=headers
    )
    assert response.status_code == 200 and response.json() == ACCEPTED
    (entry,) = await stored(call_id)
    assert entry["content"] == "I ordered it on 11/20 and it still isn't here."
    assert entry["sender"]["participantId"] == f"{INBOUND_KEY}END_USER"
    (record,) = await timeline(call_id)
    assert record["kind"] == "transcript.accepted"
    assert record["data"]["participantIdRewritten"] is True
    assert "+14155550123" not in str(record)


async def test_unknown_vendor_call_key_is_404(post_message: Post, create_call: CreateCall) -> None:
    """A key that names no call answers 404 VOICE_CALL_NOT_FOUND."""
    await create_call()
    response = await post_message("no-such-contact", message())
    assert response.status_code == 404
    assert response.json()["code"] == "VOICE_CALL_NOT_FOUND"


async def test_voice_call_id_is_refused(post_message: Post, create_call: CreateCall) -> None:
    """A Salesforce VoiceCall id (0LQ) in place of the vendorCallKey answers 404 VENDOR_CALL_KEY_REQUIRED."""
    call_id = await create_call()
    for given in (call_id, call_id[:15]):
        response = await post_message(given, message())
        assert response.status_code == 404
        assert response.json()["code"] == "VENDOR_CALL_KEY_REQUIRED"


async def test_call_of_another_call_center_is_not_found(
    client: httpx2.AsyncClient, create_call: CreateCall, other_token: Callable
) -> None:
    """A token of another call center cannot write to the call: 404, as if it did not exist."""
    await create_call()
    headers = {"Authorization": f"Bearer {other_token()}", "Content-Type": "application/json"}
    response = await client.post(f"{URL}/{INBOUND_KEY}/messages", json=message(), headers=headers)
    assert response.status_code == 404
    assert response.json()["code"] == "VOICE_CALL_NOT_FOUND"


async def test_missing_token_is_401(client: httpx2.AsyncClient, create_call: CreateCall) -> None:
    """Without a token the endpoint answers 401 with the reason."""
    response = await client.post(f"{URL}/{INBOUND_KEY}/messages", json=message())
    assert response.status_code == 401
    assert response.json()["code"] == "TOKEN_MISSING"


async def test_validation_lists_every_bad_path(post_message: Post, create_call: CreateCall, stored: Callable) -> None:
    """Every problem of the body is listed at once, each naming its field, and nothing is stored."""
    call_id = await create_call()
    body = message(senderType="ROBOT", startTime="soon", content="x" * 32_001)
    del body["messageId"]
    response = await post_message(INBOUND_KEY, body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(e.startswith("messageId: is required") for e in errors)
    assert any(e.startswith("senderType: 'ROBOT' is not one of") for e in errors)
    assert any(e.startswith("startTime:") for e in errors)
    assert "content: is 32001 characters; at most 32000 are allowed" in errors
    assert await stored(call_id) == []


async def test_content_of_32000_characters_is_taken(
    post_message: Post, create_call: CreateCall, stored: Callable
) -> None:
    """Content up to 32,000 characters is accepted whole."""
    call_id = await create_call()
    assert (await post_message(INBOUND_KEY, message(content="y" * 32_000))).status_code == 200
    assert len((await stored(call_id))[0]["content"]) == 32_000


async def test_voicemail_packager_year_takes_the_voicemails_own_times(
    client: httpx2.AsyncClient,
    auth: Callable,
    post_message: Post,
    create_call: CreateCall,
    stored: Callable,
    timeline: Callable,
) -> None:
    """The voicemail packager's startTime/endTime 2026 (parseInt of a date) cannot be real on a voicemail: the
    message is stored at the voicemail's own start and end, and the timeline says so."""
    call_id = await create_call()
    opened = await client.patch(f"{URL}/{call_id}", json=body_of("voicemail_update_open"), headers=auth())
    assert opened.status_code == 200
    response = await post_message(INBOUND_KEY, body_of("voicemail_message"))
    assert response.status_code == 200 and response.json() == ACCEPTED
    (entry,) = await stored(call_id)
    assert entry["content"].startswith("Hi, this is Dana")
    (record,) = await timeline(call_id)
    assert record["kind"] == "transcript.accepted"
    assert (record["data"]["startTime"], record["data"]["endTime"]) == (VOICEMAIL_START_MS, VOICEMAIL_END_MS)
    assert "startTime read as 1970-01-01T00:33:46.000Z cannot be real (before 2000) on a voicemail" in record["reason"]
    assert "the voicemail's own start 2026-11-24T18:30:00.000Z was used" in record["reason"]
    assert "the voicemail's own end 2026-11-24T18:30:23.000Z was used" in record["reason"]
    assert "Dana" not in str(record)


async def test_the_year_on_a_call_that_is_not_a_voicemail_is_still_dropped(
    post_message: Post, create_call: CreateCall, stored: Callable, timeline: Callable
) -> None:
    """Only voicemails get their own times: on an ordinary call the 2026 message falls before it and is dropped."""
    call_id = await create_call()
    response = await post_message(INBOUND_KEY, body_of("voicemail_message"))
    assert response.status_code == 200 and response.json() == ACCEPTED
    assert await stored(call_id) == []
    (record,) = await timeline(call_id)
    assert record["kind"] == "transcript.dropped"
    assert "startTime 2026 is below 10^11 and was read as seconds (1970-01-01T00:33:46.000Z)" in record["reason"]
    assert "is before the conversation started (2026-11-24T18:15:55.793Z)" in record["reason"]


async def test_seconds_are_read_as_seconds_and_noted(
    post_message: Post, create_call: CreateCall, stored: Callable, timeline: Callable
) -> None:
    """Epoch seconds (as the 2021 demo connector sent) are stored as milliseconds, and the timeline says so."""
    call_id = await create_call()
    body = message(startTime=IN_CALL_MS // 1000, endTime=IN_CALL_MS // 1000 + 2)
    assert (await post_message(INBOUND_KEY, body)).status_code == 200
    (entry,) = await stored(call_id)
    assert (entry["startTime"], entry["endTime"]) == (IN_CALL_MS, IN_CALL_MS + 2000)
    (record,) = await timeline(call_id)
    assert record["kind"] == "transcript.accepted"
    assert f"startTime {IN_CALL_MS // 1000} is below 10^11 and was read as seconds" in record["reason"]


async def test_message_before_the_conversation_is_dropped(
    post_message: Post, create_call: CreateCall, stored: Callable
) -> None:
    """A startTime before the conversation's start is dropped (answered Accepted) with reason before_start."""
    call_id = await create_call()
    assert (await post_message(INBOUND_KEY, message(startTime=IN_CALL_MS - 3_600_000))).status_code == 200
    assert [e["dropReason"] for e in await stored(call_id, dropped=True)] == ["before_start"]


async def test_message_after_the_conversation_ended_is_dropped(
    client: httpx2.AsyncClient, auth: Callable, post_message: Post, create_call: CreateCall, stored: Callable
) -> None:
    """Once the call is closed, a message starting after the conversation's end is dropped (after_end), while
    one inside the window is still stored."""
    call_id = await create_call()
    closed = await client.patch(f"{URL}/{call_id}", json=body_of("ctr_sync_update"), headers=auth())
    assert closed.status_code == 200
    later = int(time.time() * 1000) + 3_600_000
    assert (await post_message(INBOUND_KEY, message("late", startTime=later, endTime=later + 1))).status_code == 200
    assert (await post_message(INBOUND_KEY, message("inside"))).status_code == 200
    entries = await stored(call_id, dropped=True)
    assert [(e["messageId"], e["status"], e["dropReason"]) for e in entries] == [
        ("late", "dropped", "after_end"),
        ("inside", "stored", None),
    ]


async def test_hold_drops_messages_until_resumed(
    post_message: Post, create_call: CreateCall, stored: Callable, set_call_state: Callable, timeline: Callable
) -> None:
    """While the call is on hold messages are dropped (not queued); after resuming they are stored again."""
    call_id = await create_call()
    await set_call_state(call_id, on_hold=True)
    assert (await post_message(INBOUND_KEY, message("held"))).status_code == 200
    await set_call_state(call_id, on_hold=False)
    assert (await post_message(INBOUND_KEY, message("after"))).status_code == 200
    assert [e["messageId"] for e in await stored(call_id)] == ["after"]
    kinds = [(r["kind"], r["data"].get("dropReason")) for r in await timeline(call_id)]
    assert kinds == [("transcript.dropped", "on_hold"), ("transcript.accepted", None)]


async def test_paused_recording_drops_messages(
    post_message: Post, create_call: CreateCall, stored: Callable, set_call_state: Callable
) -> None:
    """While recording is paused, messages are dropped with reason recording_paused."""
    call_id = await create_call()
    await set_call_state(call_id, paused=True)
    assert (await post_message(INBOUND_KEY, message("paused"))).status_code == 200
    assert [e["dropReason"] for e in await stored(call_id, dropped=True)] == ["recording_paused"]


async def test_demo_connector_message(post_message: Post, create_call: CreateCall, stored: Callable) -> None:
    """The demo connector's body (a 2-character messageId, the caller's number as participantId) is stored
    under the rewritten END_USER id."""
    call_id = await create_call("demo_connector_create")
    body = body_of("demo_connector_message")
    response = await post_message(DEMO_KEY, body, **{"Telephony-Provider-Name": "demo-connector"})
    assert response.status_code == 200
    (entry,) = await stored(call_id)
    assert entry["messageId"] == "k3"
    assert entry["sender"]["participantId"] == f"{DEMO_KEY}END_USER"
    assert entry["endTime"] - entry["startTime"] == 25_000


async def test_long_message_id_is_kept_and_flagged(
    post_message: Post, create_call: CreateCall, stored: Callable, timeline: Callable
) -> None:
    """A messageId longer than Salesforce's 36 characters is kept whole and flagged in the timeline."""
    call_id = await create_call()
    long_id = "r" * 60
    assert (await post_message(INBOUND_KEY, message(long_id))).status_code == 200
    assert [e["messageId"] for e in await stored(call_id)] == [long_id]
    (record,) = await timeline(call_id)
    assert "messageId is 60 characters, longer than Salesforce's 36" in record["reason"]


async def test_message_id_over_255_is_refused(post_message: Post, create_call: CreateCall) -> None:
    """A messageId over 255 characters is a 400 naming the field."""
    await create_call()
    response = await post_message(INBOUND_KEY, message("i" * 256))
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("messageId:")


async def test_senders_are_rewritten_and_become_participants(
    post_message: Post, create_call: CreateCall, stored: Callable, read_call: Callable
) -> None:
    """HUMAN_AGENT keeps the 005 id, SUPERVISOR and VIRTUAL_AGENT become {key}ROLE whatever was sent,
    EXTERNAL_USER is kept; each new sender joins the conversation's participants."""
    call_id = await create_call()
    rep = "005Cb0000001AbCDEF"
    senders = [
        ("a", "HUMAN_AGENT", rep),
        ("s", "supervisor", "whoever"),
        ("v", "VIRTUAL_AGENT", INBOUND_KEY),
        ("x", "EXTERNAL_USER", "partner-42"),
    ]
    for message_id, sender_type, participant in senders:
        body = message(message_id, senderType=sender_type, participantId=participant)
        assert (await post_message(INBOUND_KEY, body)).status_code == 200
    assert [(e["sender"]["role"], e["sender"]["participantId"]) for e in await stored(call_id)] == [
        ("Agent", rep),
        ("Supervisor", f"{INBOUND_KEY}SUPERVISOR"),
        ("VirtualAgent", f"{INBOUND_KEY}VIRTUAL_AGENT"),
        ("ExternalUser", "partner-42"),
    ]
    participants = (await read_call(call_id))["conversation"]["participants"]
    assert {(p["participantRole"], p["participantKey"]) for p in participants} == {
        ("EndUser", "END_USER"),
        ("Agent", rep),
        ("Supervisor", "SUPERVISOR"),
        ("VirtualAgent", "VIRTUAL_AGENT"),
        ("ExternalUser", "partner-42"),
    }


async def test_xml_message(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, stored: Callable
) -> None:
    """An XML body with the same property names is accepted."""
    call_id = await create_call()
    xml = (
        f"<message><participantId>END_USER</participantId><messageId>x1</messageId>"
        f"<startTime>{IN_CALL_MS}</startTime><endTime>{IN_CALL_MS + 900}</endTime>"
        "<content>Bonjour</content><senderType>END_USER</senderType></message>"
    )
    headers = {**auth(), "Content-Type": "application/xml"}
    response = await client.post(f"{URL}/{INBOUND_KEY}/messages", content=xml, headers=headers)
    assert response.status_code == 200, response.text
    assert [e["content"] for e in await stored(call_id)] == ["Bonjour"]
