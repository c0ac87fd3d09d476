"""``callbridge flow test FLOW``: the decision and its rule, from the stored flow, touching no call."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner, Result

from callbridge.cli import flow
from tests.cli.conftest import typer_app


@pytest.fixture
def app() -> typer.Typer:
    return typer_app(flow)


def run(app: typer.Typer, *args: str) -> Result:
    return CliRunner().invoke(app, ["flow", "test", *args], env={"COLUMNS": "200"})


def test_prints_the_rule_that_decides(app: typer.Typer, configured: None) -> None:
    """input.language=es: rule 0 routes to the Spanish queue."""
    result = run(app, "Inbound_Support", "--input", "language=es")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == "decision: rule 1 matched: input.language = es"
    assert lines[2] == "route: queue Spanish, priority 0, push timeout 20 s"


def test_attributes_and_call_fields(app: typer.Typer, configured: None) -> None:
    """--attribute and --call reach attribute.* and call.* conditions."""
    billing = run(app, "Inbound_Support", "--attribute", "Department__c=Billing")
    assert "route: skills (billing >= 5), preferring bruno@example.com" in billing.stdout
    direct = run(app, "Inbound_Support", "--call", "from=+12125550123", "--org", "00DXX000000CONFAAA")
    assert "route: agent chen@example.com, priority 1, push timeout 0 s" in direct.stdout


def test_no_matching_rule_exits_1(app: typer.Typer, configured: None) -> None:
    """A flow that fails says so: the fallback queue would route."""
    result = run(app, "Never_Matches")
    assert result.exit_code == 1
    assert "decision: no rule matched (1 rule tried)" in result.stdout


def test_json_output(app: typer.Typer, configured: None) -> None:
    """--json: the decision as data."""
    result = run(app, "Transfers", "-i", "transferTarget=Sales", "--json")
    decision = json.loads(result.stdout)
    assert (decision["decided"], decision["ruleIndex"], decision["target"]["queue"]) == (True, 0, "Sales")


def test_unknown_flow_and_bad_pairs(app: typer.Typer, configured: None) -> None:
    """An unknown flow, a value without '=' and an unknown call field are refused."""
    assert "error: no flow 'Nope'" in run(app, "Nope").stderr
    assert run(app, "Transfers", "--input", "novalue").exit_code == 2
    assert "unknown call field 'colour'" in run(app, "Transfers", "--call", "colour=red").output
