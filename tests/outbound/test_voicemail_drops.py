"""The console's voicemail-drop picker, and the telephony GET that answers the pick."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from tests.outbound.conftest import DROPS
from tests.routing.conftest import ALICE, BRUNO, Console, Telephony
from tests.voice_calls.conftest import CreateCall


async def taken_call(
    create_call: CreateCall, telephony: Telephony, console: Console, key: str = "outbound-1"
) -> tuple[str, dict[str, str]]:
    alice = await console.available(ALICE)
    call = await create_call(vendorCallKey=key)
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    await console.take(alice)
    return call, alice


async def test_the_telephony_get_answers_the_agents_pick(
    create_call: CreateCall, telephony: Telephony, console: Console, auth: Callable[..., dict[str, str]]
) -> None:
    """An agent picks "Busy" for their call; voicemailDrop by the contact id answers its recordingUrl."""
    call, alice = await taken_call(create_call, telephony, console)
    response = await console.http.put(f"/console/v1/calls/{call}/voicemail-drop", json={"name": "Busy"}, headers=alice)
    assert response.status_code == 200, response.text
    drop = await console.http.get("/telephony/v1/voiceCalls/outbound-1/voicemailDrop", headers=auth())
    assert drop.status_code == 200, drop.text
    assert drop.json() == {"recordingUrl": DROPS["Busy"]}


async def test_the_console_lists_the_drops_with_the_pick_marked(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """GET lists the call center's drops in file order and names the picked one."""
    call, alice = await taken_call(create_call, telephony, console)
    await console.http.put(f"/console/v1/calls/{call}/voicemail-drop", json={"name": "Call back later"}, headers=alice)
    response = await console.http.get(f"/console/v1/calls/{call}/voicemail-drop", headers=alice)
    assert response.json() == {
        "voiceCallId": call,
        "drops": [{"name": name, "recordingUrl": url} for name, url in DROPS.items()],
        "picked": "Call back later",
        "recordingUrl": DROPS["Call back later"],
    }


async def test_a_null_name_clears_the_pick(
    create_call: CreateCall, telephony: Telephony, console: Console, auth: Callable[..., dict[str, str]]
) -> None:
    """{"name": null} clears it: the telephony GET is 404 VOICEMAIL_DROP_NOT_FOUND again."""
    call, alice = await taken_call(create_call, telephony, console)
    url = f"/console/v1/calls/{call}/voicemail-drop"
    await console.http.put(url, json={"name": "Busy"}, headers=alice)
    cleared = await console.http.put(url, json={"name": None}, headers=alice)
    assert cleared.json()["picked"] is None
    drop = await console.http.get(f"/telephony/v1/voiceCalls/{call}/voicemailDrop", headers=auth())
    assert (drop.status_code, drop.json()["code"]) == (404, "VOICEMAIL_DROP_NOT_FOUND")


async def test_an_unknown_drop_name_is_400(create_call: CreateCall, telephony: Telephony, console: Console) -> None:
    """A name the call center does not have: 400 UNKNOWN_VOICEMAIL_DROP naming the field."""
    call, alice = await taken_call(create_call, telephony, console)
    response = await console.http.put(f"/console/v1/calls/{call}/voicemail-drop", json={"name": "Nope"}, headers=alice)
    assert response.status_code == 400
    assert response.json()["code"] == "UNKNOWN_VOICEMAIL_DROP"
    assert response.json()["errors"][0].startswith("name: ")


async def test_a_missing_name_is_400(create_call: CreateCall, telephony: Telephony, console: Console) -> None:
    """The body must say which drop (or null)."""
    call, alice = await taken_call(create_call, telephony, console)
    response = await console.http.put(f"/console/v1/calls/{call}/voicemail-drop", json={}, headers=alice)
    assert response.status_code == 400


async def test_another_agent_may_not_pick(create_call: CreateCall, telephony: Telephony, console: Console) -> None:
    """403 NOT_YOUR_CALL for an agent the call is neither offered to nor accepted by."""
    call, _ = await taken_call(create_call, telephony, console)
    bruno = await console.sign_in(BRUNO)
    response = await console.http.put(f"/console/v1/calls/{call}/voicemail-drop", json={"name": "Busy"}, headers=bruno)
    assert (response.status_code, response.json()["code"]) == (403, "NOT_YOUR_CALL")


async def test_an_unknown_call_is_404(console: Console) -> None:
    """A call id that does not exist: 404."""
    alice = await console.sign_in(ALICE)
    response = await console.http.put(
        "/console/v1/calls/0LQXX0000000000AAA/voicemail-drop", json={"name": "Busy"}, headers=alice
    )
    assert response.status_code == 404


async def test_picking_needs_a_session(client: httpx2.AsyncClient) -> None:
    """Without a console session: 401."""
    response = await client.put("/console/v1/calls/0LQXX0000000000AAA/voicemail-drop", json={"name": "Busy"})
    assert response.status_code == 401


async def test_the_pick_is_in_the_calls_timeline(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """The timeline records who picked which drop."""
    call, alice = await taken_call(create_call, telephony, console)
    await console.http.put(f"/console/v1/calls/{call}/voicemail-drop", json={"name": "Busy"}, headers=alice)
    (entry,) = [e for e in await telephony.timeline(call) if e["kind"] == "voice_call.voicemail_drop_picked"]
    assert entry["reason"] == f"{ALICE} picked the voicemail drop 'Busy'"
    assert entry["actor"] == f"agent:{ALICE}"


async def test_an_agent_picks_for_a_call_still_ringing(
    create_call: CreateCall, telephony: Telephony, console: Console, auth: Callable[..., dict[str, str]]
) -> None:
    """A call offered to the agent (not yet accepted) takes a pick too, by vendorCallKey."""
    alice = await console.available(ALICE)
    await create_call(vendorCallKey="ringing-out")
    await telephony.omni_flow("ringing-out", {"fallbackQueue": "Support"})
    response = await console.http.put(
        "/console/v1/calls/ringing-out/voicemail-drop", json={"name": "Busy"}, headers=alice
    )
    assert response.status_code == 200, response.text
    drop = await console.http.get("/telephony/v1/voiceCalls/ringing-out/voicemailDrop", headers=auth())
    assert drop.json() == {"recordingUrl": DROPS["Busy"]}


async def test_another_call_centers_token_never_reads_the_pick(
    create_call: CreateCall, telephony: Telephony, console: Console, other_token: Callable[..., str]
) -> None:
    """The call exists only for its own call center: another's token gets 404 VOICE_CALL_NOT_FOUND."""
    call, alice = await taken_call(create_call, telephony, console)
    await console.http.put(f"/console/v1/calls/{call}/voicemail-drop", json={"name": "Busy"}, headers=alice)
    response = await console.http.get(
        f"/telephony/v1/voiceCalls/{call}/voicemailDrop", headers={"Authorization": f"Bearer {other_token()}"}
    )
    assert (response.status_code, response.json()["code"]) == (404, "VOICE_CALL_NOT_FOUND")
