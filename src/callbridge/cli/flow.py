"""``callbridge flow test FLOW``: what a flow decides for given inputs, attributes and call fields, and the
rule that decides it, without touching any call."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from sqlalchemy import select

from callbridge.config import get_settings
from callbridge.contact_center.schemas import CALL_FIELDS
from callbridge.kit.db import Database
from callbridge.models import Flow
from callbridge.routing.decide import Target, resolve_route
from callbridge.routing.flows import FlowContext, evaluate

flow_app = typer.Typer(help="Omni-Channel flows: try one out.", no_args_is_help=True)


def _pairs(values: list[str], option: str, allowed: frozenset[str] | None = None) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{value!r} is not KEY=VALUE", param_hint=option)
        key = key.removeprefix("call.") if allowed is not None else key
        if allowed is not None and f"call.{key}" not in allowed:
            fields = ", ".join(sorted(name.removeprefix("call.") for name in allowed))
            raise typer.BadParameter(f"unknown call field {key!r} (fields: {fields})", param_hint=option)
        pairs[key] = text
    return pairs


@dataclass
class Outcome:
    flow: Flow
    matched: bool
    rule_index: int | None
    reason: str
    route: dict[str, Any] | None
    target: Target | str | None


async def _decide(database_url: str, name: str, org: str | None, context: FlowContext, push_timeout: int) -> Outcome:
    database = Database(database_url)
    try:
        async with database.read_session() as session:
            query = select(Flow).where((Flow.api_name == name) | (Flow.id == name))
            flows = [f for f in (await session.scalars(query)).all() if org is None or f.org_id[:15] == org[:15]]
            if not flows:
                raise LookupError(f"no flow {name!r}" + (f" in org {org}" if org else ""))
            if len(flows) > 1:
                orgs = ", ".join(sorted(f.org_id for f in flows))
                raise LookupError(f"flow {name!r} exists in several orgs ({orgs}): choose one with --org")
            flow = flows[0]
            evaluation = evaluate(flow.definition, context)
            if evaluation.match is None:
                return Outcome(flow, False, None, evaluation.reason, None, None)
            route = dict(evaluation.match.route)
            target = await resolve_route(session, flow.org_id, route, push_timeout)
            return Outcome(flow, not isinstance(target, str), evaluation.match.index, evaluation.reason, route, target)
    finally:
        await database.dispose()


@flow_app.command("test")
def test_flow(
    flow: Annotated[str, typer.Argument(help="The flow's API name (or its 300 id).")],
    inputs: Annotated[list[str], typer.Option("--input", "-i", help="A flow input, KEY=VALUE (input.KEY).")] = [],  # noqa: B006
    attributes: Annotated[
        list[str], typer.Option("--attribute", "-a", help="A call attribute, KEY=VALUE (attribute.KEY).")
    ] = [],  # noqa: B006
    call: Annotated[
        list[str], typer.Option("--call", "-c", help="A call field, FIELD=VALUE (from, to, initiationMethod, ...).")
    ] = [],  # noqa: B006
    org: Annotated[str | None, typer.Option("--org", help="The org id, when the flow exists in several.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Evaluate FLOW and print its decision and the rule that made it. Exit status 1 when the flow fails (no
    rule matches, or the matching rule names an unknown target): the caller's fallback queue would route."""
    context = FlowContext(
        inputs=_pairs(inputs, "--input"),
        attributes=_pairs(attributes, "--attribute"),
        call=_pairs(call, "--call", CALL_FIELDS),
    )
    settings = get_settings()
    try:
        outcome = asyncio.run(_decide(settings.database_url, flow, org, context, settings.routing_push_timeout_seconds))
    except LookupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    target = outcome.target if isinstance(outcome.target, Target) else None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "flow": outcome.flow.api_name,
                    "flowId": outcome.flow.id,
                    "org": outcome.flow.org_id,
                    "decided": outcome.matched,
                    "ruleIndex": outcome.rule_index,
                    "reason": outcome.reason,
                    "route": outcome.route,
                    "target": target.as_data() if target else None,
                    "problem": outcome.target if isinstance(outcome.target, str) else None,
                },
                indent=2,
            )
        )
    else:
        typer.echo(f"flow {outcome.flow.api_name} ({outcome.flow.id}) of org {outcome.flow.org_id}")
        typer.echo(f"decision: {outcome.reason}")
        if target is not None:
            typer.echo(f"route: {target.describe()}")
        elif isinstance(outcome.target, str):
            typer.echo(f"the rule's route names an {outcome.target}: the flow fails, the fallback queue would route")
        else:
            typer.echo("the flow fails: the fallback queue would route the call")
    if not outcome.matched:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(flow_app, name="flow")
