"""What the intelligence endpoints refuse, and how: 400 naming every bad path, 404, 409."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.intelligence.conftest import (
    POST_CALL,
    REALTIME,
    Post,
    body,
    post_call,
    post_call_event,
    realtime,
    signal,
)
from tests.transcripts.conftest import INBOUND_KEY
from tests.voice_calls.conftest import CreateCall

# One bad event per rule: (what is wrong, the event, the problem reported for its path).
REALTIME_EVENT_CASES: list[tuple[str, Any, str]] = [
    ("not an object", "x", "input should be a valid dictionary or instance of RealtimeEvent"),
    ("no type", {"value": "v", "startTime": 1795544215000}, ".type: is required"),
    (
        "unknown type",
        signal(type="IntelligenceSignal__Mood"),
        ".type: 'IntelligenceSignal__Mood' is not one of IntelligenceSignal__Category, IntelligenceSignal__Sentiment",
    ),
    (
        "post-call type",
        signal(type="IntelligenceSignal__OverallSentimentScore", participant="AGENT"),
        ".type: 'IntelligenceSignal__OverallSentimentScore' is not one of",
    ),
    ("no value", {"type": "IntelligenceSignal__Category", "startTime": 1}, ".value: is required"),
    ("empty value", signal(value=""), ".value: string should have at least 1 character"),
    ("boolean value", signal(value=True), ".value: must be a string or a number, not a boolean"),
    ("no startTime", {"type": "IntelligenceSignal__Category", "value": "v"}, ".startTime: is required"),
    ("negative startTime", signal(startTime=-1), ".startTime: input should be greater than or equal to 0"),
    ("text startTime", signal(startTime="soon"), ".startTime: input should be a valid integer"),
    ("huge startTime", signal(startTime=10**15), ".startTime: input should be less than or equal to"),
    (
        "sentiment without participant",
        signal(type="IntelligenceSignal__Sentiment", value="100"),
        ".participant: is required for IntelligenceSignal__Sentiment",
    ),
    (
        "sentiment beyond 1000",
        signal(type="IntelligenceSignal__Sentiment", value="1000.5", participant="AGENT"),
        ".value: must be a number from -1000 to 1000 for IntelligenceSignal__Sentiment, not '1000.5'",
    ),
    (
        "sentiment not a number",
        signal(type="IntelligenceSignal__Sentiment", value="happy", participant="AGENT"),
        ".value: must be a number from -1000 to 1000 for IntelligenceSignal__Sentiment, not 'happy'",
    ),
    ("unknown participant", signal(participant="BOB"), ".participant: 'BOB' is not AGENT or CUSTOMER"),
    ("score above 1000", signal(score=1001), ".score: input should be less than or equal to 1000"),
    ("negative score", signal(score=-1), ".score: input should be greater than or equal to 0"),
    ("boolean score", signal(score=True), ".score: must be a number from 0 to 1000, not a boolean"),
    ("text score", signal(score="high"), ".score: input should be a valid number"),
    ("details not an object", signal(details="x"), ".details: input should be a valid dictionary"),
]


async def test_every_realtime_event_rule_names_its_path(send: Post) -> None:
    """Each rule on a real-time event gives one problem naming that event's path, all in one 400 answer."""
    data = realtime(*(event for _, event, _ in REALTIME_EVENT_CASES))
    response = await send(INBOUND_KEY, REALTIME, data)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "INVALID_REQUEST"
    errors = response.json()["errors"]
    assert len(errors) == len(REALTIME_EVENT_CASES), errors
    for index, (case, _, problem) in enumerate(REALTIME_EVENT_CASES):
        path = f"events[{index}]"
        assert any(error.startswith(path + problem) or error == f"{path}: {problem}" for error in errors), case


BODY_CASES: list[tuple[str, Any, str]] = [
    ("no service", {"events": [signal()]}, "service: is required"),
    ("empty service", realtime(signal(), service=""), "service: string should have at least 1 character"),
    ("no events", {"service": "S"}, "events: is required"),
    ("empty events", realtime(), "events: list should have at least 1 item after validation, not 0"),
    ("events not a list", {"service": "S", "events": {}}, "events: input should be a valid list"),
    (
        "persist not a flag",
        {**realtime(signal()), "persist": "maybe"},
        "persist: input should be a valid boolean, unable to interpret input",
    ),
    ("body not an object", [signal()], "body: must be an object, not list"),
]


@pytest.mark.parametrize(("data", "problem"), [case[1:] for case in BODY_CASES], ids=[case[0] for case in BODY_CASES])
async def test_realtime_body_rule_names_its_path(send: Post, data: Any, problem: str) -> None:
    """Each rule on the body's own fields answers 400 naming the field."""
    response = await send(INBOUND_KEY, REALTIME, data)
    assert response.status_code == 400, response.text
    assert problem in response.json()["errors"]


POST_CALL_EVENT_CASES: list[tuple[str, Any, str]] = [
    ("null endTime", {**post_call_event(), "endTime": None}, ".endTime: input should be a valid integer"),
    ("no endTime", {k: v for k, v in post_call_event().items() if k != "endTime"}, ".endTime: is required"),
    (
        "overall without participant",
        post_call_event(type="IntelligenceSignal__OverallSentimentScore", value="0.8", participant=None),
        ".participant: is required for IntelligenceSignal__OverallSentimentScore",
    ),
    (
        "overall beyond 1000",
        post_call_event(type="IntelligenceSignal__OverallSentimentScore", value="-1200"),
        ".value: must be a number from -1000 to 1000 for IntelligenceSignal__OverallSentimentScore",
    ),
    (
        "sentiment without participant",
        post_call_event(participant=None),
        ".participant: is required for IntelligenceSignal__Sentiment",
    ),
    ("unknown type", post_call_event(type="Sentiment"), ".type: 'Sentiment' is not one of"),
    ("text endTime", post_call_event(endTime="later"), ".endTime: input should be a valid integer"),
]


