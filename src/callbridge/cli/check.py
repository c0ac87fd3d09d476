"""``callbridge check URL``: run the conformance checks against a server and print a pass/fail table."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from callbridge.check import CheckConfig, CheckResult, Status, run_checks
from callbridge.client import load_private_key
from callbridge.demo import AGENT_PASSWORD
from callbridge.simulator.site import DEMO_CONFIG, DEMO_PRIVATE_KEY, Site, SiteError, load_site

_STYLE = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.SKIP: "yellow"}


def check(
    url: Annotated[
        str,
        typer.Argument(help="The server: its root (http://127.0.0.1:8080) or API base (…/telephony/v1)."),
    ],
    org: Annotated[
        str | None, typer.Option("--org", help="Org id (15 or 18 characters): the tokens' iss. Default: the file's.")
    ] = None,
    call_center: Annotated[
        str | None,
        typer.Option("--call-center", help="Call center API name: the tokens' sub. Default: the file's first."),
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            help=f"PEM file of the call center's RSA private key. Default: {DEMO_PRIVATE_KEY} with the demo file.",
            dir_okay=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help=f"A contact-centre file giving the defaults of --org, --call-center, --queue, --dialed-number and "
            f"--agent. Default: {DEMO_CONFIG} (written by `callbridge demo`) when --org or --call-center is missing.",
            dir_okay=False,
        ),
    ] = None,
    audience: Annotated[
        str | None, typer.Option("--audience", help="An aud claim for every token (the Lambdas send none).")
    ] = None,
    queue: Annotated[
        str | None,
        typer.Option("--queue", help="A queue the call center routes to (API name or id): enables routing checks."),
    ] = None,
    dialed_number: Annotated[
        str | None,
        typer.Option("--dialed-number", help="A phone channel's number: enables the omniFlow dialedNumber check."),
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option("--agent", help="An agent's console username: enables the hold and paused-recording checks."),
    ] = None,
    agent_password: Annotated[
        str | None,
        typer.Option("--agent-password", envvar="CALLBRIDGE_CHECK_AGENT_PASSWORD", help="That agent's password."),
    ] = None,
    bulk_max_entries: Annotated[
        int,
        typer.Option(
            help="The server's bulk transcript entry limit (5 for Salesforce or CALLBRIDGE_LIMITS=salesforce)."
        ),
    ] = 100,
    bulk_max_messages: Annotated[
        int,
        typer.Option(
            help="The server's bulk messages-per-entry limit (5 for Salesforce or CALLBRIDGE_LIMITS=salesforce)."
        ),
    ] = 100,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Run only checks whose name matches this glob (repeatable), e.g. 'auth.*'."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON instead of a table.")] = False,
    limit_calls_per_second: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="The server's new VoiceCalls per second when it enforces Salesforce's limits: enables their check.",
        ),
    ] = None,
) -> None:
    """Check that a server speaks the Telephony Integration API as Salesforce's clients expect.

    Runs the documented lifecycles and edge cases (create, idempotent re-create, update and close, transfer
    legs, transcripts single and bulk, auth refusals, real clients' quirks, routing, conversation events)
    and prints a pass/fail table with the reason for each failure. Every call it creates has a
    vendorCallKey starting 'cbcheck-'. Exit status: 0 when nothing failed, 1 otherwise.

    After `make run`, `callbridge check http://127.0.0.1:8080` needs no options: the org, call center, key,
    a queue, a dialed number and an agent (with the demo password) come from the demo's files in var/demo.
    """
    site = _site(config, org, call_center)
    demo = site is not None and (config is None or config.resolve() == DEMO_CONFIG.resolve())
    if site is not None:
        queue = queue or next((q.api_name for q in site.queues), None)
        dialed_number = dialed_number or next(iter(site.dialed_numbers), None)
        if agent is None and demo and site.agents:
            agent, agent_password = site.agents[0], agent_password or AGENT_PASSWORD
    key = key or (DEMO_PRIVATE_KEY if demo else None)
    if key is None:
        raise typer.BadParameter("give the call center's private key.", param_hint="--key")
    try:
        pem = key.read_bytes()
    except OSError as exc:
        hint = " (run `callbridge demo` or `make run` first)" if key == DEMO_PRIVATE_KEY else ""
        raise typer.BadParameter(f"cannot read {key}: {exc.strerror}{hint}.", param_hint="--key") from exc
    try:
        load_private_key(pem)
    except ValueError as exc:
        raise typer.BadParameter(f"{key}: {exc}.", param_hint="--key") from exc
    settings = CheckConfig(
        base_url=url,
        org_id=org or site.org_id if site else org or "",
        call_center_api_name=call_center or site.call_center if site else call_center or "",
        private_key_pem=pem,
        audience=audience,
        queue=queue,
        dialed_number=dialed_number,
        agent_username=agent,
        agent_password=agent_password,
        bulk_max_entries=bulk_max_entries,
        bulk_max_messages=bulk_max_messages,
        timeout=timeout,
        limit_calls_per_second=limit_calls_per_second,
    )
    console = _console()
    try:
        results = asyncio.run(run_checks(settings, only=only or ()))
    except ValueError as exc:  # an unusable URL
        raise typer.BadParameter(str(exc), param_hint="URL") from exc
    if as_json:
        typer.echo(json.dumps(report(url, results), indent=2))
    else:
        render(console, url, results)
    raise typer.Exit(1 if any(result.status is Status.FAIL for result in results) else 0)


def _site(config: Path | None, org: str | None, call_center: str | None) -> Site | None:
    """The contact centre whose values fill in the options not given: the file given with --config, else the
    demo's when --org or --call-center is missing; None when both are given and no file is."""
    if config is None and org is not None and call_center is not None:
        return None
    path = config or DEMO_CONFIG
    try:
        return load_site(path, org_id=org, call_center=call_center)
    except SiteError as exc:
        hint = "" if config else "; run `callbridge demo` (or `make run`) first, or give --org, --call-center and --key"
        raise typer.BadParameter(f"{exc}{hint}.", param_hint="--config" if config else "--org") from exc


def report(url: str, results: list[CheckResult]) -> dict[str, object]:
    """The ``--json`` document: counts and one object per check."""
    counts = {status.value: sum(1 for r in results if r.status is status) for status in Status}
    return {
        "url": url,
        "passed": counts["pass"],
        "failed": counts["fail"],
        "skipped": counts["skip"],
        "results": [result.as_dict() for result in results],
    }


def render(console: Console, url: str, results: list[CheckResult]) -> None:
    table = Table(title=f"callbridge check {url}", title_justify="left")
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("expectation")
    table.add_column("reason / note")
    for result in results:
        table.add_row(
            result.name,
            f"[{_STYLE[result.status]}]{result.status.value.upper()}[/]",
            result.expectation,
            result.reason or "",
        )
    console.print(table)
    counts = report(url, results)
    console.print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped.")


def _console() -> Console:
    """Rich output; wide when not on a terminal, so piped tables keep whole reasons."""
    console = Console()
    return console if console.is_terminal else Console(width=220)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
