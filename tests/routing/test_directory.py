"""The routing directory (the configuration kept in each process): an apply takes effect at the next request of
every process, the configuration is read again only when a revision moved, and nothing that decides (presence,
capacity, who got an offer) is taken from it."""

from __future__ import annotations

from pathlib import Path

import httpx2

from callbridge.auth.certificates import KeyPair
from callbridge.kit import ids
from callbridge.kit.clock import FrozenClock
from callbridge.kit.state import AppState
from callbridge.routing.directory import AgentEntry, Directory, DirectoryCache, QueueEntry, cache_of
from tests.routing.conftest import ALICE, BRUNO, CHEN, CONFIG, DANA, Console, Telephony, apply_config
from tests.routing.test_concurrency import check_invariants
from tests.voice_calls.conftest import CreateCall

ALICE_QUEUES = "queues: [Support, SCV_BASIC_QUEUE, Voicemail]"


def with_alice_in(queues: str) -> str:
    """The test contact centre with Alice's queues changed."""
    assert CONFIG.count(ALICE_QUEUES) == 1
    return CONFIG.replace(ALICE_QUEUES, f"queues: [{queues}]")


async def reads(state: AppState) -> int:
    async with state.database.read_session() as session:
        return cache_of(session).reads


async def test_an_apply_adding_an_agent_to_a_queue_routes_to_them_at_the_next_request(
    state: AppState,
    create_call: CreateCall,
    telephony: Telephony,
    console: Console,
    database_url: str,
    tmp_path: Path,
    key_pair: KeyPair,
    clock: FrozenClock,
) -> None:
    """Alice is not in Sales: a Sales call waits. Once an apply adds her (another process's commit), the next
    request's dispatch offers it to her, without a restart."""
    alice = await console.available(ALICE)
    waiting = await create_call(vendorCallKey="sales-1")
    assert (await telephony.omni_flow(waiting, {"fallbackQueue": "Sales"})).status_code == 200
    assert await console.offers(alice) == []
    clock.advance(seconds=1)  # the waiting call is the older one
    before = await reads(state)
    await apply_config(database_url, tmp_path, key_pair, with_alice_in("Support, Sales"))
    assert (
        await telephony.omni_flow(await create_call(vendorCallKey="sales-2"), {"fallbackQueue": "Sales"})
    ).is_success
    (offer,) = await console.offers(alice)
    assert offer["voiceCallId"] == waiting
    assert await reads(state) == before + 1
    await check_invariants(database_url)


async def test_an_apply_removing_an_agent_from_a_queue_stops_their_offers_at_the_next_request(
    create_call: CreateCall,
    telephony: Telephony,
    console: Console,
    database_url: str,
    tmp_path: Path,
    key_pair: KeyPair,
) -> None:
    """Alice served Support until an apply took her out of it: the next Support call waits for someone else."""
    alice = await console.available(ALICE)
    before = await create_call(vendorCallKey="before")
    await telephony.omni_flow(before, {"fallbackQueue": "Support"})
    assert len(await console.offers(alice)) == 1
    await telephony.clear_routing(before)  # the offer is withdrawn: Alice has room again
    await apply_config(database_url, tmp_path, key_pair, with_alice_in("Voicemail"))
    call = await create_call(vendorCallKey="after")
    await telephony.omni_flow(call, {"fallbackQueue": "Support"})
    assert await console.offers(alice) == []
    (psr,) = (await telephony.routing(call))["pendingServiceRoutings"]
    assert psr["offeredTo"] is None


async def test_a_second_process_sees_an_apply_at_its_next_request(
    second_app: httpx2.AsyncClient,
    create_call: CreateCall,
    telephony: Telephony,
    console: Console,
    database_url: str,
    tmp_path: Path,
    key_pair: KeyPair,
    clock: FrozenClock,
) -> None:
    """Both apps read the configuration before the apply; the one that did not apply it routes by the new one."""
    other = Telephony(second_app, telephony.auth)
    alice = await console.available(ALICE)
    waiting = await create_call(vendorCallKey="warm")
    for routing in (telephony, other):
        assert (await routing.omni_flow(waiting, {"fallbackQueue": "Sales"})).is_success
    assert await console.offers(alice) == []
    clock.advance(seconds=1)  # the waiting call is the older one
    await apply_config(database_url, tmp_path, key_pair, with_alice_in("Sales"))
    assert (await other.omni_flow(await create_call(vendorCallKey="after"), {"fallbackQueue": "Sales"})).is_success
    (offer,) = await console.offers(alice)
    assert offer["voiceCallId"] == waiting  # the older call, offered by the dispatch of the second app
    await check_invariants(database_url)


