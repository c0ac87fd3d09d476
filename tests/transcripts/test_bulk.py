"""POST /telephony/v1/voiceCalls/messages: spec §5 and decisions.md "Transcripts" (limits, 207)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx2

from callbridge.app import create_app
from callbridge.config import Settings
from tests.transcripts.conftest import INBOUND_KEY, TRANSFER_KEY, URL, Post, body_of, message
from tests.voice_calls.conftest import CreateCall


@asynccontextmanager
async def client_with(settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
    """A second app on the same database with other settings."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
            yield http


async def test_contact_lens_bulk_is_accepted_with_rewritten_roles(
    post_bulk: Post, create_call: CreateCall, stored: Callable
) -> None:
    """The Contact Lens processor's body (bare END_USER / VIRTUAL_AGENT participantIds) answers
    {"result": "Accepted"} and stores both utterances under {vendorCallKey}ROLE."""
    call_id = await create_call()
    response = await post_bulk(body_of("contact_lens_bulk"))
    assert response.status_code == 200 and response.json() == {"result": "Accepted"}
    assert [(e["sender"]["role"], e["sender"]["participantId"]) for e in await stored(call_id)] == [
        ("VirtualAgent", f"{INBOUND_KEY}VIRTUAL_AGENT"),
        ("EndUser", f"{INBOUND_KEY}END_USER"),
    ]


async def test_more_than_five_messages_per_entry_is_refused(
    post_bulk: Post, create_call: CreateCall, stored: Callable
) -> None:
    """Seven messages in one entry (as the unmodified Contact Lens processor can send) exceed the documented
    5 x 5 limit: 400 BULK_LIMIT_EXCEEDED naming the entry, and nothing is stored."""
    call_id = await create_call()
    response = await post_bulk(body_of("contact_lens_bulk_seven"))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "BULK_LIMIT_EXCEEDED"
    assert body["errors"] == ["entries[0].messages: has 7 messages; at most 5 per entry are allowed"]
    assert await stored(call_id) == []


async def test_message_limit_is_configurable(
    settings: Settings, auth: Callable, create_call: CreateCall, stored: Callable
) -> None:
    """With CALLBRIDGE_TRANSCRIPT_BULK_MAX_MESSAGES raised, the same seven-message body is accepted."""
    call_id = await create_call()
    raised = settings.model_copy(update={"transcript_bulk_max_messages": 50})
    async with client_with(raised) as http:
        response = await http.post(f"{URL}/messages", json=body_of("contact_lens_bulk_seven"), headers=auth())
    assert response.status_code == 200
    assert [e["messageId"] for e in await stored(call_id)] == [f"c{i}" for i in range(1, 8)]


async def test_more_than_five_entries_is_refused(post_bulk: Post, create_call: CreateCall) -> None:
    """Six entries: 400 BULK_LIMIT_EXCEEDED."""
    await create_call()
    entries = [{"vendorCallKey": INBOUND_KEY, "messages": [message(f"m{i}")]} for i in range(6)]
    response = await post_bulk({"entries": entries})
    assert response.status_code == 400
    assert response.json()["errors"] == ["entries: has 6 entries; at most 5 are allowed"]


async def test_unknown_key_answers_207_per_entry(post_bulk: Post, create_call: CreateCall, stored: Callable) -> None:
    """An entry whose key names no call is NOT_FOUND in a 207 PartiallyAccepted; the other entries are stored."""
    call_id = await create_call()
    body = {
        "entries": [
            {"vendorCallKey": INBOUND_KEY, "messages": [message("kept")]},
            {"vendorCallKey": "ghost-contact", "messages": [message("lost")]},
        ]
    }
    response = await post_bulk(body)
    assert response.status_code == 207
    answer = response.json()
    assert answer["result"] == "PartiallyAccepted"
    assert [(e["vendorCallKey"], e["status"]) for e in answer["entries"]] == [
        (INBOUND_KEY, "Accepted"),
        ("ghost-contact", "NOT_FOUND"),
    ]
    assert all(isinstance(e["message"], str) and e["message"] for e in answer["entries"])
    assert [e["messageId"] for e in await stored(call_id)] == ["kept"]


async def test_voice_call_id_in_bulk_is_not_found(post_bulk: Post, create_call: CreateCall) -> None:
    """A VoiceCall id as an entry's key is that entry's NOT_FOUND, saying the vendorCallKey is required."""
    call_id = await create_call()
    body = {"entries": [{"vendorCallKey": call_id, "messages": [message()]}]}
    response = await post_bulk(body)
    assert response.status_code == 207
    (entry,) = response.json()["entries"]
    assert entry["status"] == "NOT_FOUND" and "not a VoiceCall id" in entry["message"]


