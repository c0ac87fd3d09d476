"""The supervisor's reads (agents, live calls, backlog, a call and its timeline) and clearing a stale routing;
and what an agent may read of their own call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx2
from sqlalchemy import update

from callbridge.kit.state import AppState
from callbridge.models import VoiceCall
from tests.routing.conftest import ALICE, BRUNO, SAM, Console, Telephony
from tests.voice_calls.conftest import CreateCall

KEY = "5b2c7a9e-3f1d-4e8a-9c61-0d2f4b7e8a13"  # the vendorCallKey of lambda_create_inbound
IN_CALL_MS = 1795544190000  # inside that call's conversation


async def get(console: Console, url: str, headers: dict[str, str]) -> Any:
    response = await console.http.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def routed_call(create_call: CreateCall, telephony: Telephony, **overrides: Any) -> str:
    call = await create_call(**overrides)
    response = await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    assert response.status_code == 200, response.text
    return call


async def missed(telephony: Telephony, key: str) -> None:
    """The caller hung up before an agent answered: the call ends (endTime), which withdraws its routing."""
    body = {"endTime": "2026-11-24T18:17:10Z", "isActiveCall": True}
    response = await telephony.http.patch(f"/telephony/v1/voiceCalls/{key}", json=body, headers=telephony.auth())
    assert response.status_code == 200, response.text


async def ended_behind_routing(state: AppState, key: str) -> None:
    """A call whose end reached the database without withdrawing its routing (stored before an ending call
    withdrew it, or ended by another writer): the routing is left stale."""
    async with state.database.write_session() as session:
        ended = update(VoiceCall).where(VoiceCall.vendor_call_key == key).values(call_end_date_time=datetime.now(UTC))
        await session.execute(ended)
        await session.commit()


async def test_agents_show_presence_and_load(create_call: CreateCall, telephony: Telephony, console: Console) -> None:
    """GET /agents: Alice Available holding one call's capacity in open work; Bruno, never signed in, Offline."""
    alice = await console.available(ALICE)
    await routed_call(create_call, telephony)
    await console.take(alice)
    sam = await console.sign_in(SAM)
    agents = {a["username"]: a for a in await get(console, "/console/v1/agents", sam)}
    assert {k: agents[ALICE][k] for k in ("presence", "capacityUsed", "capacity", "offers", "openWork")} == {
        "presence": "Available",
        "capacityUsed": 100,
        "capacity": 100,
        "offers": 0,
        "openWork": 1,
    }
    assert (agents[BRUNO]["presence"], agents[BRUNO]["statusChangedAt"]) == ("Offline", None)
    assert agents[SAM]["role"] == "supervisor"


async def test_only_supervisors_list_agents_and_calls(console: Console) -> None:
    """An agent gets 403 NOT_SUPERVISOR from /agents, /calls and a call's timeline."""
    alice = await console.sign_in(ALICE)
    for url in ("/console/v1/agents", "/console/v1/calls", f"/console/v1/calls/{KEY}/timeline"):
        response = await console.http.get(url, headers=alice)
        assert (response.status_code, response.json()["code"]) == (403, "NOT_SUPERVISOR"), url


