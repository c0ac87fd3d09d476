"""POST /voiceCalls/{vendorCallKey}/postConversationEvents: the conversation data store and sentiment scores."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.intelligence.conftest import (
    CONNECTED_MS,
    DISCONNECT_MS,
    POST_CALL,
    Post,
    body,
    post_call,
    post_call_event,
)
from tests.transcripts.conftest import INBOUND_KEY, TRANSFER_KEY
from tests.voice_calls.conftest import CreateCall

BATCH = "post_call_analysis_batch"


@pytest.fixture
async def closed_call(create_call: CreateCall, close_call: Callable) -> str:
    """The Lambda's inbound call, ended (its conversation closed); its VoiceCall id."""
    call_id = await create_call()
    await close_call(INBOUND_KEY)
    return call_id


async def test_lambda_batch_is_stored(closed_call: str, send: Post, stored_events: Callable) -> None:
    """The postCallAnalysisTrigger's batch gets 202 {"status": "202 Accepted"} and every event is stored."""
    response = await send(INBOUND_KEY, POST_CALL, body(BATCH))
    assert response.status_code == 202
    assert response.json() == {"status": "202 Accepted"}
    events = await stored_events(closed_call)
    assert [(e["type"].split("__")[1], e["participant"], e["value"]) for e in events] == [
        ("OverallSentimentScore", "AGENT", "0.8"),
        ("OverallSentimentScore", "CUSTOMER", "-1.6"),
        ("Sentiment", "CUSTOMER", "-1000"),
        ("Sentiment", "AGENT", "1000"),
        ("Sentiment", "CUSTOMER", "0"),
    ]
    assert {(e["source"], e["service"], e["voiceCallId"]) for e in events} == {
        ("post_call", "AmazonConnectContactLens", closed_call)
    }
    assert (events[0]["startTime"], events[0]["endTime"]) == (CONNECTED_MS, DISCONNECT_MS)


async def test_overall_scores_set_the_call_sentiment(closed_call: str, send: Post, read_call: Callable) -> None:
    """Contact Lens' raw overall scores (-5..5) become AgentSentimentScore / CustomerSentimentScore as they are."""
    before = await read_call(closed_call)
    assert (before["agentSentimentScore"], before["customerSentimentScore"]) == (None, None)
    await send(INBOUND_KEY, POST_CALL, body(BATCH))
    call = await read_call(closed_call)
    assert (call["agentSentimentScore"], call["customerSentimentScore"]) == (0.8, -1.6)


async def test_documented_scale_is_mapped_linearly(closed_call: str, send: Post, read_call: Callable) -> None:
    """An overall score beyond ±5 is on the documented -1000..1000 scale: mapped linearly onto -5..5."""
    overall = {"type": "IntelligenceSignal__OverallSentimentScore", "startTime": CONNECTED_MS, "endTime": DISCONNECT_MS}
    events = [
        {**overall, "value": "400", "participant": "AGENT"},
        {**overall, "value": -1000, "participant": "CUSTOMER"},
    ]
    await send(INBOUND_KEY, POST_CALL, post_call(*events))
    call = await read_call(closed_call)
    assert (call["agentSentimentScore"], call["customerSentimentScore"]) == (2.0, -5.0)


async def test_overall_score_is_shown_on_the_stored_event(
    closed_call: str, send: Post, stored_events: Callable
) -> None:
    """Each stored overall score carries its value on the call's scale; other types carry none."""
    await send(INBOUND_KEY, POST_CALL, body(BATCH))
    events = await stored_events(closed_call)
    assert [e["sentimentScore"] for e in events] == [0.8, -1.6, None, None, None]


async def test_sentiment_events_do_not_set_the_call_scores(closed_call: str, send: Post, read_call: Callable) -> None:
    """Only OverallSentimentScore sets the call's scores; per-utterance Sentiment events do not."""
    await send(INBOUND_KEY, POST_CALL, post_call(post_call_event(value="-1000", participant="CUSTOMER")))
    call = await read_call(closed_call)
    assert call["customerSentimentScore"] is None


async def test_newest_overall_score_wins(closed_call: str, send: Post, read_call: Callable, timeline: Callable) -> None:
    """A later batch's overall score for the same participant replaces the earlier one, which is kept as previous."""
    await send(INBOUND_KEY, POST_CALL, body(BATCH))
    later = post_call_event(
        type="IntelligenceSignal__OverallSentimentScore", value="2.5", startTime=CONNECTED_MS + 1, endTime=DISCONNECT_MS
    )
    await send(INBOUND_KEY, POST_CALL, post_call(later))
    assert (await read_call(closed_call))["agentSentimentScore"] == 2.5
    _first, second = await timeline(closed_call, "voice_call.sentiment_updated")
    assert second["data"]["changes"] == [
        {"participant": "AGENT", "value": "2.5", "scale": "-5..5", "score": 2.5, "previous": 0.8}
    ]
    assert second["data"]["customerSentimentScore"] == -1.6


