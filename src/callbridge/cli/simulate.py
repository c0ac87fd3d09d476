"""``callbridge simulate``: realistic calls, agents and transcripts against a running server."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from callbridge.cli.tokens import parse_ttl
from callbridge.demo import AGENT_PASSWORD
from callbridge.simulator.run import Options, SimulationError, simulate
from callbridge.simulator.scenarios import DEFAULT_MIX, parse_mix
from callbridge.simulator.site import DEMO_CONFIG, DEMO_PRIVATE_KEY, Site, SiteError, load_site
from callbridge.simulator.summary import render


def parse_duration(value: str) -> int:
    """Seconds from ``60``, ``60s``, ``2m`` (or ``1h``)."""
    try:
        return parse_ttl(value)
    except typer.BadParameter as exc:
        raise typer.BadParameter(exc.message, param_hint="--duration") from None


def _site(config: Path, org_id: str | None, call_center: str | None, dialed: list[str], agents: list[str]) -> Site:
    if config.exists():
        site = load_site(config, org_id=org_id, call_center=call_center)
    elif org_id and call_center and dialed and agents:
        site = Site(org_id=org_id, call_center=call_center, dialed_numbers=())
    else:
        raise SiteError(
            f"no contact-centre file at {config}: run `callbridge demo` (or `make run`) first, pass --config, or "
            "give --org-id, --call-center, --dialed-number and --agent"
        )
    if dialed:
        site = Site(site.org_id, site.call_center, tuple(dialed), site.queues, site.agents, site.supervisors)
    return site


def _agents(site: Site, agent: list[str], count: int | None, password: str) -> tuple[tuple[str, str], ...]:
    named = agent or list(site.agents)
    pairs = []
    for item in named:
        username, separator, own = item.partition(":")
        pairs.append((username, own if separator else password))
    return tuple(pairs[:count] if count is not None else pairs)


def simulate_command(
    base_url: Annotated[str, typer.Option(help="The server's root URL (or its /telephony/v1 base).")] = (
        "http://127.0.0.1:8080"
    ),
    calls: Annotated[int, typer.Option(min=1, help="How many calls to place.")] = 20,
    duration: Annotated[
        str, typer.Option(help="The time over which the calls start: 60s, 2m or seconds; calls then finish.")
    ] = "60s",
    seed: Annotated[
        int | None, typer.Option(help="Makes the calls and what is said the same each run (default: random).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON instead of tables.")] = False,
    config: Annotated[
        Path, typer.Option(help="The contact-centre file: org, call center, dialed numbers, queues, agents.")
    ] = DEMO_CONFIG,
    org_id: Annotated[str | None, typer.Option(help="The org (JWT iss); default: the file's first.")] = None,
    call_center: Annotated[
        str | None, typer.Option(help="The call center (JWT sub); default: the org's first.")
    ] = None,
    private_key: Annotated[Path, typer.Option(help="The key that signs the telephony tokens.")] = DEMO_PRIVATE_KEY,
    audience: Annotated[
        str | None, typer.Option(help="Put this aud in each token (kvsTranscriber sends https://scrt.salesforce.com).")
    ] = None,
    dialed_number: Annotated[
        list[str], typer.Option(help="Numbers the callers dial (repeatable); default: the file's phone channels.")
    ] = [],  # noqa: B006 (typer needs a list default)
    agent: Annotated[
        list[str],
        typer.Option(help="USERNAME[:PASSWORD] of an agent to sign in (repeatable); default: the file's agents."),
    ] = [],  # noqa: B006
    agents: Annotated[
        int | None, typer.Option(min=0, help="Sign in only the first N of those agents (0: none).")
    ] = None,
    agent_password: Annotated[str, typer.Option(help="The password of agents named without one.")] = AGENT_PASSWORD,
    mix: Annotated[
        str | None,
        typer.Option(help="Lifecycle weights, e.g. inbound=5,missed=1 (default: " + _default_mix() + ")."),
    ] = None,
    pace: Annotated[
        float, typer.Option(min=0.1, max=50.0, help="2: everyone speaks (and waits) twice as fast as people do.")
    ] = 1.0,
) -> None:
    """Place realistic calls against a running server while simulated agents take them in the console.

    Each call follows a lifecycle drawn from the mix (inbound, transfer to a queue, consult, voicemail, missed,
    callback): legs, routing, utterances at speaking pace, real-time and post-call signals, the contact-record
    update. Progress is shown while it runs; a summary (or --json) at the end. With `make run` in another
    terminal, no option is needed.
    """
    err = Console(stderr=True)
    try:
        site = _site(config, org_id, call_center, dialed_number, agent)
        weights = parse_mix(mix) if mix else DEFAULT_MIX
    except (SiteError, ValueError) as exc:
        err.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from None
    options = Options(
        base_url=base_url,
        site=site,
        private_key=private_key,
        agents=_agents(site, agent, agents, agent_password),
        calls=calls,
        duration=parse_duration(duration),
        seed=seed if seed is not None else random.randrange(1_000_000),
        audience=audience,
        mix=weights,
        pace=pace,
    )
    if not json_output:
        _hints(err, options, demo=config.resolve() == DEMO_CONFIG.resolve())
    try:
        summary = asyncio.run(simulate(options, progress=None if json_output or not err.is_terminal else err))
    except SimulationError as exc:
        err.print(f"[red]error[/red] {exc}")
        raise typer.Exit(1) from None
    if json_output:
        sys.stdout.write(summary.model_dump_json(indent=2) + "\n")
    else:
        render(summary, Console())
    if summary.interrupted:
        raise typer.Exit(130)


def _default_mix() -> str:
    return ",".join(f"{kind.value}={weight}" for kind, weight in DEFAULT_MIX.items())


def _hints(console: Console, options: Options, *, demo: bool) -> None:
    root = options.base_url.rstrip("/").removesuffix("/telephony/v1")
    console.print(
        f"Placing {options.calls} calls over {options.duration}s against {root} "
        f"with {len(options.agents)} agents (seed {options.seed})."
    )
    password = f" (password {AGENT_PASSWORD})" if demo else ""
    if options.site.supervisors:
        console.print(f"Watch them at {root}/console/supervisor as {options.site.supervisors[0]}{password}.")
    simulated = {username for username, _ in options.agents}
    free = [username for username in options.site.agents if username not in simulated]
    if free:
        console.print(f"Take calls yourself at {root}/console as {free[0]}{password}.")
    else:
        console.print("(--agents N leaves the file's other agents free for you to take calls at /console.)")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_command)
