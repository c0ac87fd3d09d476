"""POST /telephony/v1/voiceCalls/{vendorCallKey}/messages: a message time far in the future is accepted, as
Salesforce accepts it, with a Callbridge-Warning header and a note in the timeline."""

from __future__ import annotations

from collections.abc import Callable

from tests.transcripts.conftest import INBOUND_KEY, Post, message
from tests.voice_calls.conftest import CreateCall

FUTURE_MS = 4102444800000  # 2100-01-01T00:00:00Z


async def test_a_future_start_time_is_accepted_with_a_warning_header(
    post_message: Post, create_call: CreateCall
) -> None:
    """The answer is the usual 200 Accepted, with one Callbridge-Warning per time in the future."""
    await create_call()
    response = await post_message(INBOUND_KEY, message("m1", startTime=FUTURE_MS, endTime=FUTURE_MS + 1000))
    assert response.status_code == 200 and response.json() == {"result": "Accepted"}
    assert response.headers.get_list("callbridge-warning") == [
        "startTime 2100-01-01T00:00:00.000Z is in the future",
        "endTime 2100-01-01T00:00:01.000Z is in the future",
    ]


async def test_a_future_start_time_is_noted_in_the_timeline(
    post_message: Post, create_call: CreateCall, timeline: Callable
) -> None:
    """The message's timeline entry names the time in the future."""
    call_id = await create_call()
    await post_message(INBOUND_KEY, message("m1", startTime=FUTURE_MS, endTime=FUTURE_MS + 1000))
    reasons = [entry["reason"] or "" for entry in await timeline(call_id) if entry["kind"].startswith("transcript.")]
    assert any("startTime 2100-01-01T00:00:00.000Z is in the future" in reason for reason in reasons)


async def test_a_message_in_the_call_has_no_warning(post_message: Post, create_call: CreateCall) -> None:
    """The Lambda's usual message answers no Callbridge-Warning."""
    await create_call()
    response = await post_message(INBOUND_KEY, message("m1"))
    assert "callbridge-warning" not in response.headers
