"""Call control from the console: hold and recording, by the agent holding the call's work or a supervisor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.routing.conftest import ALICE, BRUNO, SAM, Console, Telephony
from tests.voice_calls.conftest import CreateCall


async def taken_call(create_call: CreateCall, telephony: Telephony, console: Console) -> tuple[str, dict[str, str]]:
    alice = await console.available(ALICE)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    await console.take(alice)
    return call, alice


async def test_the_agent_holds_and_resumes_the_call(
    create_call: CreateCall,
    telephony: Telephony,
    console: Console,
    read_call: Callable[[str], Awaitable[dict[str, Any]]],
) -> None:
    """hold then resume: the call's state follows, and the timeline records both."""
    call, alice = await taken_call(create_call, telephony, console)
    response = await console.http.post(f"/console/v1/calls/{call}/hold", headers=alice)
    assert response.json() == {"voiceCallId": call, "isOnHold": True, "isRecordingPaused": False, "changed": True}
    assert (await read_call(call))["isOnHold"] is True
    response = await console.http.post(f"/console/v1/calls/{call}/resume", headers=alice)
    assert response.json()["isOnHold"] is False
    kinds = [e["kind"] for e in await telephony.timeline(call)]
    assert kinds[-2:] == ["voice_call.hold", "voice_call.resumed"]


async def test_the_agent_pauses_and_resumes_recording(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """pause-recording twice changes it once."""
    call, alice = await taken_call(create_call, telephony, console)
    first = await console.http.post(f"/console/v1/calls/{call}/pause-recording", headers=alice)
    again = await console.http.post(f"/console/v1/calls/{call}/pause-recording", headers=alice)
    assert (first.json()["changed"], again.json()["changed"], again.json()["isRecordingPaused"]) == (True, False, True)
    resumed = await console.http.post(f"/console/v1/calls/{call}/resume-recording", headers=alice)
    assert resumed.json()["isRecordingPaused"] is False


async def test_another_agent_may_not_hold_the_call(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """403 NOT_YOUR_CALL for an agent without open work on it."""
    call, _ = await taken_call(create_call, telephony, console)
    bruno = await console.sign_in(BRUNO)
    response = await console.http.post(f"/console/v1/calls/{call}/hold", headers=bruno)
    assert (response.status_code, response.json()["code"]) == (403, "NOT_YOUR_CALL")


async def test_a_supervisor_may_hold_any_call(create_call: CreateCall, telephony: Telephony, console: Console) -> None:
    """A supervisor holds a call nobody has taken."""
    call = await create_call()
    sam = await console.sign_in(SAM)
    response = await console.http.post(f"/console/v1/calls/{call}/hold", headers=sam)
    assert response.json()["isOnHold"] is True


async def test_an_unknown_call_is_404(console: Console) -> None:
    """VOICE_CALL_NOT_FOUND."""
    sam = await console.sign_in(SAM)
    response = await console.http.post("/console/v1/calls/0LQXX0000000000AAA/hold", headers=sam)
    assert (response.status_code, response.json()["code"]) == (404, "VOICE_CALL_NOT_FOUND")


async def test_closed_work_no_longer_controls_the_call(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """After closing the work, the agent may not hold the call."""
    call, alice = await taken_call(create_call, telephony, console)
    (work,) = (await console.http.get("/console/v1/work", headers=alice)).json()
    await console.http.post(f"/console/v1/work/{work['id']}/close", headers=alice)
    response = await console.http.post(f"/console/v1/calls/{call}/hold", headers=alice)
    assert response.status_code == 403
