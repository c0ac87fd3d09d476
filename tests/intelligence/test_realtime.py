"""POST /voiceCalls/{vendorCallKey}/realtimeConversationEvents: signals for the live console."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from callbridge.events.schemas import IntelligenceSignal
from callbridge.kit.state import AppState
from tests.intelligence.conftest import REALTIME, Post, body, drain, realtime, signal
from tests.transcripts.conftest import INBOUND_KEY, TRANSFER_KEY, URL, raw_payload
from tests.voice_calls.conftest import CreateCall


async def test_contact_lens_body_is_accepted(create_call: CreateCall, send: Post) -> None:
    """The contactLensProcessor's body (with its undocumented details) gets 202 {"status": "202 Accepted"}."""
    await create_call()
    response = await send(INBOUND_KEY, REALTIME, body("contact_lens_realtime_category"))
    assert response.status_code == 202
    assert response.json() == {"status": "202 Accepted"}


async def test_trailing_slash_is_served(create_call: CreateCall, send: Post) -> None:
    """The path with a trailing slash is the same endpoint."""
    await create_call()
    response = await send(INBOUND_KEY, REALTIME + "/", body("contact_lens_realtime_category"))
    assert response.status_code == 202


async def test_details_are_kept_as_given(create_call: CreateCall, send: Post, stored_events: Callable) -> None:
    """A persisted Contact Lens event keeps its details object exactly as sent."""
    call_id = await create_call()
    await send(INBOUND_KEY, REALTIME, body("contact_lens_realtime_category", persist=True))
    (event,) = await stored_events(call_id)
    assert event["details"] == {"BeginOffsetMillis": 5120, "EndOffsetMillis": 15495}
    assert event["source"] == "realtime" and event["value"] == "CustomerAngry" and event["endTime"] is None


async def test_byo_connector_seconds_are_read_as_seconds(
    create_call: CreateCall, send: Post, app_state_of: AppState, timeline: Callable
) -> None:
    """The byo connector's 10-digit startTime is read as seconds, and the timeline says so."""
    await create_call("demo_connector_create")
    queue = app_state_of.broker.subscribe()
    response = await send(
        "a8hjdd", REALTIME, body("byo_connector_realtime_events"), **{"Telephony-Provider-Name": "demo-connector"}
    )
    assert response.status_code == 202
    (event,) = [e for e in drain(queue) if isinstance(e, IntelligenceSignal)]
    assert event.start_time == 1573503300000
    (entry,) = await timeline("a8hjdd", "intelligence.realtime")
    assert "events[0].startTime below 10^11, read as seconds" in entry["reason"]
    assert entry["actor"] == "telephony:demo-connector"


async def test_numeric_score_and_value_are_accepted(
    create_call: CreateCall, send: Post, stored_events: Callable
) -> None:
    """A score and a Sentiment value sent as numbers are taken (the value kept in its string form)."""
    call_id = await create_call()
    event = signal(type="IntelligenceSignal__Sentiment", value=400.13, score=10, participant="CUSTOMER")
    response = await send(INBOUND_KEY, REALTIME, realtime(event, persist=True))
    assert response.status_code == 202
    (stored,) = await stored_events(call_id)
    assert stored["value"] == "400.13" and stored["score"] == 10.0 and stored["participant"] == "CUSTOMER"


async def test_score_as_a_string_is_accepted(create_call: CreateCall, send: Post, stored_events: Callable) -> None:
    """score is documented as a string: "750" is the number 750."""
    call_id = await create_call()
    await send(INBOUND_KEY, REALTIME, realtime(signal(score="750"), persist=True))
    (stored,) = await stored_events(call_id)
    assert stored["score"] == 750.0


async def test_unsorted_events_are_sorted_on_arrival(
    create_call: CreateCall, send: Post, app_state_of: AppState, timeline: Callable
) -> None:
    """Events out of startTime order are published sorted, and the timeline notes the sorting."""
    await create_call()
    queue = app_state_of.broker.subscribe()
    events = [signal(value="late", startTime=1795544230000), signal(value="early", startTime=1795544210000)]
    await send(INBOUND_KEY, REALTIME, realtime(*events))
    published = [e for e in drain(queue) if isinstance(e, IntelligenceSignal)]
    assert [e.value for e in published] == ["early", "late"]
    (entry,) = await timeline(INBOUND_KEY, "intelligence.realtime")
    assert entry["data"]["sortedOnArrival"] is True
    assert "sorted on arrival" in entry["reason"]


async def test_sorted_events_are_not_noted(create_call: CreateCall, send: Post, timeline: Callable) -> None:
    """Events already in order leave no note."""
    await create_call()
    await send(INBOUND_KEY, REALTIME, body("contact_lens_realtime_category"))
    (entry,) = await timeline(INBOUND_KEY, "intelligence.realtime")
    assert entry["data"]["sortedOnArrival"] is False and entry["reason"] is None


async def test_persist_false_stores_nothing(create_call: CreateCall, send: Post, stored_events: Callable) -> None:
    """Without persist (what the Lambdas send) the signal is only published."""
    call_id = await create_call()
    await send(INBOUND_KEY, REALTIME, body("contact_lens_realtime_category"))
    assert await stored_events(call_id) == []


async def test_persist_true_stores_every_event(create_call: CreateCall, send: Post, stored_events: Callable) -> None:
    """With persist each event goes to the conversation data store."""
    call_id = await create_call()
    events = [signal(value="a", startTime=1795544210000), signal(value="b", startTime=1795544211000)]
    await send(INBOUND_KEY, REALTIME, realtime(*events, persist=True))
    assert [e["value"] for e in await stored_events(call_id)] == ["a", "b"]


