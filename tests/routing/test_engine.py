"""The engine: one offer at a time to the most idle eligible agent, push timeouts, decline, accept, capacity,
priority, skills and presence. Time is a frozen clock; the timer is ticked by hand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from callbridge.kit.clock import FrozenClock
from callbridge.kit.state import AppState
from callbridge.kit.uow import Actor, UnitOfWork
from callbridge.models import AgentState
from callbridge.routing import engine, repository, timers
from callbridge.routing.timers import Tick
from tests.routing.conftest import ALICE, ALICE_ID, BRUNO, CHEN, CHEN_ID, DANA, Console, Telephony
from tests.voice_calls.conftest import CreateCall

TickFn = Callable[[], Awaitable[Tick]]


async def test_an_offer_goes_to_one_agent_only(create_call: CreateCall, telephony: Telephony, console: Console) -> None:
    """Two eligible agents: exactly one of them is offered the call."""
    alice = await console.available(ALICE)
    bruno = await console.available(BRUNO)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    assert len(await console.offers(alice)) + len(await console.offers(bruno)) == 1


async def test_the_most_idle_agent_is_offered_first(
    create_call: CreateCall, telephony: Telephony, console: Console, clock: FrozenClock
) -> None:
    """Bruno has been available longer than Alice: he gets the offer."""
    bruno = await console.available(BRUNO)
    clock.advance(seconds=5)
    alice = await console.available(ALICE)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    assert len(await console.offers(bruno)) == 1
    assert await console.offers(alice) == []


async def test_only_queue_members_are_offered(create_call: CreateCall, telephony: Telephony, console: Console) -> None:
    """Chen is not in Support: a Support call waits rather than going to him."""
    chen = await console.available(CHEN)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    assert await console.offers(chen) == []
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert psr["offeredTo"] is None


async def test_an_expired_offer_moves_on(
    create_call: CreateCall, telephony: Telephony, console: Console, clock: FrozenClock, tick: TickFn
) -> None:
    """After the push timeout (20 s) the offer expires and the next eligible agent is offered the call."""
    bruno = await console.available(BRUNO)
    clock.advance(seconds=1)
    alice = await console.available(ALICE)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    (offer,) = await console.offers(bruno)
    clock.advance(seconds=19)
    assert (await tick()).expired == 0
    clock.advance(seconds=1)
    assert (await tick()).expired == 1
    assert await console.offers(bruno) == []
    assert [o["voiceCallId"] for o in await console.offers(alice)] == [call]
    assert (await console.accept(bruno, offer["id"])).json()["code"] == "OFFER_EXPIRED"
    kinds = await telephony.kinds(call)
    assert kinds[-3:] == ["routing.offer_made", "routing.offer_expired", "routing.offer_made"]


async def test_a_push_timeout_of_zero_never_expires(
    create_call: CreateCall, telephony: Telephony, console: Console, clock: FrozenClock, tick: TickFn
) -> None:
    """A direct route with push_timeout 0: the offer stands until answered."""
    chen = await console.available(CHEN)
    await telephony.omni_flow(await create_call(**{"from": "+12125550123"}), {"dialedNumber": "+14155550100"})
    (offer,) = await console.offers(chen)
    assert offer["expiresAt"] is None
    clock.advance(hours=1)
    assert (await tick()).expired == 0
    assert len(await console.offers(chen)) == 1


async def test_accepting_after_the_push_timeout_is_refused(
    create_call: CreateCall, telephony: Telephony, console: Console, clock: FrozenClock
) -> None:
    """Even before the timer runs, an accept past the push timeout is OFFER_EXPIRED and the offer moves on."""
    alice = await console.available(ALICE)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    (offer,) = await console.offers(alice)
    clock.advance(seconds=21)
    response = await console.accept(alice, offer["id"])
    assert (response.status_code, response.json()["code"]) == (409, "OFFER_EXPIRED")
    assert "routing.offer_expired" in await telephony.kinds(call)


async def test_a_decline_moves_on(
    create_call: CreateCall, telephony: Telephony, console: Console, clock: FrozenClock
) -> None:
    """Bruno declines: Alice is offered the call at once."""
    bruno = await console.available(BRUNO)
    clock.advance(seconds=1)
    alice = await console.available(ALICE)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    (offer,) = await console.offers(bruno)
    response = await console.decline(bruno, offer["id"])
    assert response.json() == {"id": offer["id"], "status": "Declined"}
    assert [o["voiceCallId"] for o in await console.offers(alice)] == [call]


async def test_the_only_agent_gets_a_declined_call_again_on_the_next_round(
    create_call: CreateCall, telephony: Telephony, console: Console, tick: TickFn
) -> None:
    """Nobody else is eligible: the timer's next round offers it again to the agent who declined."""
    alice = await console.available(ALICE)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    (offer,) = await console.offers(alice)
    await console.decline(alice, offer["id"])
    assert await console.offers(alice) == []
    await tick()
    assert len(await console.offers(alice)) == 1


