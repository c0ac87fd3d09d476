"""POST /telephony/v1/voiceCalls/messages: spec §5 and decisions.md "Responses" (202, or 207 per entry), answered
alike by the fast lane (JSON bodies) and FastAPI's route (XML bodies)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import httpx2
import pytest

from callbridge.transcripts import service
from callbridge.transcripts.jobs import EntryOutcome
from tests.transcripts.conftest import IN_CALL_MS, INBOUND_KEY, TRANSFER_KEY, URL, Post, body_of, message
from tests.voice_calls.conftest import CreateCall

OTHER_KEY = "c0ffee00-1111-4222-8333-444455556666"
PAUSED_KEY = "deadbeef-aaaa-4bbb-8ccc-ddddeeeeffff"
RESOURCE_EXHAUSTED = (
    "Error Processing Transcript with Id(s) [{ids}]. Error: io.grpc.StatusRuntimeException: "
    "RESOURCE_EXHAUSTED: Rate limit exceeded"
)


def xml_of(body: dict[str, Any]) -> bytes:
    """The same body in XML: lists as repeated elements (how the XML decoder reads them)."""

    def element(name: str, value: Any) -> str:
        if isinstance(value, list):
            return "".join(element(name, item) for item in value)
        if isinstance(value, dict):
            return f"<{name}>{''.join(element(k, v) for k, v in value.items())}</{name}>"
        return f"<{name}>{escape(str(value))}</{name}>"

    return f"<request>{''.join(element(k, v) for k, v in body.items())}</request>".encode()


@pytest.fixture(params=["fast lane", "FastAPI"])
def post_either(
    request: pytest.FixtureRequest, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> Post:
    """POST a bulk body as JSON (taken by the fast lane) or as XML (left to FastAPI's route)."""

    async def post(body: dict[str, Any]) -> httpx2.Response:
        if request.param == "fast lane":
            return await client.post(f"{URL}/messages", json=body, headers=auth())
        headers = {**auth(), "Content-Type": "application/xml"}
        return await client.post(f"{URL}/messages", content=xml_of(body), headers=headers)

    return post


def contact_lens_entry(key: str, count: int, tag: str) -> dict[str, Any]:
    """One contact's entry as contactLensProcessor builds it: every utterance of the Kinesis batch, the bot and the
    customer in turn, bare participantIds."""
    messages = []
    for n in range(count):
        sender = "VIRTUAL_AGENT" if n % 2 == 0 else "END_USER"
        start = IN_CALL_MS + n * 1000
        messages.append(
            {
                "messageId": f"{tag}-{n:03d}-6c1d0b9e7a21",
                "startTime": start,
                "endTime": start + 900,
                "content": f"utterance {n} of {tag}",
                "participantId": sender,
                "senderType": sender,
            }
        )
    return {"vendorCallKey": key, "messages": messages}


async def test_contact_lens_bulk_is_accepted_with_rewritten_roles(
    post_bulk: Post, create_call: CreateCall, stored: Callable
) -> None:
    """The Contact Lens processor's body (bare END_USER / VIRTUAL_AGENT participantIds) answers 202
    {"result": "Accepted"} and stores both utterances under {vendorCallKey}ROLE."""
    call_id = await create_call()
    response = await post_bulk(body_of("contact_lens_bulk"))
    assert response.status_code == 202 and response.json() == {"result": "Accepted"}
    assert [(e["sender"]["role"], e["sender"]["participantId"]) for e in await stored(call_id)] == [
        ("VirtualAgent", f"{INBOUND_KEY}VIRTUAL_AGENT"),
        ("EndUser", f"{INBOUND_KEY}END_USER"),
    ]


async def test_contact_lens_replay_of_7_and_40_utterances_is_202_all_stored(
    post_either: Post, create_call: CreateCall, stored: Callable
) -> None:
    """One entry per contact with every utterance of the batch (7 and 40): 202 {"result": "Accepted"}, all 47
    stored in order."""
    first = await create_call()
    second = await create_call(vendorCallKey=OTHER_KEY)
    body = {"entries": [contact_lens_entry(INBOUND_KEY, 7, "a"), contact_lens_entry(OTHER_KEY, 40, "b")]}
    response = await post_either(body)
    assert (response.status_code, response.json()) == (202, {"result": "Accepted"})
    assert [e["messageId"] for e in await stored(first)] == [m["messageId"] for m in body["entries"][0]["messages"]]
    assert [e["messageId"] for e in await stored(second)] == [m["messageId"] for m in body["entries"][1]["messages"]]


async def test_mixed_outcomes_are_207_in_request_order(
    post_either: Post, create_call: CreateCall, set_call_state: Callable, stored: Callable
) -> None:
    """A taken entry, an unknown key and a call with transcription paused: 207 with Salesforce's errorResponse,
    one element per entry in request order (202, 404, 409, 202); the taken entries are stored."""
    kept = await create_call()
    paused = await create_call(vendorCallKey=PAUSED_KEY)
    await set_call_state(paused, paused=True)
    body = {
        "entries": [
            {"vendorCallKey": INBOUND_KEY, "messages": [message("kept-1")]},
            {"vendorCallKey": "ghost-contact", "messages": [message("lost")]},
            {"vendorCallKey": PAUSED_KEY, "messages": [message("p1"), message("p2")]},
            {"vendorCallKey": INBOUND_KEY, "messages": [message("kept-2")]},
        ]
    }
    response = await post_either(body)
    assert response.status_code == 207
    assert response.json() == {
        "errorResponse": {
            "errorResponseEntries": [
                {"vendorCallKey": INBOUND_KEY, "status": 202, "message": "Successfully Processed Transcripts"},
                {
                    "vendorCallKey": "ghost-contact",
                    "status": 404,
                    "message": "No VoiceCall with vendorCallKey 'ghost-contact' in this call center.",
                },
                {"vendorCallKey": PAUSED_KEY, "status": 409, "message": "Transcription paused for participant"},
                {"vendorCallKey": INBOUND_KEY, "status": 202, "message": "Successfully Processed Transcripts"},
            ]
        }
    }
    assert [e["messageId"] for e in await stored(kept)] == ["kept-1", "kept-2"]
    assert [e["dropReason"] for e in await stored(paused, dropped=True)] == ["recording_paused"] * 2


async def test_hold_stays_a_silent_drop(
    post_bulk: Post, create_call: CreateCall, set_call_state: Callable, stored: Callable
) -> None:
    """Messages for a call on hold are dropped, but the entry counts as taken: 202 {"result": "Accepted"}."""
    call_id = await create_call()
    await set_call_state(call_id, on_hold=True)
    response = await post_bulk({"entries": [{"vendorCallKey": INBOUND_KEY, "messages": [message("held")]}]})
    assert (response.status_code, response.json()) == (202, {"result": "Accepted"})
    assert [e["dropReason"] for e in await stored(call_id, dropped=True)] == ["on_hold"]


async def test_voice_call_id_in_bulk_is_a_404_entry(post_bulk: Post, create_call: CreateCall) -> None:
    """A VoiceCall id as an entry's key is that entry's 404, saying the vendorCallKey is required."""
    call_id = await create_call()
    body = {"entries": [{"vendorCallKey": call_id, "messages": [message()]}]}
    response = await post_bulk(body)
    assert response.status_code == 207
    (entry,) = response.json()["errorResponse"]["errorResponseEntries"]
    assert entry["status"] == 404 and "not a VoiceCall id" in entry["message"]


async def test_rate_limited_entry_is_400_resource_exhausted(
    post_either: Post, create_call: CreateCall, stored: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry the utterance limit refuses (through service.over_utterance_limit, the limiter's seam) is 400 with
    Salesforce's RESOURCE_EXHAUSTED message listing its messageIds, and none of its messages is stored."""
    call_id = await create_call()
    await create_call(vendorCallKey=OTHER_KEY)

    async def second_entry_limited(*_: object) -> set[int]:
        return {1}

    monkeypatch.setattr(service, "over_utterance_limit", second_entry_limited)
    body = {
        "entries": [
            {"vendorCallKey": INBOUND_KEY, "messages": [message("ok")]},
            {"vendorCallKey": OTHER_KEY, "messages": [message("msg-1"), message("msg-2")]},
        ]
    }
    response = await post_either(body)
    assert response.status_code == 207
    assert response.json()["errorResponse"]["errorResponseEntries"][1] == {
        "vendorCallKey": OTHER_KEY,
        "status": 400,
        "message": RESOURCE_EXHAUSTED.format(ids="msg-1, msg-2"),
    }
    assert [e["messageId"] for e in await stored(call_id)] == ["ok"]
    assert await stored(OTHER_KEY, dropped=True) == []


def test_rate_limited_message_is_salesforces() -> None:
    """EntryOutcome.rate_limited words the message exactly as Salesforce's (Contact Lens greps RESOURCE_EXHAUSTED)."""
    outcome = EntryOutcome.rate_limited("call-1", ["msg-1"])
    assert (outcome.status, outcome.message) == (
        400,
        "Error Processing Transcript with Id(s) [msg-1]. Error: io.grpc.StatusRuntimeException: "
        "RESOURCE_EXHAUSTED: Rate limit exceeded",
    )


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
    assert response.status_code == 202, response.text
    assert [e["messageId"] for e in await stored(call_id)] == ["x1", "x2", "x3"]


async def test_transfer_leg_key_lands_on_the_first_legs_conversation(
    post_bulk: Post, create_call: CreateCall, stored: Callable, timeline: Callable
) -> None:
    """Contact Lens sends the transfer leg's ContactId: the message joins the conversation of the first leg,
    is related to the transfer leg (the current one), and the timeline notes the key was not the first leg's."""
    first_id = await create_call()
    transfer_id = await create_call("lambda_create_transfer")
    body = {"entries": [{"vendorCallKey": TRANSFER_KEY, "messages": [message("after-transfer")]}]}
    assert (await post_bulk(body)).status_code == 202
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
    assert (await post_bulk(body)).status_code == 202
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
    response = await post_bulk(body)
    assert (response.status_code, response.json()) == (202, {"result": "Accepted"})
    assert [e["messageId"] for e in await stored(call_id)] == ["u1", "u2", "a1"]


async def test_both_lanes_answer_byte_for_byte_alike(
    client: httpx2.AsyncClient, auth: Callable, create_call: CreateCall
) -> None:
    """The fast lane (JSON) and FastAPI's route (XML) give the same status, content type and bytes for a 202 and
    for a 207."""
    await create_call()

    async def both(body: dict[str, Any]) -> tuple[httpx2.Response, httpx2.Response]:
        fast = await client.post(f"{URL}/messages", json=body, headers=auth())
        xml_headers = {**auth(), "Content-Type": "application/xml"}
        slow = await client.post(f"{URL}/messages", content=xml_of(body), headers=xml_headers)
        return fast, slow

    fast, slow = await both({"entries": [{"vendorCallKey": INBOUND_KEY, "messages": [message("same")]}]})
    assert (fast.status_code, fast.content) == (slow.status_code, slow.content) == (202, b'{"result":"Accepted"}')
    body = {"entries": [{"vendorCallKey": key, "messages": [message("again")]} for key in (INBOUND_KEY, "ghost")]}
    fast, slow = await both(body)
    assert fast.status_code == slow.status_code == 207
    assert fast.content == slow.content
    assert fast.headers["content-type"] == slow.headers["content-type"] == "application/json"


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