async def test_live_calls_say_where_each_call_stands(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """A routed call nobody can take is waiting; once Alice accepts it, it is connected, with her name."""
    call = await routed_call(create_call, telephony)
    sam = await console.sign_in(SAM)
    (waiting,) = await get(console, "/console/v1/calls", sam)
    assert (waiting["voiceCallId"], waiting["status"], waiting["queueName"], waiting["agent"]) == (
        call,
        "waiting",
        "Support",
        None,
    )
    alice = await console.available(ALICE)
    await console.take(alice)
    (connected,) = await get(console, "/console/v1/calls", sam)
    assert (connected["status"], connected["agent"], connected["psrId"]) == ("connected", ALICE, None)


async def test_an_ended_call_is_not_live(create_call: CreateCall, telephony: Telephony, console: Console) -> None:
    """A call with an end time leaves the live list."""
    await routed_call(create_call, telephony)
    await missed(telephony, KEY)
    sam = await console.sign_in(SAM)
    assert await get(console, "/console/v1/calls", sam) == []


async def test_a_missed_calls_routing_is_flagged_stale(
    create_call: CreateCall, telephony: Telephony, console: Console, state: AppState
) -> None:
    """/pending marks a routing whose call ended as stale; one whose call is live is not."""
    await routed_call(create_call, telephony)
    sam = await console.sign_in(SAM)
    (live,) = await get(console, "/console/v1/pending", sam)
    assert (live["stale"], live["callEnded"], live["vendorCallKey"]) == (False, False, KEY)
    await ended_behind_routing(state, KEY)
    (stale,) = await get(console, "/console/v1/pending", sam)
    assert (stale["stale"], stale["callEnded"], stale["fromPhoneNumber"]) == (True, True, "+14155550123")


async def test_a_supervisor_clears_a_stale_routing(
    create_call: CreateCall, telephony: Telephony, console: Console, state: AppState
) -> None:
    """POST /pending/{id}/clear removes it, and the call's timeline says which supervisor cleared it."""
    call = await routed_call(create_call, telephony)
    await ended_behind_routing(state, KEY)
    sam = await console.sign_in(SAM)
    (psr,) = await get(console, "/console/v1/pending", sam)
    response = await console.http.post(f"/console/v1/pending/{psr['id']}/clear", headers=sam)
    assert response.json() == {"id": psr["id"], "workItemId": call, "voiceCallId": call, "status": "Cleared"}
    assert await get(console, "/console/v1/pending", sam) == []
    (cleared,) = [e for e in await telephony.timeline(call) if e["kind"] == "routing.cleared"]
    assert (cleared["outcome"], cleared["actor"]) == ("cleared", f"agent:{SAM}")
    assert cleared["reason"] == f"cleared by supervisor {SAM} in the console"


async def test_clearing_withdraws_the_standing_offer(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """The agent offered the work loses the offer and gets their capacity back."""
    alice = await console.available(ALICE)
    await routed_call(create_call, telephony)
    (offer,) = await console.offers(alice)
    sam = await console.sign_in(SAM)
    (psr,) = await get(console, "/console/v1/pending", sam)
    assert psr["offerId"] == offer["id"]
    await console.http.post(f"/console/v1/pending/{psr['id']}/clear", headers=sam)
    assert await console.offers(alice) == []
    assert (await get(console, "/console/v1/me", alice))["capacityUsed"] == 0


async def test_clearing_is_for_supervisors_and_known_routings(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """An agent gets 403 NOT_SUPERVISOR; an unknown or already cleared PSR is 404 PENDING_ROUTING_NOT_FOUND."""
    await routed_call(create_call, telephony)
    sam = await console.sign_in(SAM)
    (psr,) = await get(console, "/console/v1/pending", sam)
    alice = await console.sign_in(ALICE)
    refused = await console.http.post(f"/console/v1/pending/{psr['id']}/clear", headers=alice)
    assert (refused.status_code, refused.json()["code"]) == (403, "NOT_SUPERVISOR")
    await console.http.post(f"/console/v1/pending/{psr['id']}/clear", headers=sam)
    again = await console.http.post(f"/console/v1/pending/{psr['id']}/clear", headers=sam)
    assert (again.status_code, again.json()["code"]) == (404, "PENDING_ROUTING_NOT_FOUND")


async def test_the_timeline_reads_as_the_telephony_apis(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """GET /calls/{vendorCallKey}/timeline and /calls/{id}/timeline give the telephony API's timeline."""
    call = await routed_call(create_call, telephony)
    sam = await console.sign_in(SAM)
    by_key = await get(console, f"/console/v1/calls/{KEY}/timeline", sam)
    by_id = await get(console, f"/console/v1/calls/{call}/timeline", sam)
    assert by_key == by_id
    assert by_key["voiceCallId"] == call
    assert by_key["entries"] == await telephony.timeline(call)
    assert "routing.psr_created" in [e["kind"] for e in by_key["entries"]]


async def test_an_unknown_call_is_404(console: Console) -> None:
    """VOICE_CALL_NOT_FOUND for the call, its timeline and its messages."""
    sam = await console.sign_in(SAM)
    for suffix in ("", "/timeline", "/messages"):
        response = await console.http.get(f"/console/v1/calls/no-such-key{suffix}", headers=sam)
        assert (response.status_code, response.json()["code"]) == (404, "VOICE_CALL_NOT_FOUND"), suffix


async def test_an_agent_reads_the_call_offered_to_them_only(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """Alice, offered the call, reads it with its attributes; Bruno gets 403 NOT_YOUR_CALL."""
    alice = await console.available(ALICE)
    call = await routed_call(create_call, telephony)
    read = await get(console, f"/console/v1/calls/{call}", alice)
    assert (read["fromPhoneNumber"], read["queueName"], read["callAttributes"]) == (
        "+14155550123",
        "Support",
        {"Department__c": "Support"},
    )
    bruno = await console.sign_in(BRUNO)
    response = await console.http.get(f"/console/v1/calls/{call}", headers=bruno)
    assert (response.status_code, response.json()["code"]) == (403, "NOT_YOUR_CALL")


async def test_messages_include_what_was_dropped_on_hold(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """The agent's call's transcript so far: a stored utterance, then one dropped while on hold (on_hold)."""
    alice = await console.available(ALICE)
    call = await routed_call(create_call, telephony)
    await console.take(alice)
    utterance = {"startTime": IN_CALL_MS, "endTime": IN_CALL_MS + 2000, "participantId": "END_USER"}
    url = f"/telephony/v1/voiceCalls/{KEY}/messages"
    first = {**utterance, "messageId": "m1", "content": "Hello?", "senderType": "END_USER"}
    assert (await telephony.http.post(url, json=first, headers=telephony.auth())).status_code == 200
    await console.http.post(f"/console/v1/calls/{call}/hold", headers=alice)
    second = {**utterance, "messageId": "m2", "content": "Still there?", "senderType": "END_USER"}
    assert (await telephony.http.post(url, json=second, headers=telephony.auth())).status_code == 200
    page = await get(console, f"/console/v1/calls/{call}/messages", alice)
    assert [(e["messageId"], e["status"], e["content"], e["dropReason"]) for e in page["entries"]] == [
        ("m1", "stored", "Hello?", None),
        ("m2", "dropped", None, "on_hold"),
    ]


async def test_the_console_page_is_served_with_its_script(client: httpx2.AsyncClient) -> None:
    """GET /console is the page (sign-in form, the entry ES module), framed by nobody; the modules are served."""
    page = await client.get("/console")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert 'type="module"' in page.text and "/console/static/console.js" in page.text
    assert 'id="sign-in-form"' in page.text
    script = await client.get("/console/static/console.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert 'from "./api.js"' in script.text
    for module, marker in {"api.js": 'const API = "/console/v1";', "stream.js": "stream.hello"}.items():
        served = await client.get(f"/console/static/{module}")
        assert served.status_code == 200 and "javascript" in served.headers["content-type"]
        assert marker in served.text


async def test_the_supervisor_page_tells_an_agent_it_is_for_supervisors(
    client: httpx2.AsyncClient, console: Console
) -> None:
    """An agent's session cookie gets 403 and a page that says why; a supervisor's gets the view."""
    await console.sign_in(ALICE)  # sets the callbridge_session cookie in the client
    denied = await client.get("/console/supervisor")
    assert denied.status_code == 403
    assert "This view is for supervisors" in denied.text and ALICE in denied.text
    await console.sign_in(SAM)
    allowed = await client.get("/console/supervisor")
    assert allowed.status_code == 200
    assert "Live calls" in allowed.text and "Queue backlog" in allowed.text


async def test_the_supervisor_page_asks_a_stranger_to_sign_in(client: httpx2.AsyncClient) -> None:
    """Without a session the supervisor page is its sign-in form (the script shows it)."""
    page = await client.get("/console/supervisor")
    assert page.status_code == 200
    assert 'id="sign-in-form"' in page.text