async def test_one_invalid_message_rejects_the_whole_request(
    post_bulk: Post, create_call: CreateCall, stored: Callable
) -> None:
    """A validation error anywhere rejects the request, lists every bad path, and stores nothing."""
    call_id = await create_call()
    body = {
        "entries": [
            {"vendorCallKey": INBOUND_KEY, "messages": [message("good")]},
            {
                "vendorCallKey": INBOUND_KEY,
                "messages": [message("bad", senderType="BOT"), message("worse", endTime=-1)],
            },
        ]
    }
    response = await post_bulk(body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(e.startswith("entries[1].messages[0].senderType: 'BOT'") for e in errors)
    assert any(e.startswith("entries[1].messages[1].endTime:") for e in errors)
    assert await stored(call_id) == []


async def test_xml_bulk_with_repeated_elements(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall, stored: Callable
) -> None:
    """In XML, `entries` and `messages` repeat as elements; one occurrence is a list of one."""

    def xml_message(message_id: str) -> str:
        return (
            f"<messages><participantId>END_USER</participantId><messageId>{message_id}</messageId>"
            "<startTime>1795544190000</startTime><endTime>1795544191000</endTime>"
            f"<content>text {message_id}</content><senderType>END_USER</senderType></messages>"
        )

    call_id = await create_call()
    xml = (
        f"<request><entries><vendorCallKey>{INBOUND_KEY}</vendorCallKey>{xml_message('x1')}{xml_message('x2')}"
        f"</entries><entries><vendorCallKey>{INBOUND_KEY}</vendorCallKey>{xml_message('x3')}</entries></request>"
    )
    headers = {**auth(), "Content-Type": "application/xml"}
    response = await client.post(f"{URL}/messages", content=xml, headers=headers)
    assert response.status_code == 200, response.text
    assert [e["messageId"] for e in await stored(call_id)] == ["x1", "x2", "x3"]


async def test_transfer_leg_key_lands_on_the_first_legs_conversation(
    post_bulk: Post, create_call: CreateCall, stored: Callable, timeline: Callable
) -> None:
    """Contact Lens sends the transfer leg's ContactId: the message joins the conversation of the first leg,
    is related to the transfer leg (the current one), and the timeline notes the key was not the first leg's."""
    first_id = await create_call()
    transfer_id = await create_call("lambda_create_transfer")
    body = {"entries": [{"vendorCallKey": TRANSFER_KEY, "messages": [message("after-transfer")]}]}
    assert (await post_bulk(body)).status_code == 200
    (entry,) = await stored(first_id)
    assert entry["voiceCallId"] == transfer_id
    assert entry["sender"]["participantId"] == f"{INBOUND_KEY}END_USER"
    (record,) = await timeline(first_id)
    assert "not the first leg of its conversation" in record["reason"]


async def test_first_leg_key_after_transfer_relates_to_the_current_leg(
    post_bulk: Post, create_call: CreateCall, stored: Callable, timeline: Callable
) -> None:
    """With the first leg's key (as documented), a message after a transfer is related to the newest leg,
    without any note."""
    await create_call()
    transfer_id = await create_call("lambda_create_transfer")
    body = {"entries": [{"vendorCallKey": INBOUND_KEY, "messages": [message("documented")]}]}
    assert (await post_bulk(body)).status_code == 200
    (entry,) = await stored(transfer_id)
    assert entry["voiceCallId"] == transfer_id
    (record,) = await timeline(transfer_id)
    assert record["reason"] is None


async def test_same_key_in_two_entries(post_bulk: Post, create_call: CreateCall, stored: Callable) -> None:
    """As in the docs' example, two entries may carry the same vendorCallKey (one per speaker)."""
    call_id = await create_call()
    body = {
        "entries": [
            {"vendorCallKey": INBOUND_KEY, "messages": [message("u1"), message("u2")]},
            {"vendorCallKey": INBOUND_KEY, "messages": [message("a1", senderType="VIRTUAL_AGENT")]},
        ]
    }
    assert (await post_bulk(body)).json() == {"result": "Accepted"}
    assert [e["messageId"] for e in await stored(call_id)] == ["u1", "u2", "a1"]


async def test_a_voicemails_impossible_times_in_bulk_take_its_own(
    client: httpx2.AsyncClient,
    auth: Callable,
    post_bulk: Post,
    create_call: CreateCall,
    stored: Callable,
    timeline: Callable,
) -> None:
    """Through the batched writer too: a voicemail's message sent with startTime/endTime 2026 is stored at the
    voicemail's own start and end, noted."""
    call_id = await create_call()
    opened = await client.patch(f"{URL}/{call_id}", json=body_of("voicemail_update_open"), headers=auth())
    assert opened.status_code == 200
    voicemail = {k: v for k, v in body_of("voicemail_message").items() if k != "callCenterApiName"}
    response = await post_bulk({"entries": [{"vendorCallKey": INBOUND_KEY, "messages": [voicemail]}]})
    assert response.is_success, response.text
    assert len(await stored(call_id)) == 1
    (record,) = await timeline(call_id)
    assert (record["kind"], record["data"]["startTime"]) == ("transcript.accepted", 1795545000000)
    assert "cannot be real (before 2000) on a voicemail" in record["reason"]