async def test_the_configuration_is_read_again_only_when_a_revision_moved(
    state: AppState, create_call: CreateCall, telephony: Telephony, console: Console
) -> None:
    """Ten routings after the first read the configuration no more."""
    await console.available(BRUNO)
    await telephony.omni_flow(await create_call(vendorCallKey="first"), {"fallbackQueue": "Support"})
    before = await reads(state)
    for n in range(10):
        response = await telephony.omni_flow(await create_call(vendorCallKey=f"k{n}"), {"fallbackQueue": "Support"})
        assert response.status_code == 200
    assert await reads(state) == before


async def test_presence_changed_by_another_process_is_honoured_at_once(
    second_app: httpx2.AsyncClient, create_call: CreateCall, telephony: Telephony, console: Console, database_url: str
) -> None:
    """Presence is never taken from memory: Alice went Busy through the other app, so Support goes to Dana."""
    alice = await console.available(ALICE)
    dana = await console.available(DANA)
    await telephony.omni_flow(await create_call(vendorCallKey="warm"), {"fallbackQueue": "Sales"})
    await Console(second_app).presence(alice, "Busy")
    await telephony.omni_flow(await create_call(vendorCallKey="after"), {"fallbackQueue": "Support"})
    assert await console.offers(alice) == []
    assert len(await console.offers(dana)) == 1
    await check_invariants(database_url)


async def test_a_full_agent_is_passed_over_whatever_the_directory_says(
    create_call: CreateCall, telephony: Telephony, console: Console, database_url: str
) -> None:
    """Eligibility comes from the directory, room from the database: Chen (capacity 100) takes one Sales call,
    the second waits."""
    chen = await console.available(CHEN)
    first, second = await create_call(vendorCallKey="s1"), await create_call(vendorCallKey="s2")
    for call in (first, second):
        assert (await telephony.omni_flow(call, {"fallbackQueue": "Sales"})).status_code == 200
    (offer,) = await console.offers(chen)
    assert offer["voiceCallId"] == first
    (psr,) = (await telephony.routing(second))["pendingServiceRoutings"]
    assert psr["offeredTo"] is None
    await check_invariants(database_url)


async def test_a_transaction_older_than_the_kept_revision_does_not_replace_it(state: AppState) -> None:
    """A request that began before an apply reads the revision it sees; the newer directory stays kept."""
    cache = DirectoryCache()
    async with state.database.read_session() as session:
        newer = await cache.at(session, 7)
        older = await cache.at(session, 6)
        assert (newer.revision, older.revision) == (7, 6)
        assert cache.current is newer
        assert await cache.at(session, 7) is newer
        assert cache.reads == 2


def test_agents_are_found_by_every_name_and_queues_by_membership() -> None:
    """User id (15 or 18 characters), username and external id; queue members and skill levels."""
    org = "00DXX000000CONFAAA"
    alice = AgentEntry("005XX0000000001AAA", org, ALICE, "arn:a", frozenset({"Support"}), {"english": 5}, 100)
    bruno = AgentEntry("005XX0000000002AAA", org, BRUNO, None, frozenset({"Support", "Sales"}), {"english": 3}, 100)
    support = QueueEntry(ids.to_18("00GXX0000000001"), org, "Support", "arn:q")
    directory = Directory(1, [support], [alice, bruno], [], [])
    for reference in ("005XX0000000001", "005XX0000000001AAA", ALICE, "arn:a"):
        assert directory.agent(org, reference) is alice
    assert directory.agent("00DXX000000OTHERAA", ALICE) is None
    assert directory.queue(org, "arn:q") is support and directory.queue(org, support.id[:15]) is support
    assert directory.eligible(org, "Support", {}) == {alice.user_id, bruno.user_id}
    assert directory.eligible(org, "Sales", {}) == {bruno.user_id}
    assert directory.eligible(org, "Support", {"english": 4}) == {alice.user_id}
    assert directory.eligible(org, None, {"english": 3}) == {alice.user_id, bruno.user_id}
    assert directory.eligible(org, None, {"spanish": 1}) == set()