async def test_every_post_call_event_rule_names_its_path(send: Post) -> None:
    """Each rule on a post-call event gives one problem naming that event's path, all in one 400 answer."""
    response = await send(INBOUND_KEY, POST_CALL, post_call(*(event for _, event, _ in POST_CALL_EVENT_CASES)))
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert len(errors) == len(POST_CALL_EVENT_CASES), errors
    for index, (case, _, problem) in enumerate(POST_CALL_EVENT_CASES):
        assert any(error.startswith(f"events[{index}]{problem}") for error in errors), case


async def test_post_call_category_needs_no_participant(
    create_call: CreateCall, send: Post, close_call: Callable
) -> None:
    """A post-call Category is not about one participant: it is taken without one."""
    await create_call()
    await close_call(INBOUND_KEY)
    data = post_call(post_call_event(type="IntelligenceSignal__Category", value="Escalation", participant=None))
    response = await send(INBOUND_KEY, POST_CALL, data)
    assert response.status_code == 202, response.text


async def test_every_problem_is_listed_at_once(send: Post) -> None:
    """Problems of several events and fields come in one answer, in path order."""
    data = realtime(
        signal(type="IntelligenceSignal__Sentiment", value="5000", startTime="x"),
        signal(score=2000),
        signal(),
        signal(participant="nobody"),
        service="",
    )
    response = await send(INBOUND_KEY, REALTIME, data)
    paths = [error.split(":")[0] for error in response.json()["errors"]]
    assert paths == [
        "events[0].participant",
        "events[0].startTime",
        "events[0].value",
        "events[1].score",
        "events[3].participant",
        "service",
    ]
    assert response.json()["message"] == "The request has 6 problems."


async def test_nothing_is_recorded_for_a_refused_body(create_call: CreateCall, send: Post, timeline: Callable) -> None:
    """A 400 leaves no trace in the call's timeline: the whole request is refused."""
    call_id = await create_call()
    await send(INBOUND_KEY, REALTIME, realtime(signal(), signal(score=5000), persist=True))
    assert await timeline(call_id, "intelligence.realtime", "intelligence.signal") == []


@pytest.mark.parametrize("endpoint", [REALTIME, POST_CALL])
async def test_voice_call_id_is_refused(create_call: CreateCall, send: Post, endpoint: str) -> None:
    """Both endpoints take a vendorCallKey only: a VoiceCall id is 404 VENDOR_CALL_KEY_REQUIRED."""
    call_id = await create_call()
    data = body("contact_lens_realtime_category") if endpoint == REALTIME else body("post_call_analysis_batch")
    response = await send(call_id, endpoint, data)
    assert response.status_code == 404
    assert response.json()["code"] == "VENDOR_CALL_KEY_REQUIRED"


@pytest.mark.parametrize("endpoint", [REALTIME, POST_CALL])
async def test_unknown_key_is_404(create_call: CreateCall, send: Post, endpoint: str) -> None:
    """A vendorCallKey of no call is 404 VOICE_CALL_NOT_FOUND."""
    await create_call()
    data = body("contact_lens_realtime_category") if endpoint == REALTIME else body("post_call_analysis_batch")
    response = await send("no-such-contact", endpoint, data)
    assert response.status_code == 404
    assert response.json()["code"] == "VOICE_CALL_NOT_FOUND"


@pytest.mark.parametrize("endpoint", [REALTIME, POST_CALL])
async def test_other_call_center_gets_404(
    create_call: CreateCall, send: Post, close_call: Callable, other_token: Callable, endpoint: str
) -> None:
    """Another call center's token never reaches this call: 404, as if it did not exist."""
    await create_call()
    await close_call(INBOUND_KEY)
    data = body("contact_lens_realtime_category") if endpoint == REALTIME else body("post_call_analysis_batch")
    response = await send(INBOUND_KEY, endpoint, data, Authorization=f"Bearer {other_token()}")
    assert response.status_code == 404
    assert response.json()["code"] == "VOICE_CALL_NOT_FOUND"


async def test_post_call_before_close_is_409(create_call: CreateCall, send: Post, stored_events: Callable) -> None:
    """Post-call events for a conversation still open: 409 CONVERSATION_NOT_CLOSED, nothing stored."""
    call_id = await create_call()
    response = await send(INBOUND_KEY, POST_CALL, body("post_call_analysis_batch"))
    assert response.status_code == 409
    assert response.json()["code"] == "CONVERSATION_NOT_CLOSED"
    assert await stored_events(call_id) == []


async def test_missing_token_is_401(create_call: CreateCall, client: Any) -> None:
    """Without a token the endpoints answer 401 like every telephony endpoint."""
    await create_call()
    response = await client.post(
        f"/telephony/v1/voiceCalls/{INBOUND_KEY}/{REALTIME}", json=body("contact_lens_realtime_category")
    )
    assert response.status_code == 401
