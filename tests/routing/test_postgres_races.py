"""Interleavings only PostgreSQL allows: there, two transactions of one app run at once (READ COMMITTED), while
SQLite queues every writer behind one lock. Skipped on SQLite, where they cannot happen."""

from __future__ import annotations

import httpx2
import pytest

from callbridge.kit.state import AppState
from callbridge.kit.uow import Actor
from callbridge.routing import engine, repository
from tests.conftest import POSTGRES_URL
from tests.routing.conftest import ALICE, Console, Telephony
from tests.routing.test_concurrency import check_invariants
from tests.voice_calls.conftest import CreateCall

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason="needs PostgreSQL (CALLBRIDGE_TEST_POSTGRES_URL)")


async def test_removing_a_psr_offered_since_it_was_read_withdraws_the_offer(
    state: AppState,
    client: httpx2.AsyncClient,
    create_call: CreateCall,
    telephony: Telephony,
    console: Console,
    database_url: str,
) -> None:
    """clearRouting reads a waiting PSR; before it deletes it, another request offers it and commits. The
    removal withdraws that offer too: no offer outlives its PSR, no capacity stays held."""
    call = await create_call()
    assert (await telephony.omni_flow(call, {"fallbackQueue": "Support"})).status_code == 200
    async with state.unit_of_work(Actor("test:clear")) as clearing:
        psr = await repository.psr_of_work_item(clearing.session, call)
        assert psr is not None and psr.offer_id is None
        alice = await console.available(ALICE)  # its own transaction offers the PSR to Alice and commits
        (offer,) = await console.offers(alice)
        assert await engine.remove_psr(clearing, psr, "cleared by the test")
    assert await console.offers(alice) == []
    await check_invariants(database_url)
    assert offer["id"] not in {o["id"] for o in await console.offers(alice)}
