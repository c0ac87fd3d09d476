"""A simulation run: check the server and the token, sign the agents in, start each planned call at its time,
show progress, let the calls in progress finish, sign the agents out and summarise."""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from callbridge.client import (
    NO_RETRY,
    AsyncCallbridgeClient,
    AuthenticationError,
    CallbridgeClientError,
    NotFoundError,
    TokenSigner,
)
from callbridge.simulator.agents import SimulatedAgent, Switchboard
from callbridge.simulator.calls import Call, RunContext
from callbridge.simulator.lifecycles import LIFECYCLES
from callbridge.simulator.scenarios import DEFAULT_MIX, Lifecycle, plan_calls
from callbridge.simulator.site import Site
from callbridge.simulator.stats import CallRecord, Outcome, Stage, Stats
from callbridge.simulator.summary import Summary, summarize

PROVIDER_NAME = "callbridge-simulator"
DRAIN_SECONDS = 300.0  # speech seconds the calls in progress get to finish once the last has started
SHOWN_STAGES = (Stage.IVR, Stage.WAITING, Stage.TALKING, Stage.ON_HOLD, Stage.AFTER_CALL)


class SimulationError(Exception):
    """The run cannot start: the server does not answer, refuses the token, or no agent can sign in."""


@dataclass(frozen=True)
class Options:
    base_url: str
    site: Site
    private_key: Path
    agents: tuple[tuple[str, str], ...]  # (username, password)
    calls: int
    duration: float  # seconds over which the calls start
    seed: int
    audience: str | None = None
    mix: Mapping[Lifecycle, int] = field(default_factory=lambda: dict(DEFAULT_MIX))
    pace: float = 1.0  # 2: everyone speaks (and waits) twice as fast


async def simulate(options: Options, *, progress: Console | None = None) -> Summary:
    """Run the simulation; ``progress`` shows live counts by stage on that console (None: nothing shown)."""
    plans = plan_calls(options.seed, options.calls, options.site, options.mix)
    run_id = secrets.token_hex(3)
    stats = Stats(calls=[CallRecord(plan, f"sim-{run_id}-{plan.index:03d}") for plan in plans])
    stats.agents_requested = len(options.agents)
    try:
        signer = TokenSigner.from_file(
            options.private_key, options.site.org_id, options.site.call_center, audience=options.audience
        )
    except (OSError, ValueError) as exc:
        raise SimulationError(f"cannot sign tokens with {options.private_key}: {exc}") from exc
    client = AsyncCallbridgeClient(options.base_url, signer, provider_name=PROVIDER_NAME, retry=NO_RETRY)
    switchboard = Switchboard()
    agents = [
        SimulatedAgent(
            options.base_url,
            username,
            password,
            org_id=options.site.org_id,
            switchboard=switchboard,
            stats=stats,
            pace=options.pace,
        )
        for username, password in options.agents
    ]
    started = time.monotonic()
    interrupted = False
    signed_in: list[SimulatedAgent] = []
    try:
        await _preflight(client)
        signed_in = await _sign_in(agents, stats)
        ctx = RunContext(client, switchboard, stats, signed_in, options.site, run_id, options.pace, random.Random())
        tasks = [
            asyncio.ensure_future(_play(ctx, record, record.plan.start * options.duration)) for record in stats.calls
        ]
        deadline = options.duration + DRAIN_SECONDS / options.pace
        try:
            await _wait(tasks, stats, deadline, progress)
        except asyncio.CancelledError:  # Ctrl-C: end the calls in progress properly, then summarise
            interrupted = True
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await asyncio.gather(*(agent.stop() for agent in signed_in), return_exceptions=True)
        for agent in agents:
            if agent not in signed_in:
                await agent.console.aclose()  # a no-op for those aborted at sign-in
        await client.aclose()
    return summarize(
        stats,
        base_url=options.base_url,
        seed=options.seed,
        run_id=run_id,
        duration=options.duration,
        pace=options.pace,
        elapsed=time.monotonic() - started,
        interrupted=interrupted,
    )


async def _preflight(client: AsyncCallbridgeClient) -> None:
    """The server answers and accepts the simulator's token (an unknown call is a 404 once the token is good)."""
    try:
        await client.get_voice_call("callbridge-simulator-preflight")
    except NotFoundError:
        return
    except AuthenticationError as exc:
        raise SimulationError(f"the server refused the simulator's token: {exc.code}: {exc.message}") from exc
    except CallbridgeClientError as exc:
        raise SimulationError(f"the server at {client.base_url} does not answer as expected: {exc}") from exc


async def _sign_in(agents: list[SimulatedAgent], stats: Stats) -> list[SimulatedAgent]:
    results = await asyncio.gather(*(agent.start() for agent in agents), return_exceptions=True)
    signed_in = []
    for agent, result in zip(agents, results, strict=True):
        if isinstance(result, BaseException):
            stats.agent_failures.append(f"{agent.username}: {result}")
            await agent.abort()
        else:
            signed_in.append(agent)
    stats.agents_signed_in = len(signed_in)
    if agents and not signed_in:
        raise SimulationError("no agent could sign in: " + "; ".join(stats.agent_failures))
    return signed_in


async def _play(ctx: RunContext, record: CallRecord, delay: float) -> None:
    """One call from its start time to its end, then what the server stored of it read back."""
    await asyncio.sleep(delay)
    call = Call(ctx, record)
    try:
        await LIFECYCLES[record.plan.lifecycle](call)
    except CallbridgeClientError as exc:
        record.outcome = Outcome.FAILED
        record.error = str(exc)[:300]
        await call.hang_up_quietly()
    except asyncio.CancelledError:
        record.outcome = record.outcome or Outcome.INTERRUPTED
        with contextlib.suppress(Exception):
            await asyncio.wait_for(call.hang_up_quietly("OTHER"), 10)
            await asyncio.wait_for(call.read_back(), 10)
        record.stage = Stage.DONE
        raise
    finally:
        for leg in call.legs:
            ctx.switchboard.forget(leg.id)
    record.stage = Stage.AFTER_CALL
    await call.read_back()
    record.stage = Stage.DONE


async def _wait(tasks: list[asyncio.Task[None]], stats: Stats, deadline: float, console: Console | None) -> None:
    """Until every call ended (or the deadline passed), refreshing the progress display."""
    progress = _progress(console)
    rows: dict[Stage, TaskID] = {}
    total = len(stats.calls)
    with progress:
        ended = progress.add_task("calls ended", total=total)
        for stage in SHOWN_STAGES:
            rows[stage] = progress.add_task(f"  {stage.value}", total=total)
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + deadline
        pending = set(tasks)
        while pending and loop.time() < stop_at:
            _, pending = await asyncio.wait(pending, timeout=0.25)
            counts = stats.stage_counts()
            progress.update(ended, completed=counts[Stage.DONE])
            for stage, row in rows.items():
                progress.update(row, completed=counts[stage])


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(bar_width=40),
        TextColumn("{task.completed:>4.0f}"),
        TimeElapsedColumn(),
        console=console,
        disable=console is None,
        transient=False,
    )
