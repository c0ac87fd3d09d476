"""A create that lost the race to a repeat of its vendorCallKey gives back the context or lease it claimed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from callbridge.kit import ids
from callbridge.kit.clock import FrozenClock
from callbridge.kit.state import AppState
from callbridge.outbound import repository
from tests.conftest import CALL_CENTER, ORG_ID
from tests.outbound.conftest import Post

CALLER, AFV_NUMBER = "+11800999932", "+15551234567"
PHANTOM = "0LQXX0000000000AAA"
CALL_CENTER_ID = ids.stable_id(ids.CALL_CENTER, ids.to_18(ORG_ID), CALL_CENTER)


async def test_an_unclaimed_context_correlates_the_next_call(
    create_context: Post,
    create_call: Callable[..., Awaitable[str]],
    read_call: Callable[[str], Awaitable[dict[str, Any]]],
    state: AppState,
    clock: FrozenClock,
) -> None:
    """Claimed for a call that was never created, then given back: the next matching call takes it."""
    correlation_id = (await create_context()).json()["handle"]["correlationId"]
    async with state.database.write_session() as session:
        assert await repository.claim_context(session, correlation_id, PHANTOM, clock.now())
        await repository.unclaim(session, PHANTOM)
        await session.commit()
    participants = [{"participantKey": CALLER, "type": "END_USER"}]
    await create_call(vendorCallKey="after-race", to=AFV_NUMBER, participants=participants, **{"from": CALLER})
    assert (await read_call("after-race"))["correlation"]["id"] == correlation_id


async def test_an_unclaimed_lease_holds_its_number_again(reserve: Post, state: AppState, clock: FrozenClock) -> None:
    """A lease given back holds its number again until it expires."""
    number = (await reserve()).json()["handle"]["routableNumber"]
    async with state.database.write_session() as session:
        lease = await repository.live_lease_for(session, CALL_CENTER_ID, number, clock.now())
        assert lease is not None
        assert await repository.claim_lease(session, lease.id, PHANTOM, clock.now())
        assert number not in await repository.held_numbers(session, CALL_CENTER_ID)
        await repository.unclaim(session, PHANTOM)
        await session.commit()
    async with state.database.read_session() as session:
        assert number in await repository.held_numbers(session, CALL_CENTER_ID)
