"""Offers and work from the agent's side: only the agent offered may act, a supervisor sees all work."""

from __future__ import annotations

from tests.routing.conftest import ALICE, BRUNO, SAM, Console, Telephony
from tests.voice_calls.conftest import CreateCall


async def test_offers_list_the_call(create_call: CreateCall, telephony: Telephony, console: Console) -> None:
    """An offer names its call, the queue, and when it expires."""
    alice = await console.available(ALICE)
    call = await create_call()
    await telephony.omni_flow(call, {"dialedNumber": "+14155550100"})
    (offer,) = await console.offers(alice)
    assert offer["id"].startswith("0Bz")
    assert (offer["voiceCallId"], offer["vendorCallKey"]) == (call, "5b2c7a9e-3f1d-4e8a-9c61-0d2f4b7e8a13")
    assert (offer["queue"], offer["routingType"], offer["workItemType"]) == ("Support", "QueueBased", "VoiceCall")
    assert offer["expiresAt"] is not None


async def test_accepting_another_agents_offer_is_forbidden(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """403 NOT_YOUR_OFFER, and the offer still stands for its agent."""
    alice = await console.available(ALICE)
    bruno = await console.sign_in(BRUNO)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    (offer,) = await console.offers(alice)
    for response in (await console.accept(bruno, offer["id"]), await console.decline(bruno, offer["id"])):
        assert (response.status_code, response.json()["code"]) == (403, "NOT_YOUR_OFFER")
    assert len(await console.offers(alice)) == 1


async def test_an_unknown_offer_is_404(console: Console) -> None:
    """OFFER_NOT_FOUND."""
    alice = await console.sign_in(ALICE)
    response = await console.accept(alice, "0BzXX0000000000AAA")
    assert (response.status_code, response.json()["code"]) == (404, "OFFER_NOT_FOUND")


async def test_accepting_twice_is_a_conflict(create_call: CreateCall, telephony: Telephony, console: Console) -> None:
    """The second accept: 409 OFFER_ALREADY_ACCEPTED."""
    alice = await console.available(ALICE)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    (offer,) = await console.offers(alice)
    assert (await console.accept(alice, offer["id"])).status_code == 200
    response = await console.accept(alice, offer["id"])
    assert (response.status_code, response.json()["code"]) == (409, "OFFER_ALREADY_ACCEPTED")


async def test_accepting_past_capacity_is_refused(
    create_call: CreateCall, telephony: Telephony, console: Console, database_url: str, tmp_path, key_pair
) -> None:
    """Alice's capacity is lowered below what her offer holds: 409 CAPACITY_EXCEEDED and the offer moves on."""
    from tests.routing.conftest import CONFIG, apply_config

    alice = await console.available(ALICE)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    (offer,) = await console.offers(alice)
    lowered = CONFIG.replace(
        "        skills: {english: 5, billing: 7}\n", "        skills: {english: 5, billing: 7}\n        capacity: 50\n"
    )
    assert lowered != CONFIG
    await apply_config(database_url, tmp_path, key_pair, lowered)
    response = await console.accept(alice, offer["id"])
    assert (response.status_code, response.json()["code"]) == (409, "CAPACITY_EXCEEDED")
    assert await console.offers(alice) == []


async def test_closing_another_agents_work_is_forbidden(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """403 NOT_YOUR_WORK for an agent; a supervisor may close it."""
    alice = await console.available(ALICE)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    work_id = (await console.take(alice))["workId"]
    bruno = await console.sign_in(BRUNO)
    response = await console.http.post(f"/console/v1/work/{work_id}/close", headers=bruno)
    assert (response.status_code, response.json()["code"]) == (403, "NOT_YOUR_WORK")
    sam = await console.sign_in(SAM)
    response = await console.http.post(f"/console/v1/work/{work_id}/close", headers=sam)
    assert response.json()["status"] == "Closed"


async def test_closing_closed_work_is_a_conflict(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """409 WORK_CLOSED the second time."""
    alice = await console.available(ALICE)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    work_id = (await console.take(alice))["workId"]
    await console.http.post(f"/console/v1/work/{work_id}/close", headers=alice)
    response = await console.http.post(f"/console/v1/work/{work_id}/close", headers=alice)
    assert (response.status_code, response.json()["code"]) == (409, "WORK_CLOSED")


async def test_a_supervisor_sees_every_agents_work(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """GET /console/v1/work: an agent sees their own, a supervisor everyone's."""
    alice = await console.available(ALICE)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    await console.take(alice)
    bruno = await console.sign_in(BRUNO)
    assert (await console.http.get("/console/v1/work", headers=bruno)).json() == []
    sam = await console.sign_in(SAM)
    (work,) = (await console.http.get("/console/v1/work", headers=sam)).json()
    assert (work["username"], work["status"]) == (ALICE, "Opened")


async def test_only_a_supervisor_sees_pending_routings(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """GET /console/v1/pending lists waiting PSRs for a supervisor; an agent gets 403 NOT_SUPERVISOR."""
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    alice = await console.sign_in(ALICE)
    response = await console.http.get("/console/v1/pending", headers=alice)
    assert (response.status_code, response.json()["code"]) == (403, "NOT_SUPERVISOR")
    sam = await console.sign_in(SAM)
    (pending,) = (await console.http.get("/console/v1/pending", headers=sam)).json()
    assert (pending["workItemId"], pending["queueName"]) == (call, "Support")
