"""GET /metrics after real requests: requests by route template and status, latency, transcripts by outcome."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
from fastapi import FastAPI

from callbridge.ops.metrics import CONSOLES_CONNECTED
from tests.ops.conftest import eventually, scrape, value
from tests.transcripts.conftest import INBOUND_KEY, Post, app_state_of, message, post_message, set_call_state
from tests.voice_calls.conftest import CreateCall, create_call

__all__ = ["app_state_of", "create_call", "post_message", "set_call_state"]

REQUESTS = "callbridge_http_requests_total"
DURATION = "callbridge_http_request_duration_seconds_count"
TRANSCRIPTS = "callbridge_transcripts_total"
CALL = "/telephony/v1/voiceCalls/{voiceCallId}"


async def test_requests_are_counted_by_route_template_not_raw_path(
    client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]], create_call: CreateCall
) -> None:
    """Reads of a call by id, by vendorCallKey and with a trailing slash count under one template; the raw
    paths never become labels."""
    call_id = await create_call()
    before = await scrape(client)
    for path in (call_id, INBOUND_KEY, f"{call_id}/", "0LQXX0000000404AAA"):
        await client.get(f"/telephony/v1/voiceCalls/{path}", headers=auth())
    after = await scrape(client)
    ok, missing = {"method": "GET", "route": CALL, "status": "200"}, {"method": "GET", "route": CALL, "status": "404"}
    assert value(after, REQUESTS, **ok) - value(before, REQUESTS, **ok) == 3
    assert value(after, REQUESTS, **missing) - value(before, REQUESTS, **missing) == 1
    assert value(after, DURATION, method="GET", route=CALL) - value(before, DURATION, method="GET", route=CALL) == 4
    assert not any(call_id in dict(labels).get("route", "") for _name, labels in after)


async def test_unmatched_paths_share_one_label(client: httpx2.AsyncClient) -> None:
    """404s for paths no route matches count under <unmatched>, whatever the path."""
    before = await scrape(client)
    await client.get("/no/such/path/one")
    await client.get("/no/such/path/two")
    after = await scrape(client)
    labels = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, REQUESTS, **labels) - value(before, REQUESTS, **labels) == 2
    assert not any("/no/such/path" in dict(labels).get("route", "") for _name, labels in after)


async def test_transcripts_are_counted_by_outcome_and_drop_reason(
    client: httpx2.AsyncClient, create_call: CreateCall, post_message: Post, set_call_state: Callable
) -> None:
    """Accepted, replaced, unchanged and dropped (with its dropReason) utterances, from the published events."""
    call_id = await create_call()
    before = await scrape(client)
    await post_message(INBOUND_KEY, message("m1", content="partial"))
    await post_message(INBOUND_KEY, message("m1", content="partial, final"))
    await post_message(INBOUND_KEY, message("m1", content="partial, final"))
    await set_call_state(call_id, on_hold=True)
    await post_message(INBOUND_KEY, message("m2"))
    expected = {
        ("accepted", ""): 1,
        ("replaced", ""): 1,
        ("unchanged", ""): 1,
        ("dropped", "on_hold"): 1,
    }

    async def counted() -> bool:
        after = await scrape(client)
        return all(
            value(after, TRANSCRIPTS, outcome=o, reason=r) - value(before, TRANSCRIPTS, outcome=o, reason=r) == n
            for (o, r), n in expected.items()
        )

    await eventually(counted)


async def test_live_gauges_are_exposed(client: httpx2.AsyncClient) -> None:
    """The consoles gauge (moved by the push channel) and the broker lag gauge are on /metrics."""
    CONSOLES_CONNECTED.inc()
    try:
        samples = await scrape(client)
        assert value(samples, "callbridge_consoles_connected") >= 1
        assert ("callbridge_broker_lag_seconds", frozenset()) in samples
    finally:
        CONSOLES_CONNECTED.dec()


async def test_unhandled_errors_count_as_500(app: FastAPI, client: httpx2.AsyncClient) -> None:
    """A request whose handler raises is counted with status 500 under its route."""

    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/test/boom", boom)
    before = await scrape(client)
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
        assert (await http.get("/test/boom")).status_code == 500
    after = await scrape(client)
    labels = {"method": "GET", "route": "/test/boom", "status": "500"}
    assert value(after, REQUESTS, **labels) - value(before, REQUESTS, **labels) == 1