async def test_persisted_resend_is_stored_once(
    create_call: CreateCall, send: Post, stored_events: Callable, timeline: Callable
) -> None:
    """Sending the same persisted signal twice stores it once; the second is recorded as a duplicate."""
    call_id = await create_call()
    data = body("contact_lens_realtime_category", persist=True)
    await send(INBOUND_KEY, REALTIME, data)
    await send(INBOUND_KEY, REALTIME, data)
    assert len(await stored_events(call_id)) == 1
    first, second = await timeline(call_id, "intelligence.signal")
    assert (first["outcome"], second["outcome"]) == ("stored", "duplicate")
    assert second["data"]["persisted"] is False


async def test_every_request_is_recorded(create_call: CreateCall, send: Post, timeline: Callable) -> None:
    """Each request is one intelligence.realtime entry with its service, counts and persist flag."""
    call_id = await create_call()
    events = [signal(), signal(type="IntelligenceSignal__Sentiment", value="-250", participant="AGENT")]
    await send(INBOUND_KEY, REALTIME, realtime(*events, persist=True))
    (entry,) = await timeline(call_id, "intelligence.realtime")
    assert entry["outcome"] == "accepted" and entry["voiceCallId"] == call_id
    assert entry["data"] == {
        "vendorCallKey": INBOUND_KEY,
        "service": "AmazonConnectContactLens",
        "persist": True,
        "received": 2,
        "published": 2,
        "stored": 2,
        "duplicates": 0,
        "types": {"IntelligenceSignal__Category": 1, "IntelligenceSignal__Sentiment": 1},
        "sortedOnArrival": False,
        "conversationClosed": False,
    }


async def test_each_signal_is_in_the_timeline(create_call: CreateCall, send: Post, timeline: Callable) -> None:
    """Each signal is its own timeline entry (the resume point of the console), after the request's."""
    call_id = await create_call()
    await send(INBOUND_KEY, REALTIME, body("contact_lens_realtime_category"))
    request, entry = await timeline(call_id, "intelligence.realtime", "intelligence.signal")
    assert request["kind"] == "intelligence.realtime" and request["id"] < entry["id"]
    assert entry["outcome"] == "published"
    assert entry["data"]["signalType"] == "IntelligenceSignal__Category"
    assert entry["data"]["details"] == {"BeginOffsetMillis": 5120, "EndOffsetMillis": 15495}


async def test_closed_conversation_still_accepts_and_flags(
    create_call: CreateCall, send: Post, close_call: Callable, timeline: Callable, app_state_of: AppState
) -> None:
    """After the call ended a signal is still accepted and published, and flagged in the timeline and event."""
    await create_call()
    await close_call(INBOUND_KEY)
    queue = app_state_of.broker.subscribe()
    response = await send(INBOUND_KEY, REALTIME, body("contact_lens_realtime_category"))
    assert response.status_code == 202
    (event,) = [e for e in drain(queue) if isinstance(e, IntelligenceSignal)]
    assert event.conversation_closed is True
    (entry,) = await timeline(INBOUND_KEY, "intelligence.realtime")
    assert entry["outcome"] == "accepted_after_close" and entry["data"]["conversationClosed"] is True
    assert "meant for the live console" in entry["reason"]


async def test_signal_belongs_to_the_current_leg(create_call: CreateCall, send: Post, app_state_of: AppState) -> None:
    """Sent with the first leg's key after a transfer, the signal is for the newest leg (the agent there)."""
    await create_call()
    transfer_id = await create_call("lambda_create_transfer")
    queue = app_state_of.broker.subscribe()
    await send(INBOUND_KEY, REALTIME, body("contact_lens_realtime_category"))
    (event,) = [e for e in drain(queue) if isinstance(e, IntelligenceSignal)]
    assert event.voice_call_id == transfer_id


async def test_later_leg_key_joins_the_conversation_with_a_note(
    create_call: CreateCall, send: Post, timeline: Callable
) -> None:
    """A transfer leg's own key (Amazon Connect's ContactId) is taken, and the timeline notes it."""
    first_id = await create_call()
    await create_call("lambda_create_transfer")
    response = await send(TRANSFER_KEY, REALTIME, body("contact_lens_realtime_category"))
    assert response.status_code == 202
    (entry,) = await timeline(first_id, "intelligence.realtime")
    assert "not the first leg of its conversation" in entry["reason"]


async def test_xml_body_is_accepted(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable, stored_events: Callable
) -> None:
    """The same body as XML (numbers and flags as text) is read like the JSON one."""
    call_id = await create_call()
    xml = (
        "<request><service>AmazonConnectContactLens</service><persist>true</persist>"
        "<events><type>IntelligenceSignal__Sentiment</type><value>-400</value><startTime>1795544215000</startTime>"
        "<score>90</score><participant>CUSTOMER</participant></events></request>"
    )
    headers = {**auth(), "Content-Type": "application/xml"}
    response = await client.post(f"{URL}/{INBOUND_KEY}/{REALTIME}", content=xml, headers=headers)
    assert response.status_code == 202, response.text
    (stored,) = await stored_events(call_id)
    assert (stored["value"], stored["score"], stored["startTime"]) == ("-400", 90.0, 1795544215000)


async def test_raw_contact_lens_bytes_are_accepted(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable
) -> None:
    """The fixture's exact bytes, as the Lambda puts them on the wire, are accepted."""
    await create_call()
    raw = raw_payload("contact_lens_realtime_category")
    response = await client.post(f"{URL}/{INBOUND_KEY}/{REALTIME}", content=raw, headers=auth())
    assert response.status_code == 202