async def test_events_link_overlapping_entries(
    create_call: CreateCall, transcript: Callable, close_call: Callable, send: Post, stored_events: Callable
) -> None:
    """Each event links the transcript entries whose span overlaps its [startTime, endTime]."""
    call_id = await create_call()
    await transcript(
        INBOUND_KEY,
        ("u1", CONNECTED_MS + 6_000, CONNECTED_MS + 7_500, "END_USER"),
        ("a1", CONNECTED_MS + 11_000, CONNECTED_MS + 13_000, "VIRTUAL_AGENT"),
        ("u2", CONNECTED_MS + 14_000, CONNECTED_MS + 15_000, "END_USER"),
        ("u3", CONNECTED_MS + 30_000, CONNECTED_MS + 32_000, "END_USER"),
    )
    await close_call(INBOUND_KEY)
    await send(INBOUND_KEY, POST_CALL, body(BATCH))
    events = await stored_events(call_id)
    assert [e["entryIdentifiers"] for e in events] == [
        ["u1", "a1", "u2", "u3"],  # overall AGENT spans the whole call
        ["u1", "a1", "u2", "u3"],  # overall CUSTOMER, in spoken order
        ["u1"],  # CUSTOMER -1000 over [+5 s, +8 s]
        ["a1", "u2"],  # AGENT 1000 over [+10 s, +14 s]: u2 starts exactly at its end
        ["u2"],  # CUSTOMER 0 over [+15 s, +19 s]: u2 ends exactly at its start
    ]


async def test_resent_batch_is_not_duplicated(closed_call: str, send: Post, stored_events: Callable) -> None:
    """The Lambda retrying the same batch (axios-retry) stores nothing new."""
    await send(INBOUND_KEY, POST_CALL, body(BATCH))
    response = await send(INBOUND_KEY, POST_CALL, body(BATCH))
    assert response.status_code == 202
    assert len(await stored_events(closed_call)) == 5


async def test_resend_is_recorded_as_unchanged(closed_call: str, send: Post, timeline: Callable) -> None:
    """The resend's timeline entry counts the duplicates, and the scores are not updated again."""
    await send(INBOUND_KEY, POST_CALL, body(BATCH))
    await send(INBOUND_KEY, POST_CALL, body(BATCH))
    first, second = await timeline(closed_call, "intelligence.post_call")
    assert (first["outcome"], first["data"]["stored"], first["data"]["duplicates"]) == ("stored", 5, 0)
    assert (second["outcome"], second["data"]["stored"], second["data"]["duplicates"]) == ("unchanged", 0, 5)
    assert len(await timeline(closed_call, "voice_call.sentiment_updated")) == 1


async def test_identical_events_in_one_batch_are_stored_once(
    closed_call: str, send: Post, stored_events: Callable
) -> None:
    """The natural key holds inside a batch too: the same event twice is one event."""
    await send(INBOUND_KEY, POST_CALL, post_call(post_call_event(), post_call_event()))
    assert len(await stored_events(closed_call)) == 1


async def test_batches_of_25_all_arrive(closed_call: str, send: Post, stored_events: Callable) -> None:
    """Thirty utterance sentiments sent as the Lambda sends them (25, then 5) are all stored, in order."""
    events = [
        post_call_event(value=str(v), startTime=CONNECTED_MS + i * 1000, endTime=CONNECTED_MS + i * 1000 + 900)
        for i, v in enumerate([1000, 0, -1000] * 10)
    ]
    for batch in (events[:25], events[25:]):
        assert (await send(INBOUND_KEY, POST_CALL, post_call(*batch))).status_code == 202
    stored = await stored_events(closed_call, limit=7)
    assert [e["startTime"] for e in stored] == [e["startTime"] for e in events]


async def test_post_call_is_recorded_in_the_timeline(closed_call: str, send: Post, timeline: Callable) -> None:
    """The request is one intelligence.post_call entry with service, counts and stored ids."""
    await send(INBOUND_KEY, POST_CALL, body(BATCH))
    (entry,) = await timeline(closed_call, "intelligence.post_call")
    data = entry["data"]
    assert entry["voiceCallId"] == closed_call and entry["actor"] == "telephony:amazon-connect"
    assert (data["service"], data["received"], data["stored"], data["duplicates"]) == (
        "AmazonConnectContactLens",
        5,
        5,
        0,
    )
    assert data["types"] == {"IntelligenceSignal__OverallSentimentScore": 2, "IntelligenceSignal__Sentiment": 3}
    assert len(data["conversationEventIds"]) == 5


async def test_sentiment_update_is_recorded_in_the_timeline(closed_call: str, send: Post, timeline: Callable) -> None:
    """Setting the scores is a voice_call.sentiment_updated entry naming the scale each value was read on."""
    await send(INBOUND_KEY, POST_CALL, body(BATCH))
    (entry,) = await timeline(closed_call, "voice_call.sentiment_updated")
    assert entry["data"]["changes"] == [
        {"participant": "AGENT", "value": "0.8", "scale": "-5..5", "score": 0.8, "previous": None},
        {"participant": "CUSTOMER", "value": "-1.6", "scale": "-5..5", "score": -1.6, "previous": None},
    ]


async def test_unsorted_batch_is_noted(closed_call: str, send: Post, timeline: Callable) -> None:
    """A batch out of startTime order is sorted on arrival, and the timeline says so."""
    late, early = post_call_event(startTime=CONNECTED_MS + 50_000, endTime=CONNECTED_MS + 51_000), post_call_event()
    await send(INBOUND_KEY, POST_CALL, post_call(late, early))
    (entry,) = await timeline(closed_call, "intelligence.post_call")
    assert "sorted on arrival" in entry["reason"]


async def test_transfer_leg_key_links_events_to_that_leg(
    create_call: CreateCall, close_call: Callable, send: Post, stored_events: Callable, read_call: Callable
) -> None:
    """Contact Lens analyses each contact: events sent with a transfer leg's own key go to that leg."""
    first_id = await create_call()
    transfer_id = await create_call("lambda_create_transfer")
    await close_call(TRANSFER_KEY)
    response = await send(TRANSFER_KEY, POST_CALL, body(BATCH))
    assert response.status_code == 202
    assert {e["voiceCallId"] for e in await stored_events(first_id)} == {transfer_id}
    assert (await read_call(transfer_id))["agentSentimentScore"] == 0.8
