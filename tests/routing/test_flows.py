"""Flow rules as data: conditions over inputs, attributes and call fields; the first matching rule wins."""

from __future__ import annotations

from typing import Any

import pytest

from callbridge.routing.flows import FlowContext, evaluate


def flow(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"rules": list(rules)}


def decide(definition: dict[str, Any], **context: Any) -> int | None:
    evaluation = evaluate(definition, FlowContext(**context))
    return evaluation.match.index if evaluation.match else None


def test_first_matching_rule_wins() -> None:
    """Rules are tried in order; a later rule that also holds is not used."""
    definition = flow({"when": {"input.a": "1"}, "route": {"queue": "A"}}, {"route": {"queue": "B"}})
    assert decide(definition, inputs={"a": "1"}) == 0
    assert decide(definition, inputs={"a": "2"}) == 1


def test_a_plain_value_means_equality_compared_as_text() -> None:
    """A YAML 5 or true matches the strings "5" and "true" that Amazon Connect sends."""
    definition = flow({"when": {"input.n": 5, "input.vip": True}, "route": {"queue": "A"}})
    assert decide(definition, inputs={"n": "5", "vip": "true"}) == 0
    assert decide(definition, inputs={"n": "6", "vip": "true"}) is None


@pytest.mark.parametrize(
    ("condition", "value", "holds"),
    [
        ({"in": ["gold", "platinum"]}, "gold", True),
        ({"in": ["gold", "platinum"]}, "silver", False),
        ({"prefix": "+1415"}, "+14155550123", True),
        ({"prefix": "+1415"}, "+12125550123", False),
        ({"exists": True}, "x", True),
        ({"exists": True}, None, False),
        ({"exists": False}, None, True),
        ({"not": "es"}, "fr", True),
        ({"not": "es"}, "es", False),
        ({"not": {"in": ["a", "b"]}}, "c", True),
        ({"equals": "es", "not": {"prefix": "x"}}, "es", True),
        ({"prefix": "+1"}, None, False),
    ],
)
def test_operators(condition: Any, value: Any, holds: bool) -> None:
    """equals, in, prefix, exists and not behave as documented; a missing value fails all but exists/not."""
    inputs = {} if value is None else {"k": value}
    assert (decide(flow({"when": {"input.k": condition}, "route": {"queue": "A"}}), inputs=inputs) == 0) is holds


def test_attributes_and_call_fields_are_read() -> None:
    """attribute.* reads the call's attributes and call.* its fields."""
    definition = flow(
        {"when": {"attribute.Department__c": "Billing", "call.from": {"prefix": "+1415"}}, "route": {"queue": "A"}}
    )
    assert decide(definition, attributes={"Department__c": "Billing"}, call={"from": "+14155550123"}) == 0
    assert decide(definition, attributes={"Department__c": "Sales"}, call={"from": "+14155550123"}) is None


def test_no_match_is_a_failure_with_a_reason() -> None:
    """When no rule holds the flow fails and says how many rules it tried."""
    evaluation = evaluate(flow({"when": {"input.a": "1"}, "route": {"queue": "A"}}), FlowContext())
    assert not evaluation.matched
    assert evaluation.reason == "no rule matched (1 rule tried)"


def test_the_reason_names_the_rule_and_its_conditions() -> None:
    """A match explains itself: the rule index and each condition that held."""
    evaluation = evaluate(
        flow({"when": {"input.language": "es", "call.to": {"in": ["+1", "+2"]}}, "route": {"queue": "A"}}),
        FlowContext(inputs={"language": "es"}, call={"to": "+2"}),
    )
    assert evaluation.reason == "rule 1 matched: input.language = es; call.to in [+1, +2]"
