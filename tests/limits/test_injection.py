"""CALLBRIDGE_FAULTS over real HTTP: injected errors answered before anything is processed, delays, selectors,
the timeline and the metric."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx2

from tests.conftest import TokenFactory
from tests.limits.conftest import URL, Serve, create_body
from tests.ops.conftest import scrape, value
from tests.transcripts.conftest import INBOUND_KEY, message

Auth = Callable[..., dict[str, str]]
MESSAGES = "/telephony/v1/voiceCalls/{vendorCallKey}/messages"


async def timeline(http: httpx2.AsyncClient, auth: Auth, call: str) -> list[dict[str, Any]]:
    response = await http.get(f"{URL}/{call}/timeline", headers=auth())
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


async def test_injected_503_on_create_stores_nothing(serve: Serve, auth: Auth) -> None:
    """POST /voiceCalls:503=1: 503 FAULT_INJECTED with Retry-After and Callbridge-Fault, and no call exists."""
    async with serve(faults=f"POST {URL}:503=1") as http:
        response = await http.post(URL, json=create_body("faulted"), headers=auth())
        assert response.status_code == 503
        assert response.json()["code"] == "FAULT_INJECTED"
        assert "injected" in response.json()["message"].lower()
        assert response.headers["Retry-After"] == "1"
        assert response.headers["Callbridge-Fault"] == "503"
        assert (await http.get(f"{URL}/faulted", headers=auth())).status_code == 404


async def test_injected_429_on_a_transcript_is_recorded_in_the_timeline(serve: Serve, auth: Auth) -> None:
    """A single transcript POST answered 429 by the fault layer: not stored, and the call's timeline says the
    error was injected."""
    async with serve(faults=f"POST {MESSAGES}:429=1") as http:
        assert (await http.post(URL, json=create_body(INBOUND_KEY), headers=auth())).status_code == 200
        response = await http.post(f"{URL}/{INBOUND_KEY}/messages", json=message("m1"), headers=auth())
        stored = await http.get(f"{URL}/{INBOUND_KEY}/messages", headers=auth())
        entries = await timeline(http, auth, INBOUND_KEY)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert stored.json()["entries"] == []
    injected = [entry for entry in entries if entry["kind"] == "fault.injected"]
    assert len(injected) == 1
    assert injected[0]["outcome"] == "injected"
    assert injected[0]["data"]["status"] == 429
    assert injected[0]["request"] == f"POST {URL}/{INBOUND_KEY}/messages"


async def test_unauthenticated_faulted_request_records_nothing(serve: Serve, auth: Auth) -> None:
    """Without a valid token the fault is still answered, but nothing reaches the call's timeline."""
    async with serve(faults=f"POST {MESSAGES}:503=1") as http:
        await http.post(URL, json=create_body(INBOUND_KEY), headers=auth())
        response = await http.post(f"{URL}/{INBOUND_KEY}/messages", json=message("m1"), headers={"X": "y"})
        entries = await timeline(http, auth, INBOUND_KEY)
    assert response.status_code == 503
    assert not [entry for entry in entries if entry["kind"] == "fault.injected"]


async def test_another_call_centers_token_records_nothing(
    serve: Serve, auth: Auth, other_token: Callable[..., str]
) -> None:
    """A token of another call center names a call it cannot see: no timeline entry for that call."""
    async with serve(faults=f"PATCH {URL}/*:503=1") as http:
        await http.post(URL, json=create_body(INBOUND_KEY), headers=auth())
        headers = {"Authorization": f"Bearer {other_token()}"}
        response = await http.patch(f"{URL}/{INBOUND_KEY}", json={}, headers=headers)
        entries = await timeline(http, auth, INBOUND_KEY)
    assert response.status_code == 503
    assert not [entry for entry in entries if entry["kind"] == "fault.injected"]


async def test_injected_fault_leaves_the_token_usable(serve: Serve, make_token: TokenFactory) -> None:
    """Under the single-use jti policy, the token of a faulted request still works on a server without faults."""
    token = {"Authorization": f"Bearer {make_token()}"}
    async with serve(faults=f"POST {MESSAGES}:503=1", jti_policy="single-use") as http:
        await http.post(URL, json=create_body(INBOUND_KEY), headers={"Authorization": f"Bearer {make_token()}"})
        # The path names a call: the token is verified to record the fault in its timeline.
        faulted = await http.post(f"{URL}/{INBOUND_KEY}/messages", json=message(), headers=token)
        assert faulted.status_code == 503
    async with serve(jti_policy="single-use") as http:
        assert (await http.post(URL, json=create_body("k"), headers=token)).status_code == 200


async def test_delay_holds_the_request_then_answers_it(serve: Serve, auth: Auth) -> None:
    """delay=300ms: the create takes at least 0.3 s, succeeds, and is marked as delayed."""
    async with serve(faults="delay=300ms") as http:
        started = time.monotonic()
        response = await http.post(URL, json=create_body("slow"), headers=auth())
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed >= 0.3
    assert response.headers["Callbridge-Fault"] == "delay=300ms"


async def test_selector_spares_other_routes(serve: Serve, auth: Auth) -> None:
    """POST /telephony/v1/voiceCalls/messages:429=1 refuses bulk POSTs only; the single POST is accepted."""
    async with serve(faults="POST /telephony/v1/voiceCalls/messages:429=1") as http:
        await http.post(URL, json=create_body(INBOUND_KEY), headers=auth())
        bulk = {"entries": [{"vendorCallKey": INBOUND_KEY, "messages": [message("b1")]}]}
        refused = await http.post(f"{URL}/messages", json=bulk, headers=auth())
        single = await http.post(f"{URL}/{INBOUND_KEY}/messages", json=message("s1"), headers=auth())
    assert refused.status_code == 429
    assert single.status_code == 200


async def test_faults_touch_only_the_apis(serve: Serve) -> None:
    """503=1 answers every telephony request 503, and leaves /healthz and /metrics alone."""
    async with serve(faults="503=1") as http:
        assert (await http.get(f"{URL}/anything")).status_code == 503
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/metrics")).status_code == 200


async def test_seeded_faults_repeat(serve: Serve, auth: Auth) -> None:
    """With seed=7, two servers answer the same sequence of requests with the same faults."""
    runs = []
    for _ in range(2):
        async with serve(faults=f"GET {URL}/*:429=0.5,seed=7") as http:
            runs.append([(await http.get(f"{URL}/none", headers=auth())).status_code for _ in range(20)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {404, 429}


async def test_injected_faults_are_counted(serve: Serve) -> None:
    """callbridge_faults_injected_total{fault="503"} counts each injected 503."""
    async with serve(faults=f"GET {URL}/*:503=1") as http:
        before = value(await scrape(http), "callbridge_faults_injected_total", fault="503")
        for _ in range(3):
            await http.get(f"{URL}/any")
        after = value(await scrape(http), "callbridge_faults_injected_total", fault="503")
    assert after - before == 3


async def test_fault_on_the_connect_api_is_recorded_for_its_conversation(serve: Serve, auth: Auth) -> None:
    """A Connect API read of a conversation (by its first leg's vendorCallKey) answered 503 is recorded in that
    call's timeline."""
    async with serve(faults="/services/data/**:503=1") as http:
        await http.post(URL, json=create_body(INBOUND_KEY), headers=auth())
        path = f"/services/data/v60.0/connect/conversation/{INBOUND_KEY}/entries"
        response = await http.get(path, headers=auth())
        entries = await timeline(http, auth, INBOUND_KEY)
    assert response.status_code == 503
    assert [entry["request"] for entry in entries if entry["kind"] == "fault.injected"] == [f"GET {path}"]