async def test_accept_assigns_the_call(
    create_call: CreateCall,
    telephony: Telephony,
    console: Console,
    read_call: Callable[[str], Awaitable[dict[str, object]]],
) -> None:
    """Accept: AgentWork opened, the PSR removed, the call's agent and owner are the agent."""
    alice = await console.available(ALICE)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    accepted = await console.take(alice)
    assert accepted["voiceCallId"] == call
    assert accepted["workId"].startswith("0Bz")
    routing = await telephony.routing(call)
    assert routing["pendingServiceRoutings"] == []
    assert (routing["agent"], routing["ownerId"]) == (ALICE, "005XX0000000001AAA")
    stored = await read_call(call)
    assert (stored["agent"], stored["callAcceptDateTime"] is not None) == (ALICE, True)


async def test_capacity_is_held_until_the_work_closes(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """Alice (capacity 100) takes one call; a second waits until she closes the first."""
    alice = await console.available(ALICE)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    accepted = await console.take(alice)
    second = await create_call(vendorCallKey="second")
    await telephony.omni_flow(second, {"fallbackQueue": "Support"})
    assert await console.offers(alice) == []
    response = await console.http.post(f"/console/v1/work/{accepted['workId']}/close", headers=alice)
    assert response.json() == {"id": accepted["workId"], "status": "Closed"}
    assert [o["voiceCallId"] for o in await console.offers(alice)] == [second]


async def test_an_agent_with_more_capacity_takes_two_calls(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """Dana's capacity is 200: two voice calls at once, not three."""
    dana = await console.available(DANA)
    for key in ("one", "two", "three"):
        await telephony.omni_flow(await create_call(vendorCallKey=key), {"fallbackQueue": "Support"})
    assert len(await console.offers(dana)) == 2
    assert (await console.presence(dana, "Available"))["capacityUsed"] == 200


async def test_priority_then_age_decides_who_goes_first(
    create_call: CreateCall, telephony: Telephony, console: Console, clock: FrozenClock
) -> None:
    """Three waiting calls; the Spanish one (priority 0) goes first, then the oldest of the priority-1 calls."""
    older = await create_call(vendorCallKey="older")
    await telephony.omni_flow(older, {"fallbackQueue": "Support"})
    clock.advance(seconds=1)
    newer = await create_call(vendorCallKey="newer")
    await telephony.omni_flow(newer, {"fallbackQueue": "Support"})
    clock.advance(seconds=1)
    spanish = await create_call(vendorCallKey="spanish")
    await telephony.omni_flow(spanish, {"dialedNumber": "+14155550100", "flowInputParameters": {"language": "es"}})
    bruno = await console.available(BRUNO)
    assert [o["voiceCallId"] for o in await console.offers(bruno)] == [spanish]
    await console.take(bruno)
    alice = await console.available(ALICE)
    assert [o["voiceCallId"] for o in await console.offers(alice)] == [older]


async def test_skills_need_the_minimum_level(
    create_call: CreateCall, telephony: Telephony, console: Console, clock: FrozenClock
) -> None:
    """billing >= 5: Bruno (4) is passed over although he is the most idle; Dana (9) is offered the call."""
    bruno = await console.available(BRUNO)
    clock.advance(seconds=1)
    dana = await console.available(DANA)
    call = await create_call()
    await telephony.route(call, {"routingTarget": "Billing_Skills"})
    assert [o["voiceCallId"] for o in await console.offers(dana)] == [call]
    assert await console.offers(bruno) == []


async def test_the_preferred_agent_is_offered_first(
    create_call: CreateCall, telephony: Telephony, console: Console, clock: FrozenClock
) -> None:
    """A skills route preferring Bruno: he is offered it first even though Dana is more idle."""
    dana = await console.available(DANA)
    clock.advance(seconds=1)
    bruno = await console.available(BRUNO)
    call = await create_call(callAttributes='{"Department__c":"Billing"}')
    await telephony.omni_flow(call, {"dialedNumber": "+14155550100"})
    assert [o["voiceCallId"] for o in await console.offers(bruno)] == [call]
    assert await console.offers(dana) == []


async def test_going_busy_withdraws_offers(create_call: CreateCall, telephony: Telephony, console: Console) -> None:
    """Busy: the standing offer goes to another available agent."""
    alice = await console.available(ALICE)
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    bruno = await console.available(BRUNO)
    body = await console.presence(alice, "Busy")
    assert (body["presence"], body["capacityUsed"]) == ("Busy", 0)
    assert [o["voiceCallId"] for o in await console.offers(bruno)] == [call]


async def test_an_agent_becoming_available_gets_waiting_work(
    create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """A call waits with nobody available; going Available offers it at once."""
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    alice = await console.available(ALICE)
    assert [o["voiceCallId"] for o in await console.offers(alice)] == [call]


async def test_a_missed_call_keeps_its_psr_until_cleared(
    create_call: CreateCall, telephony: Telephony, clock: FrozenClock, tick: TickFn
) -> None:
    """Nobody takes it for an hour: the PSR is still there (the supervisor view shows it as stale)."""
    call = await create_call()
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    clock.advance(hours=1)
    await tick()
    assert len((await telephony.routing(call, ttl=7200))["pendingServiceRoutings"]) == 1


async def test_a_long_eligible_list_is_filtered_as_the_pages_come(
    create_call: CreateCall, telephony: Telephony, console: Console, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_LISTED eligible agents the query reads the org's Available agents page by page: Chen, the most
    idle, is not in Support and is skipped; Bruno, on a later page, is offered the call."""
    monkeypatch.setattr(engine, "MAX_LISTED", 0)
    monkeypatch.setattr(engine, "PAGE", 1)
    chen = await console.available(CHEN)
    clock.advance(seconds=1)
    bruno = await console.available(BRUNO)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    assert await console.offers(chen) == []
    assert len(await console.offers(bruno)) == 1


async def test_waiting_work_nobody_has_room_for_gives_the_timer_nothing_to_do(
    create_call: CreateCall, telephony: Telephony, console: Console, state: AppState, clock: FrozenClock
) -> None:
    """Alice's capacity is taken by one call and a second waits: a timer pass would offer nothing, so none is
    due (it would hold the write lock for nothing); once she has room again, the waiting call is due."""

    async def due() -> bool:  # what timers.tick probes before it takes the write lock
        async with state.database.read_session() as session:
            return await repository.expiry_due(session, clock.now()) or await repository.waiting_with_room(session)

    alice = await console.available(ALICE)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    await console.take(alice)
    await telephony.omni_flow(await create_call(vendorCallKey="second"), {"fallbackQueue": "Support"})
    assert not await due()
    async with state.unit_of_work(Actor("test")) as uow:  # room again, without the close's own dispatch
        agent_state = await uow.session.get(AgentState, ALICE_ID)
        assert agent_state is not None
        agent_state.capacity_used = 0
    assert await due()


async def test_a_pass_that_offered_nothing_is_not_repeated_until_something_moves(
    create_call: CreateCall,
    telephony: Telephony,
    console: Console,
    state: AppState,
    tick: TickFn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chen is Available with room but not in Support, so a waiting Support call is due and a pass offers
    nothing. The next passes skip the waiting work (each would try it against every agent again) until the
    agents' room changes, here as another process's commit would change it."""
    passes: list[str] = []
    real_dispatch = engine.dispatch

    async def counted(uow: UnitOfWork, org_id: str, **kwargs: Any) -> int:
        passes.append(org_id)
        return await real_dispatch(uow, org_id, **kwargs)

    monkeypatch.setattr(engine, "dispatch", counted)
    await console.available(CHEN)
    await telephony.omni_flow(await create_call(), {"fallbackQueue": "Support"})
    passes.clear()
    assert await tick() == Tick(0, 0, 0)
    assert len(passes) == 1
    assert await tick() == Tick(0, 0, 0)
    assert await tick() == Tick(0, 0, 0)
    assert len(passes) == 1
    async with state.unit_of_work(Actor("test")) as uow:
        chen = await uow.session.get(AgentState, CHEN_ID)
        assert chen is not None
        chen.capacity_used += 10
    assert await tick() == Tick(0, 0, 0)
    assert len(passes) == 2


async def test_a_dispatch_tries_each_kind_of_waiting_work_once_when_nobody_can_take_it(
    create_call: CreateCall,
    telephony: Telephony,
    console: Console,
    state: AppState,
    tick: TickFn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three Support calls and a Spanish call wait while only Chen (Sales) is Available: one search for an
    agent per kind of work, not per call, and the result is the same (nothing offered)."""
    searches: list[str | None] = []
    real_hold_first = engine._hold_first

    async def counted(uow: UnitOfWork, psr: Any, exclude: list[str]) -> tuple[str, str] | None:
        searches.append(psr.queue_name)
        return await real_hold_first(uow, psr, exclude)

    for queue, key in [("Support", "s1"), ("Support", "s2"), ("Spanish", "e1"), ("Support", "s3")]:
        await telephony.omni_flow(await create_call(vendorCallKey=key), {"fallbackQueue": queue})
    await console.available(CHEN)
    monkeypatch.setattr(engine, "_hold_first", counted)
    assert await tick() == Tick(0, 0, 0)
    assert sorted(searches) == ["Spanish", "Support"]


async def test_a_pass_expires_a_bounded_number_of_offers_the_next_ones_the_rest(
    create_call: CreateCall,
    telephony: Telephony,
    console: Console,
    clock: FrozenClock,
    tick: TickFn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With room for one expiry per pass, three offers past their push timeout take three passes, oldest
    first: no pass holds the write lock (and the event loop) for all of them at once."""
    monkeypatch.setattr(timers, "EXPIRE_PER_PASS", 1)
    for agent in (ALICE, BRUNO, DANA):
        await console.available(agent)
    for key in ("x1", "x2", "x3"):
        await telephony.omni_flow(await create_call(vendorCallKey=key), {"fallbackQueue": "Support"})
        clock.advance(seconds=1)
    clock.advance(seconds=20)
    assert [(await tick()).expired for _ in range(4)] == [1, 1, 1, 0]
